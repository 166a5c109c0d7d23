"""Thin Celery tasks (docs/conventions.md 7): each takes ids, calls one service, and holds only retry policy.

Beat runs sweep_reminders every few minutes (settings.CELERY_BEAT_SCHEDULE). Nothing is scheduled weeks ahead
with an eta: the sweep reads the stored dates each time (docs/reminders.md). Every task acknowledges late
(settings), so a message whose worker died is delivered again, which the database claims make harmless.
"""

from functools import partial

from celery import shared_task
from django.db import transaction

from reviews import reminders


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def sweep_reminders() -> dict:
    """Claim every reminder owed today and enqueue the deliveries, once the claims have committed."""
    with transaction.atomic():
        result = reminders.reminders_sweep()
        for reminder_id in result.to_deliver:
            # Not robust=True: if the broker fails mid-way, stop; the rest are stranded and a later sweep
            # enqueues them, rather than this one retrying a dead broker thousands of times.
            transaction.on_commit(partial(deliver_reminder.delay, reminder_id))
    return {"claimed": len(result.claimed), "stranded": len(result.stranded)}


@shared_task(
    bind=True,
    acks_late=True,
    # Anything unexpected (the database gone away before the lease was taken) backs off exponentially too.
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,  # well inside settings.REMINDER_LEASE_SECONDS
)
def deliver_reminder(self, reminder_id: int) -> str:
    """Deliver one claimed reminder. A recorded failure is retried when its back-off ends; after the last retry
    the sweep enqueues it again (it is stranded), so a reminder is never given up."""
    try:
        return reminders.reminder_deliver(reminder_id=reminder_id)
    except reminders.ReminderDeliveryFailed as failure:
        raise self.retry(exc=failure, countdown=failure.retry_in.total_seconds() + 1) from failure


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def recompute_schedules() -> str:
    """The nightly safety net: every open episode's next review recomputed.

    docs/design.md, Review scheduling policy."""
    from reviews.dashboards.owed_counts import rebuild  # imported late, as the adapter is
    from reviews.services.schedule import episodes_schedule_recompute  # written alongside; imported late

    result = str(episodes_schedule_recompute())
    # The changes the recompute made folded into the kept counts: none wait when it rebuilt them itself, in its
    # transaction (it replaced many items), and then nothing is counted twice.
    rebuild(force=False, changes_over=0)
    return result


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def rebuild_owed_counts() -> int:
    """Every quarter of an hour: the dashboard's and the forecast's kept counts made as of the new day just after
    midnight, so that no manager's first page of the day waits for it, and folded in again when many changes
    wait to be summed by every read (reviews.dashboards.owed_counts). Otherwise nothing."""
    from reviews.dashboards.owed_counts import FOLD_CHANGES_OVER, rebuild

    return rebuild(force=False, changes_over=FOLD_CHANGES_OVER) or 0


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def rebuild_kept_figures() -> str:
    """The managers' kept figures for the new day, stale ones dropped (reviews.dashboards.kept_rebuild): the
    first page of the day reads them instead of computing them."""
    from django.utils import timezone

    from reviews.dashboards.kept_rebuild import kept_figures_rebuild

    return str(kept_figures_rebuild(today=timezone.localdate()))
