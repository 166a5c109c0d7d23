"""Review status in SQL (docs/design.md rule 8), from the columns the scheduling adapter stores, so that lists and
dashboards filter and count by status in one query. The same thresholds as reviews.scheduling.review_status.

Each function reads an episode's first owed item (its next_review_* columns) by default, or with ON_ITEMS the
columns of reviews.models.OwedItem, one row per item owed."""

from datetime import date, timedelta

from django.db.models import Case, CharField, Exists, OuterRef, Q, Value, When

from recovery_reviews.compiled_queries import CompiledQuery
from reviews.models import OwedItem, ReviewStatus, StrategicReview
from reviews.scheduling import (
    DUE,
    DUE_SOON,
    ELEMENT_CHECK_UP,
    OVERDUE,
    RECOVERY_CHECK_UP,
    STRATEGIC_REVIEW,
    UPCOMING,
    ReviewDue,
    review_status,
)
from reviews.services.schedule import RECORD_ERROR_KIND, policy

AWAITING_PATIENT = "awaiting_patient"
STATUS_LABELS = {
    UPCOMING: "Upcoming",
    DUE_SOON: "Due soon",
    DUE: "Due",
    OVERDUE: "Overdue",
    AWAITING_PATIENT: "Awaiting patient involvement",
}
KIND_LABELS = {
    STRATEGIC_REVIEW: "Strategic review",
    RECOVERY_CHECK_UP: "Recovery check-up",
    ELEMENT_CHECK_UP: "Check-up after an element of treatment",
    RECORD_ERROR_KIND: "Record needs correcting",
}


ON_EPISODES = {"target": "next_review_target", "deadline": "next_review_deadline", "episode": "pk"}
ON_ITEMS = {"target": "target", "deadline": "deadline", "episode": "episode_id"}


def review_status_expression(today: date, columns: dict = ON_EPISODES) -> Case:
    due_soon_from = today + timedelta(days=policy().due_soon_days)
    target, deadline = columns["target"], columns["deadline"]
    return Case(
        When(**{f"{deadline}__lt": today}, then=Value(OVERDUE)),
        When(**{f"{target}__lt": today}, then=Value(DUE)),
        When(**{f"{target}__lte": due_soon_from}, then=Value(DUE_SOON)),
        When(**{f"{target}__isnull": False}, then=Value(UPCOMING)),
        default=Value(""),
        output_field=CharField(),
    )


def awaiting_patient_expression(columns: dict = ON_EPISODES) -> Exists:
    """A strategic review held without the patient and waiting for their involvement (§2.4)."""
    return Exists(
        StrategicReview.objects.filter(
            episode=OuterRef(columns["episode"]), status=ReviewStatus.AWAITING_PATIENT
        )
    )


def status_filter(status: str, today: date, columns: dict = ON_EPISODES) -> Q:
    due_soon_from = today + timedelta(days=policy().due_soon_days)
    target, deadline = columns["target"], columns["deadline"]
    return {
        OVERDUE: Q(**{f"{deadline}__lt": today}),
        DUE: Q(**{f"{target}__lt": today, f"{deadline}__gte": today}),
        DUE_SOON: Q(**{f"{target}__gte": today, f"{target}__lte": due_soon_from}),
        UPCOMING: Q(**{f"{target}__gt": due_soon_from}),
        AWAITING_PATIENT: Q(awaiting_patient=True),
    }[status]


def status_of(episode, *, today: date) -> str:
    """Rule 8 status of the stored next review, for one episode already in hand."""
    if not episode.next_review_target:
        return ""
    due = ReviewDue(episode.next_review_kind, episode.next_review_target, episode.next_review_deadline, ())
    return review_status(due, today)


# Read on every caseload and patient page: compiled once per number of episodes (recovery_reviews/compiled_queries.py).
_OWED_BY_EPISODE = CompiledQuery(
    lambda episodes: OwedItem.objects.filter(episode_id__in=episodes).order_by(
        "episode_id", "target", "deadline", "pk"
    )
)


def owed_items_by_episode(episode_ids: list[int], *, today: date) -> dict[int, list[OwedItem]]:
    """Every item each of these episodes owes, first first, each with its rule 8 `status` and kind `label`: one
    query, for a page of rows already in hand."""
    by_episode: dict[int, list[OwedItem]] = {}
    for item in _OWED_BY_EPISODE.run(episodes=list(episode_ids)):
        item.status = review_status(ReviewDue(item.kind, item.target, item.deadline, ()), today, policy())
        item.label = KIND_LABELS.get(item.kind, item.kind)
        by_episode.setdefault(item.episode_id, []).append(item)
    return by_episode
