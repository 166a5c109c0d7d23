"""Writes to the organisation (docs/conventions.md 3)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from recovery_reviews.models import Role, Team


@transaction.atomic
def team_capacity_set(*, team: Team, capacity: int, by) -> Team:
    """A manager sets the strategic reviews a week the team's senior practitioners can hold."""
    if by.role != Role.MANAGER or not by.managed_teams.filter(pk=team.pk).exists():
        raise PermissionDenied("Only a manager of this team can set its review capacity.")
    if not 0 <= capacity <= 500:
        raise ValidationError({"weekly_review_capacity": "Enter between 0 and 500 reviews a week."})
    team = Team.objects.select_for_update().get(pk=team.pk)
    team.weekly_review_capacity = capacity
    team.full_clean()
    team.save(update_fields=["weekly_review_capacity"])
    return team
