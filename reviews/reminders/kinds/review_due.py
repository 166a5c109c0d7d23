"""A strategic review or check-up coming due (docs/reminders.md, "Review due").

Owed for each item an episode owes (reviews.models.OwedItem: a strategic review, a recovery check-up after exit,
a check-up after an element of treatment, docs/design.md rule 7b), at each stage of rule 8 the item is in: *due
soon* (from 14 days before the target through the target), *due* (after the target through the deadline) and
*overdue* (after the deadline), to the patient's keyworker and the episode's lead practitioner, and when overdue
also to every active manager of the patient's team. It reads the items the scheduling adapter stores (target <=
today + 14 days, indexed), so it asks "what stage is each item in today", never "what changed since the last
run": a sweep after an outage finds whatever is owed. Only the *current* stage is owed: an item first seen when it
is already overdue gets the overdue reminder, not the due-soon and due ones it missed, which would only be noise
by then. Two items of one episode are two reminders: the Reminder.kind is the item's kind.

A review held without the patient (*awaiting patient involvement*, §2.4) does not reset the clock and is reminded
by its dates like any other; "awaiting" is not a stage. A stored "record_error" (facts the policy rejected) is not
a review and is left to the caseload, which shows it: its stored dates move every night, and it would remind
every day.

Withdrawn at delivery when the item it was about is no longer owed (held, or rescheduled), when it has moved to
another stage, or when the recipient no longer looks after the patient.
"""

from datetime import date, timedelta

from django.db.models import Exists, OuterRef

from reviews.models import OwedItem, Reminder, ReminderKind, ReminderStage
from reviews.reminders.kinds.base import Claim, Kind, active_people, managers_by_team
from reviews.scheduling import ReviewDue as Due
from reviews.scheduling import review_status
from reviews.services.schedule import policy
from reviews.status import ON_ITEMS, review_status_expression

KIND_LABELS = {
    ReminderKind.STRATEGIC_REVIEW: "strategic review",
    ReminderKind.RECOVERY_CHECK_UP: "recovery check-up",
    ReminderKind.ELEMENT_CHECK_UP: "check-up after an element of treatment",
}
STAGE_LABELS = {
    ReminderStage.DUE_SOON: "due soon",
    ReminderStage.DUE: "due",
    ReminderStage.OVERDUE: "overdue",
}


class ReviewDue(Kind):
    name = "review_due"
    values = (ReminderKind.STRATEGIC_REVIEW, ReminderKind.RECOVERY_CHECK_UP, ReminderKind.ELEMENT_CHECK_UP)
    stages = (ReminderStage.DUE_SOON, ReminderStage.DUE, ReminderStage.OVERDUE)
    recipients_described = "the keyworker, lead or manager"

    def owed(self, today: date) -> set[Claim]:
        """Three queries, whatever the number of episodes: the owed items, with their stage in SQL from the
        stored dates; the managers of every team; the reminders already claimed for those items."""
        due_soon_from = today + timedelta(days=policy().due_soon_days)
        items = (
            OwedItem.objects.filter(kind__in=KIND_LABELS, target__lte=due_soon_from)
            .annotate(stage=review_status_expression(today, ON_ITEMS))
            .values_list(
                "episode_id",
                "kind",
                "target",
                "stage",
                "deadline",
                "team_id",
                "keyworker_id",
                "keyworker__is_active",
                "episode__lead_practitioner_id",
                "episode__lead_practitioner__is_active",
            )
        )
        managers = managers_by_team()
        current = OwedItem.objects.filter(
            episode_id=OuterRef("episode_id"), kind=OuterRef("kind"), target=OuterRef("target")
        )
        claimed = set(
            Reminder.objects.filter(kind__in=KIND_LABELS, target__lte=due_soon_from)
            .filter(Exists(current))
            .values_list("episode_id", "kind", "target", "stage", "recipient_id")
        )
        owed = set()
        for pk, kind, target, stage, deadline, team_id, keyworker, kw_active, lead, lead_active in items:
            if stage not in self.stages:
                continue
            people = _recipients(stage, team_id, (keyworker, kw_active), (lead, lead_active), managers)
            for recipient in people:
                if (pk, kind, target, stage, recipient) not in claimed:
                    owed.add(Claim(pk, kind, target, stage, recipient, deadline))
        return owed

    def no_longer_owed(self, reminder: Reminder, today: date) -> str:
        item = _item(reminder)
        if item is None:
            return "the review it was about is no longer the one due."
        stage = review_status(Due(item.kind, item.target, item.deadline, ()), today, policy())
        if stage != reminder.stage:
            return f"the review is {stage.replace('_', ' ')} now, not {reminder.get_stage_display().lower()}."
        return ""

    def recipients(self, reminder: Reminder, today: date) -> set[int]:
        episode = reminder.episode
        keyworker, lead = episode.patient.keyworker, episode.lead_practitioner
        overdue = reminder.stage == ReminderStage.OVERDUE
        return _recipients(
            reminder.stage,
            episode.patient.team_id,
            (keyworker.pk, keyworker.is_active),
            (lead.pk if lead else None, bool(lead and lead.is_active)),
            managers_by_team(episode.patient.team_id) if overdue else {},
        )

    def context(self, reminder: Reminder) -> dict:
        episode, patient = reminder.episode, reminder.episode.patient
        if reminder.recipient_id == patient.keyworker_id:
            role = "keyworker"
        elif reminder.recipient_id == episode.lead_practitioner_id:
            role = "lead practitioner"
        else:
            role = "team manager"
        return {
            "patient": patient,
            "kind": KIND_LABELS[reminder.kind],
            "stage": STAGE_LABELS[reminder.stage],
            "overdue": reminder.stage == ReminderStage.OVERDUE,
            "target": reminder.target,
            "deadline": reminder.deadline,
            "reasons": item.reasons if (item := _item(reminder)) else [],
            "role": role,
        }


def _recipients(stage, team_id, keyworker, lead, managers: dict[int, set[int]]) -> set[int]:
    """The keyworker and the lead, active; when overdue, the team's managers too."""
    people = active_people(keyworker, lead)
    if stage == ReminderStage.OVERDUE:
        people |= managers.get(team_id, set())
    return people


def _item(reminder: Reminder) -> OwedItem | None:
    """The owed item a reminder is about, while it is still owed with the same kind and target."""
    if not hasattr(reminder, "_owed_item"):
        reminder._owed_item = OwedItem.objects.filter(
            episode_id=reminder.episode_id, kind=reminder.kind, target=reminder.target
        ).first()
    return reminder._owed_item
