"""Who takes a strategic review's prescribing decisions (§2.5: "A senior practitioner will usually lead a strategic
review, especially when treatment includes prescribing"), and which days a review may be dated.

A review looks back over a period: from the last completed review (its date held), or from entry when there is
none, through the review's own date. Treatment includes prescribing for that review when opioid substitution
treatment was current on any day of the period, or is current on any day since, up to the day the review is
recorded. The safer reading, on purpose: a review dated on a day before OST began, or after it ended, still
reviews a patient whose prescribing is current or recent, and a keyworker cannot step round §2.5 by choosing the
date or by ending the OST first (docs/design.md, Prescribing decisions).

A review's date is never in the future, never before entry, and never before the day the last completed review
completed: the schedule counts reviews in order (docs/design.md rule 2)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from patients.models import InterventionKind, TreatmentEpisode
from recovery_reviews.formatting import day
from recovery_reviews.models import Role
from reviews.models import ReviewStatus, StrategicReview

PRESCRIBING = (InterventionKind.OST,)
LEAD_MUST_BE_SENIOR = "Treatment includes prescribing, so a senior practitioner must lead this review (§2.5)."
COMPLETE_MUST_BE_SENIOR = (
    "Treatment includes prescribing, so only a senior practitioner can complete this review (§2.5)."
)


def last_completed_review(
    episode: TreatmentEpisode, *, before: date | None = None, exclude: StrategicReview | None = None
) -> StrategicReview | None:
    """The episode's latest completed review (by the day it completed), on or before `before` when given."""
    reviews = StrategicReview.objects.filter(episode=episode, status=ReviewStatus.COMPLETED)
    if before is not None:
        reviews = reviews.filter(completed_on__lte=before)
    if exclude is not None and exclude.pk:
        reviews = reviews.exclude(pk=exclude.pk)
    return reviews.order_by("-completed_on", "-held_on", "-pk").first()


def review_period_start(episode: TreatmentEpisode, held_on: date, *, review=None) -> date:
    """The first day of the period a review dated `held_on` looks back over: the day the last review completed
    by then was held, or entry when there is none."""
    last = last_completed_review(episode, before=held_on, exclude=review)
    return last.held_on if last else episode.entry_date


def prescribing_between(episode: TreatmentEpisode, since: date, through: date) -> bool:
    """Opioid substitution treatment was current on at least one day from `since` through `through`."""
    return (
        episode.interventions.filter(kind__in=PRESCRIBING, started_on__lte=through)
        .exclude(ended_on__lt=since)
        .exists()
    )


def prescribing_review(episode: TreatmentEpisode, held_on: date, *, review=None) -> bool:
    """Treatment includes prescribing for a review dated `held_on` (§2.5): OST was current at any time in the
    period it reviews, or since then up to today (see the module's docstring)."""
    through = max(held_on, timezone.localdate())
    return prescribing_between(episode, review_period_start(episode, held_on, review=review), through)


def review_date_errors(
    episode: TreatmentEpisode, held_on: date, *, review=None, field: str = "held_on"
) -> dict:
    """The review's date against the calendar and the record: not in the future, not before entry, not before
    the last completed review completed. Empty when the date is right."""
    if held_on > timezone.localdate():
        return {field: "A review is recorded once it has been held: this date is in the future."}
    if held_on < episode.entry_date:
        return {field: f"This is before the episode began on {day(episode.entry_date)}."}
    last = last_completed_review(episode, exclude=review)
    if last is not None and held_on < last.completed_on:
        return {
            field: f"This is before the last completed review, which completed on {day(last.completed_on)}: a "
            "review looks forward from the one before it."
        }
    return {}


def check_lead(episode: TreatmentEpisode, lead, held_on: date, *, review=None) -> None:
    """The lead is a clinician of the patient's team, and a senior practitioner where the review includes
    prescribing (§2.5)."""
    if lead.role not in (Role.KEYWORKER, Role.SENIOR_PRACTITIONER):
        raise ValidationError({"lead": "A strategic review is led by a keyworker or a senior practitioner."})
    if lead.team_id != episode.patient.team_id:
        raise ValidationError({"lead": "The lead must work in the patient's team."})
    if lead.role != Role.SENIOR_PRACTITIONER and prescribing_review(episode, held_on, review=review):
        raise ValidationError({"lead": LEAD_MUST_BE_SENIOR})


def check_involvement_recorder(review: StrategicReview, by) -> None:
    """On a review whose period had OST, the patient's involvement completes the prescribing decisions taken at
    it (§2.4), so a senior practitioner, or the review's lead, records it (§2.5)."""
    if by.role == Role.SENIOR_PRACTITIONER or by.pk == review.lead_id:
        return
    if prescribing_review(review.episode, review.held_on, review=review):
        raise ValidationError(
            "This review covers a period of opioid substitution treatment: a senior practitioner, or the "
            f"review's lead ({review.lead}), records the patient's involvement (§2.4, §2.5)."
        )
