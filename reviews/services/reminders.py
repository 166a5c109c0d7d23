"""Reminders (DESIGN.md, Reminders; CONVENTIONS.md 6): every reminder sent once, none lost through outages.

What is owed. A strategic review or recovery check-up is owed a reminder at each stage of rule 8 it is in:
*due soon* (from 14 days before the target through the target), *due* (after the target through the
deadline) and *overdue* (after the deadline), to the patient's keyworker and the episode's lead practitioner,
and when overdue also to every active manager of the patient's team. The sweep asks "what stage is each
review in today", never "what changed since the last run", reading the stored, indexed dates on the episode
(next_review_target <= today + 14 days) with one query, whatever the number of episodes. So a sweep after an
outage of the broker, the worker or beat sends whatever is owed and not yet sent, once. It sends only the
*current* stage: a review first seen when it is already overdue gets the overdue reminder, not the due-soon
and due ones it missed, which would only be noise by then. A review held without the patient (*awaiting
patient involvement*, §2.4) does not reset the clock and is reminded by its dates like any other; "awaiting"
is not a stage of its own. A stored "record_error" (facts the policy rejected) is not a review and is left to
the caseload, which shows it: its stored dates move every night, and it would remind every day.

The claim. Each reminder (episode, target date, stage, recipient) is a row under the unique constraint
reminder_sent_once, inserted by

    INSERT INTO reviews_reminder (...) VALUES (...), (...) ON CONFLICT (episode, target, stage, recipient)
    DO NOTHING RETURNING id

which PostgreSQL and SQLite (3.35+) both run, and which returns exactly the rows this statement inserted:
a row that exists, or that a concurrent sweep inserted first, is not returned (PostgreSQL waits for the other
transaction and then skips the row; SQLite serialises writers). So a sweep knows which reminders are its own
and never counts another's; ``bulk_create(ignore_conflicts=True)`` could not say. Candidates are inserted in
one total order (episode, target, stage, recipient), so that two sweeps at once wait on each other instead of
deadlocking.

Delivery. deliver_reminder(reminder_id) takes a lease on the row by compare-and-set,

    UPDATE reviews_reminder SET lease_expires_at = now + lease, attempts = attempts + 1
    WHERE id = %s AND delivered_at IS NULL AND (lease_expires_at IS NULL OR lease_expires_at <= now)

and goes on only if that updated one row: a second worker, a redelivered message or a retry finds the row
taken or settled and does nothing. It checks the reminder is still owed (same target, same stage today, the
person still a recipient; otherwise it is withdrawn, with the reason recorded), sends the email unless the
person turned email off or it went on an earlier attempt, then writes the inbox item (one per reminder:
InboxItem.reminder is one-to-one) and settles the row (delivered_at, email_sent_at) in one transaction; a
failed email still writes the inbox item. The lease outlasts a delivery (the task's time limit and the email
timeout), so it only lapses when its holder died.

Safety events. A pharmacy report with three or more consecutive missed doses of an opioid substitute, whose
prescriber is not yet recorded as told (tolerance may be lost: they must be told before dosing resumes), is
owed a *safety event* reminder to the patient's keyworker and the episode's lead, other than whoever recorded
the report, for four weeks after its period ends. It goes through the same claim and delivery, and is withdrawn
once the prescriber is recorded as told or the report is marked entered in error.

Failure and catch-up. A failed delivery records the error and holds the row for a back-off (1, 2, 4 ... 30
minutes) by setting the lease to the retry time; the task retries after it. A reminder whose delivery never
ran (its message lost with the broker, its worker killed) or whose retries ran out is *stranded*: undelivered,
unleased, and claimed longer ago than REMINDER_REDELIVER_AFTER_SECONDS. Each sweep enqueues the stranded ones
again. Delivery is at least once for email: a worker killed after the mail server accepted a message and
before the row was settled sends it again on recovery (a reminder lost would be worse than one repeated); the
inbox item is written once whatever happens.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from patients.models import MISSED_DOSE_SAFETY_RUN, PharmacyReport, TreatmentEpisode
from recovery_reviews.models import Role, User
from reviews.models import InboxItem, Reminder, ReminderStage
from reviews.scheduling import RECOVERY_CHECK_UP, STRATEGIC_REVIEW, ReviewDue, review_status
from reviews.services.schedule import policy
from reviews.status import review_status_expression

logger = logging.getLogger(__name__)

KIND_LABELS = {STRATEGIC_REVIEW: "strategic review", RECOVERY_CHECK_UP: "recovery check-up"}
STAGE_LABELS = {
    ReminderStage.DUE_SOON: "due soon",
    ReminderStage.DUE: "due",
    ReminderStage.OVERDUE: "overdue",
}
REVIEW_STAGES = (ReminderStage.DUE_SOON, ReminderStage.DUE, ReminderStage.OVERDUE)
SAFETY_EVENT_KIND = "safety_event"
SAFETY_EVENT_DAYS = 28  # how long after a report's period a run of missed doses is still reminded
# The reminder's identity (the unique constraint reminder_sent_once) first, then what else a claim writes.
CLAIM_COLUMNS = (
    "episode",
    "target",
    "stage",
    "recipient",
    "kind",
    "deadline",
    "claimed_at",
    "attempts",
    "last_error",
)
CLAIM_BATCH = 2000  # rows per INSERT: 18,000 parameters, inside SQLite's 32,766 and PostgreSQL's 65,535
STRANDED_PER_SWEEP = 5000  # a long outage's backlog is re-enqueued over a few sweeps, oldest first
RETRY_FIRST = timedelta(minutes=1)
RETRY_LONGEST = timedelta(minutes=30)  # below the Redis visibility timeout (settings: Celery)
EMAIL_TIMEOUT_SECONDS = 30  # an SMTP server that hangs must not outlast the lease

DELIVERED, WITHDRAWN, SKIPPED = "delivered", "withdrawn", "skipped"


@dataclass(frozen=True)
class SweepResult:
    claimed: list[int] = field(default_factory=list)  # inserted by this sweep, nobody else's
    stranded: list[int] = field(default_factory=list)  # claimed earlier, still undelivered and unleased

    @property
    def to_deliver(self) -> list[int]:
        return self.claimed + self.stranded


class ReminderDeliveryFailed(Exception):
    """The inbox or the email failed; the error is recorded and the row held until retry_in has passed."""

    def __init__(self, reminder_id: int, retry_in: timedelta, error: Exception):
        super().__init__(f"Reminder {reminder_id} not delivered ({type(error).__name__}: {error})")
        self.reminder_id = reminder_id
        self.retry_in = retry_in


# --- The sweep ----------------------------------------------------------------------------------------------


def reminders_sweep(*, today: date | None = None) -> SweepResult:
    """Claim every reminder owed today that nobody has claimed, and find the stranded ones.

    Returns the ids to deliver; the caller enqueues them once its transaction has committed.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    owed = sorted(_owed_reminders(today))
    with transaction.atomic():
        claimed = _claim(owed, now)
    return SweepResult(claimed=claimed, stranded=_stranded(now))


def _owed_reminders(today: date) -> set[tuple]:
    """(episode, target, stage, recipient, kind, deadline) for every review in a reminder stage today.

    Three queries, whatever the number of episodes: the episodes, with their stage in SQL from the stored
    dates; the managers of every team; the reminders already claimed for those episodes' current reviews. Two
    more for the safety events.
    """
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
    managers = _managers_by_team()
    # Claimed already: rows for each episode's current target. Skipping them here keeps a sweep with nothing
    # new to a few reads; the INSERT's ON CONFLICT still decides between sweeps running at once.
    claimed = set(
        Reminder.objects.filter(
            episode__next_review_target__lte=due_soon_from, target=F("episode__next_review_target")
        ).values_list("episode_id", "target", "stage", "recipient_id")
    )
    owed = set()
    for pk, target, stage, kind, deadline, team_id, *people in episodes:
        if stage not in REVIEW_STAGES:
            continue
        for recipient in _recipients(stage, team_id, *people, managers=managers):
            if (pk, target, stage, recipient) not in claimed:
                owed.add((pk, target, stage, recipient, kind, deadline))
    return owed | _owed_safety_events(today)


def _owed_safety_events(today: date) -> set[tuple]:
    """Runs of missed doses the prescriber is not recorded as told of: two queries, through the partial index
    on safety events (pharmacy_safety_events)."""
    since = today - timedelta(days=SAFETY_EVENT_DAYS)
    reports = PharmacyReport.objects.filter(
        missed_dose_run__gte=MISSED_DOSE_SAFETY_RUN,
        prescriber_informed_on__isnull=True,
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
    for episode_id, period_end, recorded_by, *people in reports:
        for recipient in _safety_recipients(*people, recorded_by=recorded_by):
            if (episode_id, period_end, recipient) not in claimed:
                owed.add(
                    (
                        episode_id,
                        period_end,
                        ReminderStage.SAFETY_EVENT,
                        recipient,
                        SAFETY_EVENT_KIND,
                        period_end,
                    )
                )
    return owed


def _safety_recipients(keyworker_id, keyworker_active, lead_id, lead_active, *, recorded_by) -> set[int]:
    """The keyworker and the lead, active, but not whoever recorded the report (they saw the warning)."""
    people = {
        pk for pk, active in ((keyworker_id, keyworker_active), (lead_id, lead_active)) if pk and active
    }
    return people - {recorded_by}


def _recipients(
    stage, team_id, keyworker_id, keyworker_active, lead_id, lead_active, *, managers
) -> set[int]:
    people = {
        pk for pk, active in ((keyworker_id, keyworker_active), (lead_id, lead_active)) if pk and active
    }
    if stage == ReminderStage.OVERDUE:
        people |= managers.get(team_id, set())
    return people


def _managers_by_team(team_id: int | None = None) -> dict[int, set[int]]:
    """Active users with the manager role, by each team they manage (User.managed_teams)."""
    rows = User.managed_teams.through.objects.filter(user__role=Role.MANAGER, user__is_active=True)
    if team_id is not None:
        rows = rows.filter(team_id=team_id)
    managers: dict[int, set[int]] = {}
    for team, user in rows.values_list("team_id", "user_id"):
        managers.setdefault(team, set()).add(user)
    return managers


def _claim(owed: list[tuple], now) -> list[int]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the ids of the rows this statement inserted."""
    if not owed:
        return []
    ops, meta = connection.ops, Reminder._meta
    columns = [ops.quote_name(meta.get_field(name).column) for name in CLAIM_COLUMNS]
    insert = (
        f"INSERT INTO {ops.quote_name(meta.db_table)} ({', '.join(columns)}) VALUES {{rows}} "
        f"ON CONFLICT ({', '.join(columns[:4])}) DO NOTHING RETURNING {ops.quote_name(meta.pk.column)}"
    )
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    claimed_at = ops.adapt_datetimefield_value(now)
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(owed), CLAIM_BATCH):
            batch = owed[start : start + CLAIM_BATCH]
            params = []
            for episode, target, stage, recipient, kind, deadline in batch:
                target, deadline = ops.adapt_datefield_value(target), ops.adapt_datefield_value(deadline)
                params += [episode, target, stage, recipient, kind, deadline, claimed_at, 0, ""]
            cursor.execute(insert.format(rows=", ".join([row] * len(batch))), params)
            ids += [row[0] for row in cursor.fetchall()]
    return sorted(ids)


def _stranded(now) -> list[int]:
    """Undelivered, unleased reminders claimed long enough ago that their delivery message is presumed lost."""
    claimed_before = now - timedelta(seconds=settings.REMINDER_REDELIVER_AFTER_SECONDS)
    return list(
        Reminder.objects.filter(delivered_at__isnull=True, claimed_at__lt=claimed_before)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:STRANDED_PER_SWEEP]
    )


# --- Delivery -----------------------------------------------------------------------------------------------


def reminder_deliver(*, reminder_id: int, today: date | None = None) -> str:
    """Deliver one claimed reminder to the inbox and, unless turned off, by email.

    Returns "delivered", "withdrawn" (no longer owed: recorded on the row, nothing sent) or "skipped" (already
    settled, or held by another worker or by a back-off). Raises ReminderDeliveryFailed after recording a
    failure, so that the task retries after the back-off.
    """
    today = today or timezone.localdate()
    if not _take_lease(reminder_id):
        return SKIPPED
    reminder = Reminder.objects.select_related(
        "episode__patient__keyworker", "episode__lead_practitioner", "recipient"
    ).get(pk=reminder_id)
    reason = _no_longer_owed(reminder, today)
    if reason:
        _settle(reminder_id, last_error=f"Withdrawn, not sent: {reason}")
        logger.info("Reminder %s withdrawn: %s", reminder_id, reason)
        return WITHDRAWN
    email_sent_at, message = reminder.email_sent_at, None
    try:
        message = _message(reminder)
        if email_sent_at is None and _wants_email(reminder.recipient):
            _send_email(reminder, message)
            email_sent_at = timezone.now()
    except Exception as error:
        retry_in = min(RETRY_FIRST * 2 ** (reminder.attempts - 1), RETRY_LONGEST)
        with transaction.atomic():
            if message:
                _inbox_item(reminder, message)  # the inbox does not wait for the mail server
            Reminder.objects.filter(pk=reminder_id).update(
                lease_expires_at=timezone.now() + retry_in,
                last_error=f"{timezone.now():%Y-%m-%d %H:%M} {type(error).__name__}: {error}"[:2000],
            )
        logger.warning("Reminder %s not delivered (attempt %s): %s", reminder_id, reminder.attempts, error)
        raise ReminderDeliveryFailed(reminder_id, retry_in, error) from error
    with transaction.atomic():
        _inbox_item(reminder, message)
        _settle(reminder_id, email_sent_at=email_sent_at, last_error="")
    return DELIVERED


def _inbox_item(reminder: Reminder, message: dict) -> None:
    """One inbox item per reminder (InboxItem.reminder is one-to-one): a second insert is ignored."""
    subject = message["subject"][: InboxItem._meta.get_field("subject").max_length]
    item = InboxItem(
        reminder=reminder,
        recipient=reminder.recipient,
        subject=subject,
        body=message["text"],
        link=message["path"],
    )
    InboxItem.objects.bulk_create([item], ignore_conflicts=True)


def _take_lease(reminder_id: int) -> bool:
    """Compare-and-set: True for exactly one caller while the row is undelivered and its lease has lapsed."""
    now = timezone.now()
    return bool(
        Reminder.objects.filter(pk=reminder_id, delivered_at__isnull=True)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(
            lease_expires_at=now + timedelta(seconds=settings.REMINDER_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    )


def _settle(reminder_id: int, **fields) -> None:
    Reminder.objects.filter(pk=reminder_id).update(
        delivered_at=timezone.now(), lease_expires_at=None, **fields
    )


def _no_longer_owed(reminder: Reminder, today: date) -> str:
    """Why a claimed reminder should not go out now (the review moved on while it waited), or ""."""
    if reminder.stage == ReminderStage.SAFETY_EVENT:
        return _safety_event_no_longer_owed(reminder)
    episode = reminder.episode
    if episode.next_review_kind not in KIND_LABELS or episode.next_review_target != reminder.target:
        return "the review it was about is no longer the one due."
    now_due = ReviewDue(
        episode.next_review_kind, episode.next_review_target, episode.next_review_deadline, ()
    )
    stage = review_status(now_due, today, policy())
    if stage != reminder.stage:
        return f"the review is {stage.replace('_', ' ')} now, not {reminder.get_stage_display().lower()}."
    keyworker, lead = episode.patient.keyworker, episode.lead_practitioner
    people = _recipients(
        stage,
        episode.patient.team_id,
        keyworker.pk,
        keyworker.is_active,
        lead.pk if lead else None,
        bool(lead and lead.is_active),
        managers=_managers_by_team(episode.patient.team_id) if stage == ReminderStage.OVERDUE else {},
    )
    if reminder.recipient_id not in people:
        return f"{reminder.recipient} is no longer the keyworker, lead or manager for this patient."
    return ""


def _safety_reports(reminder: Reminder) -> list[PharmacyReport]:
    return list(
        PharmacyReport.objects.filter(
            episode_id=reminder.episode_id,
            period_end=reminder.target,
            missed_dose_run__gte=MISSED_DOSE_SAFETY_RUN,
        ).order_by("pk")
    )


def _safety_event_no_longer_owed(reminder: Reminder) -> str:
    reports = _safety_reports(reminder)
    if not reports:
        return "the pharmacy report was marked as entered in error."
    waiting = [r for r in reports if r.prescriber_informed_on is None]
    if not waiting:
        return f"the prescriber was told on {reports[0].prescriber_informed_on:%d %b %Y}."
    episode = reminder.episode
    keyworker, lead = episode.patient.keyworker, episode.lead_practitioner
    people = _safety_recipients(
        keyworker.pk,
        keyworker.is_active,
        lead.pk if lead else None,
        bool(lead and lead.is_active),
        recorded_by=waiting[0].recorded_by_id,
    )
    if reminder.recipient_id not in people:
        return f"{reminder.recipient} is no longer the keyworker or lead for this patient."
    return ""


def _wants_email(user: User) -> bool:
    return user.email_reminders and bool(user.email)


def _message(reminder: Reminder) -> dict:
    """Subject, text and HTML from templates/emails/review_reminder_* (safety_event_* for a safety event); the
    inbox item uses the text."""
    episode, patient = reminder.episode, reminder.episode.patient
    path = reverse("patients:detail", args=[patient.pk])
    if reminder.stage == ReminderStage.SAFETY_EVENT:
        return _safety_event_message(reminder, patient, path)
    if reminder.recipient_id == patient.keyworker_id:
        role = "keyworker"
    elif reminder.recipient_id == episode.lead_practitioner_id:
        role = "lead practitioner"
    else:
        role = "team manager"
    context = {
        "patient": patient,
        "kind": KIND_LABELS[episode.next_review_kind],
        "stage": STAGE_LABELS[reminder.stage],
        "overdue": reminder.stage == ReminderStage.OVERDUE,
        "target": episode.next_review_target,
        "deadline": episode.next_review_deadline,
        "reasons": episode.next_review_reasons or [],
        "role": role,
        "url": f"{settings.SITE_URL}{path}",
    }
    subject = " ".join(render_to_string("emails/review_reminder_subject.txt", context).split())
    return {
        "subject": subject,
        "text": render_to_string("emails/review_reminder_body.txt", context),
        "html": render_to_string("emails/review_reminder_body.html", context),
        "path": path,
    }


def _safety_event_message(reminder: Reminder, patient, path: str) -> dict:
    report = next((r for r in _safety_reports(reminder) if r.prescriber_informed_on is None), None)
    context = {
        "patient": patient,
        "report": report,
        "run": report.missed_dose_run if report else MISSED_DOSE_SAFETY_RUN,
        "role": "keyworker" if reminder.recipient_id == patient.keyworker_id else "lead practitioner",
        "url": f"{settings.SITE_URL}{path}",
    }
    return {
        "subject": " ".join(render_to_string("emails/safety_event_subject.txt", context).split()),
        "text": render_to_string("emails/safety_event_body.txt", context),
        "html": render_to_string("emails/safety_event_body.html", context),
        "path": path,
    }


def _send_email(reminder: Reminder, message: dict) -> None:
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or EMAIL_TIMEOUT_SECONDS
    email = EmailMultiAlternatives(
        subject=message["subject"],
        body=message["text"],
        to=[reminder.recipient.email],
        headers={"X-Recovery-Reviews-Reminder": str(reminder.pk)},
        connection=get_connection(timeout=timeout),
    )
    email.attach_alternative(message["html"], "text/html")
    email.send()


# --- The inbox and the email preference ---------------------------------------------------------------------


def inbox_item_open(*, item: InboxItem) -> InboxItem:
    if item.read_at is None:
        item.read_at = timezone.now()
        item.save(update_fields=["read_at"])
    return item


def inbox_mark_all_read(*, user: User) -> int:
    return InboxItem.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def email_reminders_set(*, user: User, enabled: bool) -> None:
    """A person turns reminder emails off or on for themselves; the inbox always receives reminders."""
    User.objects.filter(pk=user.pk).update(email_reminders=enabled)
    user.email_reminders = enabled
