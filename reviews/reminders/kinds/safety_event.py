"""A safety event: a run of missed doses the prescriber is not yet recorded as told of.

docs/reminders.md, "Safety event".

A run of MISSED_DOSE_SAFETY_RUN (three) or more consecutive missed doses of an opioid substitute, read across
the episode's pharmacy reports (docs/design.md rule 4b), whose prescriber is not yet recorded as told (tolerance
may be lost: they must be told before dosing resumes; App. C 1, deteriorating adherence), is owed a reminder to
the patient's keyworker and the episode's lead practitioner, other than whoever recorded the report that owns the
run (they saw the warning as they recorded it), for four weeks after that report's period ends. The report that
owns a run is the one holding its third missed day, and the run is told once for all its reports
(patients/missed_doses.py); each report stores the safety event it owns (PharmacyReport.safety_run, kept by the
record's services), which is what this kind reads. Its target and deadline are the owning report's last day,
its stage ``safety_event``.

Withdrawn at delivery once the prescriber is recorded as told (on that report, or on another report of the run
on or after its third day), once the report no longer owns a safety event (it, or a report that made the run,
was marked entered in error; the default manager of PharmacyReport leaves such reports out), or when the
recipient no longer looks after the patient.
"""

from datetime import date, timedelta

from patients.models import MISSED_DOSE_SAFETY_RUN, PharmacyReport
from recovery_reviews.formatting import day
from reviews.models import Reminder, ReminderKind, ReminderStage
from reviews.reminders.kinds.base import Claim, Kind, active_people

DAYS = 28  # how long after a report's period a run of missed doses is still reminded


class SafetyEvent(Kind):
    name = "safety_event"
    values = (ReminderKind.SAFETY_EVENT,)
    stages = (ReminderStage.SAFETY_EVENT,)
    recipients_described = "the keyworker or lead"

    def owed(self, today: date) -> set[Claim]:
        """Two queries, through the partial index on safety events (pharmacy_safety_events): the reports that own
        a run not yet told, and the safety-event reminders claimed for the last four weeks' reports."""
        since = today - timedelta(days=DAYS)
        reports = PharmacyReport.objects.filter(
            safety_run__gte=MISSED_DOSE_SAFETY_RUN,
            safety_run_told_on__isnull=True,
            period_end__gte=since,
        ).values_list(
            "episode_id",
            "period_end",
            "recorded_by_id",
            "episode__keyworker_id",
            "episode__keyworker__is_active",
            "episode__lead_practitioner_id",
            "episode__lead_practitioner__is_active",
        )
        claimed = set(
            Reminder.objects.filter(stage=ReminderStage.SAFETY_EVENT, target__gte=since).values_list(
                "episode_id", "target", "recipient_id"
            )
        )
        owed = set()
        for episode_id, period_end, recorded_by, keyworker, kw_active, lead, lead_active in reports:
            for recipient in active_people((keyworker, kw_active), (lead, lead_active)) - {recorded_by}:
                if (episode_id, period_end, recipient) not in claimed:
                    owed.add(
                        Claim(
                            episode=episode_id,
                            kind=ReminderKind.SAFETY_EVENT,
                            target=period_end,
                            stage=ReminderStage.SAFETY_EVENT,
                            recipient=recipient,
                            deadline=period_end,
                        )
                    )
        return owed

    def no_longer_owed(self, reminder: Reminder, today: date) -> str:
        reports = _reports(reminder)
        if not reports:
            return (
                "the run of missed doses is no longer a safety event owned by this report: a pharmacy report "
                "was marked as entered in error."
            )
        if _waiting(reminder) is None:
            return f"the prescriber was told on {day(reports[0].safety_run_told_on)}."
        return ""

    def recipients(self, reminder: Reminder, today: date) -> set[int]:
        """The keyworker and the lead, active, but not whoever recorded the report still waiting."""
        episode = reminder.episode
        keyworker, lead = episode.patient.keyworker, episode.lead_practitioner
        people = active_people(
            (keyworker.pk, keyworker.is_active), (lead.pk if lead else None, bool(lead and lead.is_active))
        )
        waiting = _waiting(reminder)
        return people - {waiting.recorded_by_id} if waiting else people

    def context(self, reminder: Reminder) -> dict:
        patient, report = reminder.episode.patient, _waiting(reminder)
        return {
            "patient": patient,
            "report": report,
            "run": report.safety_run if report else MISSED_DOSE_SAFETY_RUN,
            "role": "keyworker" if reminder.recipient_id == patient.keyworker_id else "lead practitioner",
        }


def _reports(reminder: Reminder) -> list[PharmacyReport]:
    """The episode's reports ending on the reminder's target that own a safety event, not entered in error;
    read once per delivery (kept on the reminder)."""
    if not hasattr(reminder, "_safety_reports"):
        reminder._safety_reports = list(
            PharmacyReport.objects.filter(
                episode_id=reminder.episode_id,
                period_end=reminder.target,
                safety_run__gte=MISSED_DOSE_SAFETY_RUN,
            ).order_by("pk")
        )
    return reminder._safety_reports


def _waiting(reminder: Reminder) -> PharmacyReport | None:
    """The first of those reports whose run the prescriber is not yet recorded as told of."""
    return next((r for r in _reports(reminder) if r.safety_run_told_on is None), None)
