"""Review status in SQL (docs/design.md rule 8), from the columns the scheduling adapter stores, so that lists and
dashboards filter and count by status in one query. The same thresholds as reviews.scheduling.review_status."""

from datetime import date, timedelta

from django.db.models import Case, CharField, Exists, OuterRef, Q, Value, When

from reviews.models import ReviewStatus, StrategicReview
from reviews.scheduling import DUE, DUE_SOON, OVERDUE, UPCOMING, ReviewDue, review_status
from reviews.services.schedule import policy

AWAITING_PATIENT = "awaiting_patient"
STATUS_LABELS = {
    UPCOMING: "Upcoming",
    DUE_SOON: "Due soon",
    DUE: "Due",
    OVERDUE: "Overdue",
    AWAITING_PATIENT: "Awaiting patient involvement",
}


def review_status_expression(today: date) -> Case:
    due_soon_from = today + timedelta(days=policy().due_soon_days)
    return Case(
        When(next_review_deadline__lt=today, then=Value(OVERDUE)),
        When(next_review_target__lt=today, then=Value(DUE)),
        When(next_review_target__lte=due_soon_from, then=Value(DUE_SOON)),
        When(next_review_target__isnull=False, then=Value(UPCOMING)),
        default=Value(""),
        output_field=CharField(),
    )


def awaiting_patient_expression() -> Exists:
    """A strategic review held without the patient and waiting for their involvement (§2.4)."""
    return Exists(
        StrategicReview.objects.filter(episode=OuterRef("pk"), status=ReviewStatus.AWAITING_PATIENT)
    )


def status_filter(status: str, today: date) -> Q:
    due_soon_from = today + timedelta(days=policy().due_soon_days)
    return {
        OVERDUE: Q(next_review_deadline__lt=today),
        DUE: Q(next_review_target__lt=today, next_review_deadline__gte=today),
        DUE_SOON: Q(next_review_target__gte=today, next_review_target__lte=due_soon_from),
        UPCOMING: Q(next_review_target__gt=due_soon_from),
        AWAITING_PATIENT: Q(awaiting_patient=True),
    }[status]


def status_of(episode, *, today: date) -> str:
    """Rule 8 status of the stored next review, for one episode already in hand."""
    if not episode.next_review_target:
        return ""
    due = ReviewDue(episode.next_review_kind, episode.next_review_target, episode.next_review_deadline, ())
    return review_status(due, today)
