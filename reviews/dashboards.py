"""Reads for managers' pages (CONVENTIONS.md 3): counts in one GROUP BY over the stored, indexed dates."""

from collections import defaultdict
from datetime import date

from django.db.models import Count

from recovery_reviews.access import episodes_for_user
from reviews.scheduling import DUE, DUE_SOON, OVERDUE, UPCOMING
from reviews.status import AWAITING_PATIENT, awaiting_patient_expression, review_status_expression

STATUSES = [UPCOMING, DUE_SOON, DUE, OVERDUE, AWAITING_PATIENT]


def status_counts_by_team(user, *, today: date) -> list[dict]:
    """Per team in the user's scope: how many episodes are in each status, and how many await the patient."""
    rows = (
        episodes_for_user(user)
        .filter(next_review_target__isnull=False)
        .annotate(status=review_status_expression(today), awaiting=awaiting_patient_expression())
        .values("patient__team_id", "patient__team__name", "status", "awaiting")
        .annotate(n=Count("pk"))
        .order_by("patient__team__name")
    )
    teams = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    names = {}
    for row in rows:
        team = row["patient__team_id"]
        names[team] = row["patient__team__name"]
        teams[team][row["status"]] += row["n"]
        if row["awaiting"]:
            teams[team][AWAITING_PATIENT] += row["n"]
    return [{"team_id": t, "team": names[t], "counts": teams[t]} for t in sorted(teams, key=names.get)]
