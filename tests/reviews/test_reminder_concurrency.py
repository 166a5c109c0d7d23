"""Several sweeps at once, on PostgreSQL: each reminder is claimed and delivered exactly once."""

import threading
from datetime import date

import pytest
from django.core import mail
from django.db import connection

from reviews.models import InboxItem, Reminder
from reviews.services import reminders
from reviews.services.schedule import episode_schedule_refresh
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_sweeps_send_each_reminder_exactly_once(team, alice, sam, mona):
    for day in range(1, 11):
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=alice),
            entry_date=date(2025, 12, day),
            lead_practitioner=sam,
        )
        episode_schedule_refresh(episode, today=date(2026, 1, 1))
    start = threading.Barrier(6)
    outcomes, errors = [], []

    def sweeper():
        try:
            start.wait()
            result = reminders.reminders_sweep(today=date(2026, 7, 20))  # every one overdue: alice, sam, mona
            outcomes.extend(reminders.reminder_deliver(reminder_id=pk) for pk in result.to_deliver)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert Reminder.objects.count() == 30
    assert outcomes.count("delivered") == 30
    assert InboxItem.objects.count() == 30
    assert len(mail.outbox) == 30
    assert Reminder.objects.filter(delivered_at__isnull=True).count() == 0
