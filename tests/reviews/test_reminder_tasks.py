"""The Celery tasks are thin (docs/conventions.md 7): called directly here, they enqueue after commit, carry
ids, and hold only the retry policy. A real worker runs them in test_celery_integration.py."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from celery.exceptions import Retry

from reviews import tasks
from reviews.models import Reminder
from tests.support.schedule import store_schedule

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 10)


@pytest.fixture
def due_soon(episode):
    store_schedule(episode, target=date(2026, 4, 15), deadline=date(2026, 7, 15))
    return episode


@time_machine.travel(datetime(2026, 4, 10, 9, tzinfo=UTC), tick=False)
def test_the_sweep_enqueues_each_claimed_reminder_by_id_once_the_claims_commit(
    due_soon, django_capture_on_commit_callbacks
):
    with mock.patch.object(tasks.deliver_reminder, "delay") as delay:
        with django_capture_on_commit_callbacks() as callbacks:
            outcome = tasks.sweep_reminders()
        assert delay.call_count == 0  # nothing is sent before the claims are committed
        for callback in callbacks:
            callback()
    assert outcome == {"claimed": 2, "stranded": 0}
    assert sorted(call.args[0] for call in delay.call_args_list) == sorted(
        Reminder.objects.values_list("pk", flat=True)
    )


@time_machine.travel(datetime(2026, 4, 10, 9, tzinfo=UTC), tick=False)
def test_delivery_returns_what_happened(due_soon):
    tasks.sweep_reminders.run()
    pk = Reminder.objects.order_by("pk").first().pk
    assert tasks.deliver_reminder.run(pk) == "delivered"
    assert tasks.deliver_reminder.run(pk) == "skipped"  # a redelivered message does nothing


@time_machine.travel(datetime(2026, 4, 10, 9, tzinfo=UTC), tick=False)
def test_a_failed_delivery_is_retried_when_its_back_off_ends(due_soon, settings):
    settings.EMAIL_BACKEND = "tests.reviews.failing_email.FailingBackend"
    tasks.sweep_reminders.run()
    pk = Reminder.objects.order_by("pk").first().pk
    with (
        mock.patch.object(tasks.deliver_reminder, "retry", side_effect=Retry) as retry,
        pytest.raises(Retry),
    ):
        tasks.deliver_reminder.run(pk)
    assert retry.call_args.kwargs["countdown"] == timedelta(minutes=1).total_seconds() + 1
    assert "ConnectionError" in Reminder.objects.get(pk=pk).last_error


def test_the_delivery_task_acknowledges_late_and_backs_off():
    task = tasks.deliver_reminder
    assert task.acks_late and task.max_retries == 5 and task.retry_backoff
    assert task.time_limit < 300  # inside the lease (settings.REMINDER_LEASE_SECONDS)
    assert tasks.sweep_reminders.acks_late and tasks.recompute_schedules.acks_late


def test_the_beat_schedule_names_the_tasks_that_exist(settings):
    from recovery_reviews.celery import app

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_recompute_calls_the_schedule_service():
    with mock.patch(
        "reviews.services.schedule.episodes_schedule_recompute", return_value="done"
    ) as recompute:
        assert tasks.recompute_schedules.run() == "done"
    recompute.assert_called_once_with()
