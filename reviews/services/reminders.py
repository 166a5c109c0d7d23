"""Reminders (DESIGN.md, Reminders): every reminder sent once, none lost through outages.

The sweep reads the stored review dates of every episode whose review is due soon, due or overdue today (one
indexed query), works out who must hear (the keyworker and the lead; the team's managers too when overdue),
and claims each reminder by inserting its row: the unique constraint on (episode, target, stage, recipient)
means a reminder exists at most once whatever runs the sweep, however often (healthchecks' sendalerts does the
same with a compare-and-set). An episode that enters a stage between sweeps, or while the broker was down, is
found by the next sweep because the sweep asks "what stage is it in today", never "what changed".

Delivery is separate and idempotent: deliver_reminder takes a short lease on the row with a compare-and-set
UPDATE (only one worker gets 1 row back), writes the inbox item (one per reminder, by a unique key), sends the
email, then marks the row delivered. A reminder whose delivery failed, or whose worker died, stays undelivered
with its error recorded, and the next sweep enqueues it again. The one window where a person could get a second
email is a worker killed after the mail server accepted the message and before the row was marked: the inbox
item is still written once.

Only the current stage is sent: an episode first seen when it is already overdue gets the overdue reminder,
not the due-soon one it missed.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from patients.models import TreatmentEpisode
from recovery_reviews.models import Role, User
from reviews.models import InboxItem, Reminder, ReminderStage
from reviews.services.schedule import policy
from reviews.status import review_status_expression

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
KIND_LABELS = {
    "strategic_review": "strategic review",
    "recovery_check_up": "recovery check-up",
    "record_error": "record correction",
}


@dataclass(frozen=True)
class SweepResult:
    claimed: int
    to_deliver: list[int]


def _due_episodes(today: date):
    """Episodes in a reminder stage today, with the people to tell, from the stored (indexed) dates."""
    return (
        TreatmentEpisode.objects.filter(
            next_review_target__isnull=False,
            next_review_target__lte=today + timedelta(days=policy().due_soon_days),
        )
        .annotate(stage=review_status_expression(today))
        .values_list(
            "pk",
            "next_review_kind",
            "next_review_target",
            "next_review_deadline",
            "stage",
            "patient__keyworker_id",
            "lead_practitioner_id",
            "patient__team_id",
        )
    )


def _managers_by_team() -> dict[int, set[int]]:
    managers: dict[int, set[int]] = {}
    rows = User.managed_teams.through.objects.filter(
        user__role=Role.MANAGER, user__is_active=True
    ).values_list("team_id", "user_id")
    for team_id, user_id in rows:
        managers.setdefault(team_id, set()).add(user_id)
    return managers


def reminders_sweep(*, today: date | None = None) -> SweepResult:
    """Claim every reminder owed today and return the ids of all reminders still to deliver (new ones and
    any left undelivered by an earlier failure or outage)."""
    today = today or timezone.localdate()
    managers = _managers_by_team()
    candidates = []
    for episode_id, kind, target, deadline, stage, keyworker_id, lead_id, team_id in _due_episodes(today):
        if stage not in ReminderStage.values:
            continue
        recipients = {keyworker_id, lead_id}
        if stage == ReminderStage.OVERDUE:
            recipients |= managers.get(team_id, set())
        candidates += [
            Reminder(
                episode_id=episode_id,
                kind=kind,
                target=target,
                deadline=deadline,
                stage=stage,
                recipient_id=user_id,
            )
            for user_id in recipients
            if user_id is not None
        ]
    before = Reminder.objects.count()
    # The unique constraint is the claim: a row another sweep already inserted is skipped, not duplicated.
    Reminder.objects.bulk_create(candidates, ignore_conflicts=True, batch_size=2000)
    claimed = Reminder.objects.count() - before
    now = timezone.now()
    to_deliver = list(
        Reminder.objects.filter(delivered_at__isnull=True)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return SweepResult(claimed=max(claimed, 0), to_deliver=to_deliver)


def _take_lease(reminder_id: int) -> bool:
    now = timezone.now()
    return bool(
        Reminder.objects.filter(pk=reminder_id, delivered_at__isnull=True)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(lease_expires_at=now + LEASE, attempts=F("attempts") + 1)
    )


def reminder_deliver(*, reminder_id: int) -> str:
    """Deliver one claimed reminder to the inbox and by email. Returns what happened: "delivered",
    "superseded" (the review it was about is no longer the one due), or "taken" (another worker has it).
    Raises on a failed send, after recording the error, so that the task retries with back-off."""
    if not _take_lease(reminder_id):
        return "taken"
    reminder = Reminder.objects.select_related("episode__patient", "recipient").get(pk=reminder_id)
    episode = reminder.episode
    if episode.next_review_target != reminder.target:
        Reminder.objects.filter(pk=reminder_id).update(
            delivered_at=timezone.now(),
            lease_expires_at=None,
            last_error="Not sent: the review it was about is no longer the one due.",
        )
        return "superseded"
    context = _context(reminder)
    try:
        InboxItem.objects.get_or_create(
            reminder=reminder,
            defaults={
                "recipient": reminder.recipient,
                "subject": context["subject"],
                "body": context["text"],
                "link": context["path"],
            },
        )
        email_sent = False
        if reminder.recipient.email_reminders and reminder.recipient.email and reminder.email_sent_at is None:
            _send_email(reminder, context)
            email_sent = True
    except Exception as error:
        Reminder.objects.filter(pk=reminder_id).update(
            lease_expires_at=None, last_error=f"{type(error).__name__}: {error}"
        )
        logger.warning("Reminder %s not delivered: %s", reminder_id, error)
        raise
    now = timezone.now()
    Reminder.objects.filter(pk=reminder_id).update(
        delivered_at=now,
        lease_expires_at=None,
        last_error="",
        **({"email_sent_at": now} if email_sent else {}),
    )
    return "delivered"


def _context(reminder: Reminder) -> dict:
    episode, patient = reminder.episode, reminder.episode.patient
    kind = KIND_LABELS.get(reminder.kind, reminder.kind.replace("_", " "))
    stage = {"due_soon": "due soon", "due": "due", "overdue": "OVERDUE"}[reminder.stage]
    path = reverse("patients:detail", args=[patient.pk])
    context = {
        "reminder": reminder,
        "patient": patient,
        "kind": kind,
        "stage": stage,
        "reasons": episode.next_review_reasons,
        "path": path,
        "url": f"{settings.SITE_URL}{path}",
        "subject": f"{patient}: {kind} {stage} (target {reminder.target:%-d %b %Y}, deadline {reminder.deadline:%-d %b %Y})",
    }
    context["text"] = render_to_string("emails/review_reminder_body.txt", context)
    return context


def _send_email(reminder: Reminder, context: dict) -> None:
    message = EmailMultiAlternatives(
        subject=context["subject"], body=context["text"], to=[reminder.recipient.email]
    )
    message.attach_alternative(render_to_string("emails/review_reminder_body.html", context), "text/html")
    message.send()


def inbox_item_open(*, item: InboxItem) -> InboxItem:
    if item.read_at is None:
        item.read_at = timezone.now()
        item.save(update_fields=["read_at"])
    return item


def inbox_mark_all_read(*, user) -> int:
    return InboxItem.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def email_reminders_set(*, user, enabled: bool) -> None:
    """A person can turn email off for themselves; the inbox always receives reminders."""
    User.objects.filter(pk=user.pk).update(email_reminders=enabled)
