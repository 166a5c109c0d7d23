from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from reviews.dashboards import STATUSES, status_counts_by_team
from reviews.status import STATUS_LABELS


def dashboard(request):
    today = timezone.localdate()
    return render(
        request,
        "reviews/dashboard.html",
        {
            "today": today,
            "rows": status_counts_by_team(request.user, today=today),
            "statuses": [(s, STATUS_LABELS[s]) for s in STATUSES],
        },
    )


urlpatterns = [path("dashboard/", dashboard, name="dashboard")]
