from django.contrib import admin

from recovery_reviews.admin import ReadMostlyAdmin
from reviews import models


@admin.register(models.StrategicReview)
class StrategicReviewAdmin(ReadMostlyAdmin):
    list_display = ["episode", "held_on", "lead", "status", "completed_on", "agreed_next_date"]
    list_filter = ["status", "patient_took_part"]
    search_fields = ["episode__patient__family_name"]
    date_hierarchy = "held_on"
    list_select_related = ["episode__patient", "lead"]


@admin.register(models.UnmetNeed)
class UnmetNeedAdmin(ReadMostlyAdmin):
    list_display = ["kind", "category", "recorded_on", "episode"]
    list_filter = ["kind", "category"]
    search_fields = ["description"]


@admin.register(models.Reminder)
class ReminderAdmin(ReadMostlyAdmin):
    list_display = ["recipient", "stage", "kind", "target", "claimed_at", "delivered_at", "attempts"]
    list_filter = ["stage", "kind"]


admin.site.register(models.RecoveryCheckUp, ReadMostlyAdmin)
