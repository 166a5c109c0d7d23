"""The admin, for support staff: clinical records read only, every read of one logged as the application's are;
people's accounts kept, with who may change roles and teams limited (docs/design.md, Access and audit)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from recovery_reviews.audit import record_access
from recovery_reviews.models import Team, User

# What gives a person access to patients' records: only a superuser changes them, and nobody their own.
ACCESS_FIELDS = ("role", "team", "managed_teams", "is_staff", "is_superuser", "groups", "user_permissions")


class ReadMostlyAdmin(admin.ModelAdmin):
    """Support staff look things up; clinical records are changed in the application, through its services,
    where the schedule is recomputed and the change audited. Nothing clinical is deleted from here. Every record
    shown, on its own page or in a list, is logged as an access by the person who saw it, as in the application
    (record_access): the patient's access log says who looked, from where."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = getattr(response, "context_data", {}).get("original") if response.status_code == 200 else None
        if obj is not None:
            record_access(request, obj)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None and response.status_code == 200:
            for obj in changelist.result_list:
                record_access(request, obj)
        return response

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "weekly_review_capacity"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "team", "is_active"]
    list_filter = ["role", "team", "is_active"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Role", {"fields": ["role", "team", "managed_teams", "email_reminders"]}),
    )
    filter_horizontal = ["managed_teams", "groups", "user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        """Support staff keep accounts (names, email, active, password reset); roles and teams, which give access
        to patients, are a superuser's to change, and nobody changes their own: a support account cannot make
        itself a manager of a team and read its patients."""
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser or (obj is not None and obj.pk == request.user.pk):
            readonly += [name for name in ACCESS_FIELDS if name not in readonly]
        return readonly
