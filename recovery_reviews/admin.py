from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from recovery_reviews.models import Team, User


class ReadMostlyAdmin(admin.ModelAdmin):
    """Support staff look things up; clinical records are changed in the application, through its services,
    where the schedule is recomputed and the change audited. Nothing clinical is deleted from here."""

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
