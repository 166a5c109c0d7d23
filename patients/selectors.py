"""Reads of the clinical record for pages (CONVENTIONS.md 3). Every queryset starts from the access door."""

from django.db.models import QuerySet

from patients.models import TreatmentEpisode
from recovery_reviews.access import episodes_for_user


def caseload_for_user(user) -> QuerySet[TreatmentEpisode]:
    """Open episodes in the user's scope, soonest review first (episodes with nothing due last)."""
    return (
        episodes_for_user(user)
        .filter(next_review_target__isnull=False)
        .select_related("patient", "patient__keyworker", "patient__team")
        .order_by("next_review_target", "patient__family_name", "pk")
    )
