"""Thin Celery tasks (CONVENTIONS.md 7): each takes ids, calls one service, and holds only retry policy."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from reviews.services import reminders


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def sweep_reminders() -> dict:
    """Beat runs this every few minutes: claim what is owed today and deliver whatever is undelivered."""
    result = reminders.reminders_sweep(today=timezone.localdate())
    for reminder_id in result.to_deliver:
        transaction.on_commit(lambda pk=reminder_id: deliver_reminder.delay(pk))
    return {"claimed": result.claimed, "to_deliver": len(result.to_deliver)}


@shared_task(
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def deliver_reminder(reminder_id: int) -> str:
    return reminders.reminder_deliver(reminder_id=reminder_id)


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def recompute_schedules() -> dict:
    """The nightly safety net: every open episode's next review recomputed."""
    from reviews.services.schedule import episodes_schedule_recompute

    result = episodes_schedule_recompute()
    return {"episodes": result.episodes, "changed": result.changed, "errors": result.errors}
