"""A strategic review or recovery check-up coming due (docs/reminders.md, "Review due").

Owed at each stage of rule 8 the episode's next review is in: *due soon* (from 14 days before the target
through the target), *due* (after the target through the deadline) and *overdue* (after the deadline), to the
patient's keyworker and the episode's lead practitioner, and when overdue also to every active manager of the
patient's team. It reads the dates the scheduling adapter stores on the episode (next_review_target <= today +
14 days, indexed), so it asks "what stage is each review in today", never "what changed since the last run":
a sweep after an outage finds whatever is owed. Only the *current* stage is owed: a review first seen when it
is already overdue gets the overdue reminder, not the due-soon and due ones it missed, which would only be
noise by then.

Strategic reviews (§1.3) and recovery check-ups after treatment (§1.7) alike; the Reminder.kind is the
episode's next_review_kind. A review held without the patient (*awaiting patient involvement*, §2.4) does not
reset the clock and is reminded by its dates like any other; "awaiting" is not a stage. A stored
"record_error" (facts the policy rejected) is not a review and is left to the caseload, which shows it: its
stored dates move every night, and it would remind every day.

Withdrawn at delivery when the review it was about is no longer the one due (held, or rescheduled), when the
review has moved to another stage, or when the recipient no longer looks after the patient.
"""

from datetime import date, timedelta

from django.db.models import F

from patients.models import TreatmentEpisode
from reviews.models import Reminder, ReminderKind, ReminderStage
from reviews.reminders.kinds.base import Claim, Kind, active_people, managers_by_team
from reviews.scheduling import ReviewDue as Due
from reviews.scheduling import review_status
from reviews.services.schedule import policy
from reviews.status import review_status_expression

KIND_LABELS = {
    ReminderKind.STRATEGIC_REVIEW: "strategic review",
    ReminderKind.RECOVERY_CHECK_UP: "recovery check-up",
}
STAGE_LABELS = {
    ReminderStage.DUE_SOON: "due soon",
    ReminderStage.DUE: "due",
    ReminderStage.OVERDUE: "overdue",
}


class ReviewDue(Kind):
    name = "review_due"
    values = (ReminderKind.STRATEGIC_REVIEW, ReminderKind.RECOVERY_CHECK_UP)
    stages = (ReminderStage.DUE_SOON, ReminderStage.DUE, ReminderStage.OVERDUE)
    recipients_described = "the keyworker, lead or manager"

    def owed(self, today: date) -> set[Claim]:
        """Three queries, whatever the number of episodes: the episodes, with their stage in SQL from the
        stored dates; the managers of every team; the reminders already claimed for those episodes' current
        reviews."""
        due_soon_from = today + timedelta(days=policy().due_soon_days)
        episodes = (
            TreatmentEpisode.objects.filter(
                next_review_kind__in=KIND_LABELS, next_review_target__lte=due_soon_from
            )
            .annotate(stage=review_status_expression(today))
            .values_list(
                "pk",
                "next_review_target",
                "stage",
                "next_review_kind",
                "next_review_deadline",
                "patient__team_id",
                "patient__keyworker_id",
                "patient__keyworker__is_active",
                "lead_practitioner_id",
                "lead_practitioner__is_active",
            )
        )
        managers = managers_by_team()
        claimed = set(
            Reminder.objects.filter(
                episode__next_review_target__lte=due_soon_from, target=F("episode__next_review_target")
            ).values_list("episode_id", "target", "stage", "recipient_id")
        )
        owed = set()
        for pk, target, stage, kind, deadline, team_id, keyworker, kw_active, lead, lead_active in episodes:
            if stage not in self.stages:
                continue
            people = _recipients(stage, team_id, (keyworker, kw_active), (lead, lead_active), managers)
            for recipient in people:
                if (pk, target, stage, recipient) not in claimed:
                    owed.add(Claim(pk, target, stage, recipient, kind, deadline))
        return owed

    def no_longer_owed(self, reminder: Reminder, today: date) -> str:
        episode = reminder.episode
        if episode.next_review_kind not in KIND_LABELS or episode.next_review_target != reminder.target:
            return "the review it was about is no longer the one due."
        now_due = Due(episode.next_review_kind, episode.next_review_target, episode.next_review_deadline, ())
        stage = review_status(now_due, today, policy())
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
            "kind": KIND_LABELS[episode.next_review_kind],
            "stage": STAGE_LABELS[reminder.stage],
            "overdue": reminder.stage == ReminderStage.OVERDUE,
            "target": episode.next_review_target,
            "deadline": episode.next_review_deadline,
            "reasons": episode.next_review_reasons or [],
            "role": role,
        }


def _recipients(stage, team_id, keyworker, lead, managers: dict[int, set[int]]) -> set[int]:
    """The keyworker and the lead, active; when overdue, the team's managers too."""
    people = active_people(keyworker, lead)
    if stage == ReminderStage.OVERDUE:
        people |= managers.get(team_id, set())
    return people
