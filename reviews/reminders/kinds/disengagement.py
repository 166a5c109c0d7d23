"""Disengagement: a patient drifting out of contact, at risk of premature drop-out (Intro, App. B).

docs/reminders.md, "Disengagement".

Two missed appointments in a row, or no attended appointment for 28 days while on OST (reviews/risk.py
disengagement, read in bulk by reviews/risk_selectors.py), is owed one reminder to the patient's keyworker and the
episode's lead practitioner, if active, per spell of disengagement: its target and deadline are the day the spell
began (the day of the second missed appointment, or the 28th day without contact), its stage ``disengagement``.
An attended appointment ends the spell; a later one is reminded again.

Withdrawn at delivery once the spell has ended (an attended appointment was recorded, OST ended with nothing
missed, the episode ended) or began on another day than the reminder's (it is owed again for that day), or when
the recipient no longer looks after the patient.
"""

from datetime import date, timedelta

from django.utils import timezone

from patients.models import TreatmentEpisode
from recovery_reviews.formatting import day
from reviews import risk
from reviews.models import Reminder, ReminderKind, ReminderStage
from reviews.reminders.kinds.base import Claim, Kind, active_people
from reviews.risk_selectors import disengaged_episodes, disengagement_of, with_disengagement_facts

CLAIMS_READ_DAYS = 366  # the claims read back to leave out; an older spell's claim only costs a conflict


class Disengagement(Kind):
    name = "disengagement"
    values = (ReminderKind.DISENGAGEMENT,)
    stages = (ReminderStage.DISENGAGEMENT,)
    recipients_described = "the keyworker or lead"

    def owed(self, today: date) -> set[Claim]:
        """Two queries: the open episodes disengaged today with their care team (reviews.risk_selectors.
        disengaged_episodes), and the disengagement reminders claimed for spells of the last year."""
        found = disengaged_episodes(today=today)
        claimed = set(
            Reminder.objects.filter(
                stage=ReminderStage.DISENGAGEMENT, target__gte=today - timedelta(days=CLAIMS_READ_DAYS)
            ).values_list("episode_id", "target", "recipient_id")
        )
        owed = set()
        for episode, disengaged in found:
            keyworker, lead = episode.keyworker, episode.lead_practitioner
            people = active_people(
                (keyworker.pk if keyworker else None, bool(keyworker and keyworker.is_active)),
                (lead.pk if lead else None, bool(lead and lead.is_active)),
            )
            for recipient in people:
                if (episode.pk, disengaged.since, recipient) not in claimed:
                    owed.add(
                        Claim(
                            episode=episode.pk,
                            kind=ReminderKind.DISENGAGEMENT,
                            target=disengaged.since,
                            stage=ReminderStage.DISENGAGEMENT,
                            recipient=recipient,
                            deadline=disengaged.since,
                        )
                    )
        return owed

    def no_longer_owed(self, reminder: Reminder, today: date) -> str:
        disengaged = _disengagement(reminder, today)
        if disengaged is None:
            return (
                "the patient is no longer disengaged: an attended appointment was recorded, or they are no "
                "longer on OST with nothing missed, or the episode ended."
            )
        if disengaged.since != reminder.target:
            return f"the disengagement now began on {day(disengaged.since)}, and is reminded for that day."
        return ""

    def recipients(self, reminder: Reminder, today: date) -> set[int]:
        episode = reminder.episode
        keyworker, lead = episode.patient.keyworker, episode.lead_practitioner
        return active_people(
            (keyworker.pk, keyworker.is_active), (lead.pk if lead else None, bool(lead and lead.is_active))
        )

    def context(self, reminder: Reminder) -> dict:
        patient = reminder.episode.patient
        return {
            "patient": patient,
            "disengagement": _disengagement(reminder, None),
            "since": reminder.target,
            "role": "keyworker" if reminder.recipient_id == patient.keyworker_id else "lead practitioner",
        }


def _disengagement(reminder: Reminder, today: date | None) -> risk.Disengagement | None:
    """The episode's disengagement on `today`, read once per delivery and kept on the reminder: the message
    (today None) says what the delivery found."""
    cached = getattr(reminder, "_disengagement", None)
    if cached is None or (today is not None and cached[0] != today):
        on = today or timezone.localdate()
        episode = with_disengagement_facts(TreatmentEpisode.objects.filter(pk=reminder.episode_id), today=on)
        reminder._disengagement = cached = (on, disengagement_of(episode.get(), today=on))
    return cached[1]
