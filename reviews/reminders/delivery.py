"""Delivery of one claimed reminder, whatever its kind, to the inbox and by email.

docs/reminders.md, "Delivery"; docs/conventions.md 6 (claim before you send).

reminder_deliver(reminder_id) takes a lease on the row by compare-and-set,

    UPDATE reviews_reminder SET lease_expires_at = now + lease, attempts = attempts + 1
    WHERE id = %s AND delivered_at IS NULL AND (lease_expires_at IS NULL OR lease_expires_at <= now)

and goes on only if that updated one row: a second worker, a redelivered message or a retry finds the row
taken or settled and does nothing. It asks the reminder's kind whether it is still owed and whether the person
still receives it (otherwise it is withdrawn, with the reason recorded), sends the email unless the person
turned email off or it went on an earlier attempt, then writes the inbox item (one per reminder:
InboxItem.reminder is one-to-one) and settles the row (delivered_at, email_sent_at) in one transaction; a
failed email still writes the inbox item. The lease outlasts a delivery (the task's time limit and the email
timeout), so it only lapses when its holder died.

The email says only that something needs attention, with the link (templates/emails/attention_*): no name, no
kind of review, no missed doses, since ordinary mail is not a safe place for drug-treatment details. The inbox
item, behind the sign-in, has the whole message; REMINDER_EMAIL_DETAIL turns the whole message on for email too,
for a service whose mail is secure end to end (NHSmail to NHSmail).

A failed delivery records the error and holds the row for a back-off (1, 2, 4 ... 30 minutes) by setting the
lease to the retry time; the task retries after it, and once its retries run out the sweep finds the reminder
stranded. Delivery is at least once for email: a worker killed after the mail server accepted a message and
before the row was settled sends it again on recovery (a reminder lost would be worse than one repeated); the
inbox item is written once whatever happens.
"""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from recovery_reviews.models import User
from reviews.models import InboxItem, Reminder
from reviews.reminders import kinds
from reviews.reminders.kinds.base import Kind, Message

logger = logging.getLogger(__name__)

RETRY_FIRST = timedelta(minutes=1)
RETRY_LONGEST = timedelta(minutes=30)  # below the Redis visibility timeout (settings: Celery)
EMAIL_TIMEOUT_SECONDS = 30  # an SMTP server that hangs must not outlast the lease

DELIVERED, WITHDRAWN, SKIPPED = "delivered", "withdrawn", "skipped"


class ReminderDeliveryFailed(Exception):
    """The inbox or the email failed; the error is recorded and the row held until retry_in has passed."""

    def __init__(self, reminder_id: int, retry_in: timedelta, error: Exception):
        super().__init__(f"Reminder {reminder_id} not delivered ({type(error).__name__}: {error})")
        self.reminder_id = reminder_id
        self.retry_in = retry_in


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
    kind = kinds.for_value(reminder.kind)
    reason = _withdrawn_because(kind, reminder, today)
    if reason:
        _settle(reminder_id, last_error=f"Withdrawn, not sent: {reason}")
        logger.info("Reminder %s withdrawn: %s", reminder_id, reason)
        return WITHDRAWN
    email_sent_at, message = reminder.email_sent_at, None
    try:
        message = kind.message(reminder)
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


def _withdrawn_because(kind: Kind | None, reminder: Reminder, today: date) -> str:
    """Why a claimed reminder should not go out now (what it was about moved on while it waited, or the person
    no longer receives it), or ""."""
    if kind is None:
        return f"no kind of reminder registered sends {reminder.kind!r}."
    reason = kind.no_longer_owed(reminder, today)
    if not reason and reminder.recipient_id not in kind.recipients(reminder, today):
        reason = f"{reminder.recipient} is no longer {kind.recipients_described} for this patient."
    return reason


def _inbox_item(reminder: Reminder, message: Message) -> None:
    """One inbox item per reminder (InboxItem.reminder is one-to-one): a second insert is ignored."""
    subject = message.subject[: InboxItem._meta.get_field("subject").max_length]
    item = InboxItem(
        reminder=reminder,
        recipient=reminder.recipient,
        subject=subject,
        body=message.text,
        link=message.path,
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


def _wants_email(user: User) -> bool:
    return user.email_reminders and bool(user.email)


def attention_only(message: Message) -> Message:
    """The email a reminder sends unless REMINDER_EMAIL_DETAIL is on: that something needs attention, and the
    link to it, and nothing about the patient."""
    context = {"url": f"{settings.SITE_URL}{message.path}"}
    return Message(
        subject=" ".join(render_to_string("emails/attention_subject.txt", context).split()),
        text=render_to_string("emails/attention_body.txt", context),
        html=render_to_string("emails/attention_body.html", context),
        path=message.path,
    )


def _send_email(reminder: Reminder, message: Message) -> None:
    if not settings.REMINDER_EMAIL_DETAIL:
        message = attention_only(message)
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or EMAIL_TIMEOUT_SECONDS
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        to=[reminder.recipient.email],
        headers={"X-Recovery-Reviews-Reminder": str(reminder.pk)},
        connection=get_connection(timeout=timeout),
    )
    email.attach_alternative(message.html, "text/html")
    email.send()
