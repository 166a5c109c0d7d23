from django.contrib import admin

from patients import models
from recovery_reviews.admin import ReadMostlyAdmin


@admin.register(models.Patient)
class PatientAdmin(ReadMostlyAdmin):
    list_display = ["family_name", "given_name", "date_of_birth", "nhs_number", "team", "keyworker"]
    list_filter = ["team"]
    search_fields = ["family_name", "given_name", "nhs_number"]
    list_select_related = ["team", "keyworker"]


@admin.register(models.TreatmentEpisode)
class TreatmentEpisodeAdmin(ReadMostlyAdmin):
    list_display = [
        "patient",
        "entry_date",
        "exit_date",
        "primary_drug",
        "next_review_kind",
        "next_review_target",
        "next_review_deadline",
    ]
    list_filter = ["primary_drug", "exit_reason", "next_review_kind", "patient__team"]
    search_fields = ["patient__family_name", "patient__nhs_number"]
    date_hierarchy = "entry_date"
    list_select_related = ["patient"]


class WithEntriesInErrorAdmin(ReadMostlyAdmin):
    """Support sees every entry, including those marked entered in error (which the default manager hides)."""

    def get_queryset(self, request):
        queryset = self.model.with_errors.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    @admin.display(boolean=True, description="Entered in error")
    def in_error(self, obj):
        return obj.is_entered_in_error


@admin.register(models.PharmacyReport)
class PharmacyReportAdmin(WithEntriesInErrorAdmin):
    list_display = [
        "episode",
        "pharmacy_name",
        "period_start",
        "period_end",
        "doses_due",
        "missed_dose_run",
        "in_error",
    ]
    list_filter = ["pharmacy_name"]
    search_fields = ["pharmacy_name", "episode__patient__family_name"]
    list_select_related = ["episode__patient"]


@admin.register(models.DrugTest)
class DrugTestAdmin(WithEntriesInErrorAdmin):
    list_display = ["episode", "taken_on", "method", "in_error"]
    list_filter = ["method"]
    search_fields = ["episode__patient__family_name"]
    list_select_related = ["episode__patient"]


@admin.register(models.TopAssessment)
class TopAssessmentAdmin(WithEntriesInErrorAdmin):
    list_display = ["episode", "assessed_on", "stage", "in_error"]
    list_filter = ["stage"]
    search_fields = ["episode__patient__family_name"]
    list_select_related = ["episode__patient"]


for model in (
    models.Appointment,
    models.Intervention,
    models.DispensingArrangement,
    models.EpisodeCircumstance,
):
    admin.site.register(model, ReadMostlyAdmin)


@admin.register(models.CareTeamChange)
class CareTeamChangeAdmin(ReadMostlyAdmin):
    list_display = [
        "patient",
        "changed_on",
        "from_keyworker",
        "to_keyworker",
        "from_team",
        "to_team",
        "recorded_by",
    ]
    list_filter = ["to_team"]
    search_fields = ["patient__family_name", "patient__nhs_number", "reason"]
    list_select_related = ["patient", "from_keyworker", "to_keyworker", "from_team", "to_team", "recorded_by"]


@admin.register(models.RecordCorrection)
class RecordCorrectionAdmin(ReadMostlyAdmin):
    list_display = ["patient", "label", "before", "after", "corrected_by", "corrected_at"]
    search_fields = ["patient__family_name", "patient__nhs_number", "reason"]
    list_select_related = ["patient", "corrected_by"]
