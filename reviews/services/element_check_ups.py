"""Check-ups after an element of treatment (§1.7, docs/design.md rule 7b): OST, detox, residential or inpatient
treatment ended while the episode stayed open, and a check-up is owed 14 days after, until it is held.

Recorded like the check-ups after exit (rule 7c): "could not be reached" is kept as an attempt and the check-up stays
owed; any other outcome holds it. The schedule is refreshed in the same transaction, so the item leaves every list
at once."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import Intervention, TreatmentEpisode
from recovery_reviews.formatting import day
from reviews.models import CheckUpOutcome, ElementCheckUp
from reviews.services.schedule import episode_schedule_refresh
from reviews.services.transitions import ELEMENT_KINDS, element_ends, element_row

# The outcomes of a check-up held while the patient is still in treatment: "rapid access back into treatment" is
# for a check-up after exit.
OUTCOMES = [
    (value, label) for value, label in CheckUpOutcome.choices if value != CheckUpOutcome.RETURNED_TO_TREATMENT
]


def episode_element_ends(episode: TreatmentEpisode) -> tuple[date, ...]:
    """The days an element of treatment ended while this episode stayed open (rule 7b), as the schedule reads
    them."""
    rows = [element_row(i) for i in Intervention.objects.filter(episode=episode, kind__in=ELEMENT_KINDS)]
    return tuple(
        end for end in element_ends(rows, episode) if episode.exit_date is None or end < episode.exit_date
    )


def element_check_up_record(
    *,
    episode: TreatmentEpisode,
    element_end: date,
    held_on: date,
    outcome: str,
    by,
    notes: str = "",
    today: date | None = None,
) -> ElementCheckUp:
    """Record the check-up after the element of treatment that ended on `element_end`, or an attempt at it.
    Raises ValidationError, naming the field, for an end that is not this episode's, a day in the future or
    before the end, an outcome that does not apply, or a check-up already held."""
    today = today or timezone.localdate()
    if element_end not in episode_element_ends(episode):
        raise ValidationError(
            {
                "element_end": f"No element of treatment of this episode ended on {day(element_end)} while the "
                "episode stayed open: check the intervention's end date on the record."
            }
        )
    if held_on > today:
        raise ValidationError({"held_on": "This date is in the future."})
    if held_on < element_end:
        raise ValidationError(
            {
                "held_on": f"The check-up follows the end of the element on {day(element_end)}: give a day from then."
            }
        )
    if outcome not in dict(OUTCOMES):
        raise ValidationError(
            {
                "outcome": "The patient is still in this episode of treatment: choose another outcome, and raise "
                "early signs of relapse at the next strategic review."
            }
        )
    with transaction.atomic():
        check_up = ElementCheckUp(
            episode=episode,
            element_end=element_end,
            held_on=held_on,
            held_by=by,
            outcome=outcome,
            notes=notes,
        )
        check_up.full_clean()
        check_up.save()
        episode_schedule_refresh(episode, today=today)
    return check_up
