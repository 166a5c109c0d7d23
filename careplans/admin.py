from django.contrib import admin

from careplans import models
from recovery_reviews.admin import ReadMostlyAdmin


@admin.register(models.Goal)
class GoalAdmin(ReadMostlyAdmin):
    list_display = ["description", "domain", "progress", "self_managed", "target_date"]
    list_filter = ["domain", "progress", "self_managed"]
    search_fields = ["description"]
