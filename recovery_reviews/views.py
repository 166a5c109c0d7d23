from django.shortcuts import redirect

from recovery_reviews.models import Role


def home(request):
    """Send each person to where their day starts."""
    if request.user.role == Role.MANAGER:
        return redirect("reviews:dashboard")
    if request.user.role == Role.INFORMATION_GOVERNANCE:
        return redirect("access_log_search")
    return redirect("patients:caseload")
