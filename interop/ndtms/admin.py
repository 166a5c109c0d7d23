"""The NDTMS return in the admin: support staff set each team's agency code; consent decisions are read only here
(they are recorded in the application, on the patient's NDTMS consent page, by the people who care for them)."""

from django.contrib import admin

from interop.ndtms.models import NdtmsAgency, NdtmsConsent
from recovery_reviews.admin import ReadMostlyAdmin


@admin.register(NdtmsAgency)
class NdtmsAgencyAdmin(admin.ModelAdmin):
    list_display = ("team", "agency_code")
    search_fields = ("team__name", "agency_code")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(NdtmsConsent)
class NdtmsConsentAdmin(ReadMostlyAdmin):
    list_display = ("patient", "consented", "decided_on", "recorded_by", "recorded_at")
    list_select_related = ("patient", "recorded_by")
    readonly_fields = ("patient", "consented", "decided_on", "recorded_by", "recorded_at")
