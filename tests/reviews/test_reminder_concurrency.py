"""Several sweeps and deliveries at once on PostgreSQL, each thread on its own connection: every reminder is
claimed by exactly one sweep, delivered by exactly one worker, and reaches its person once."""

import threading
from collections import Counter
from datetime import date

import pytest
from django.core import mail
from django.db import connection

from reviews import reminders
from reviews.models import InboxItem, Reminder
from tests.support.factories import EpisodeFactory, PatientFactory
from tests.support.schedule import store_schedule

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6
TODAY = date(2026, 7, 20)


def run_at_once(work, count=THREADS):
    """Run work(i) in `count` threads released together; return their results, raising the first error."""
    start = threading.Barrier(count)
    results, errors = [None] * count, []

    def runner(i):
        try:
            start.wait()
            results[i] = work(i)
        except Exception as error:  # raised below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def overdue_episodes(team, alice, sam, mona):
    """40 overdue reviews, each owed to alice, sam and mona: 120 reminders, many of them for the same people."""
    for day in range(40):
        episode = EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice), lead_practitioner=sam)
        store_schedule(
            episode,
            target=date(2026, 5, 1 + day % 28),
            deadline=date(2026, 6, 1 + day % 28),
            reasons=["A reason (§1.3)."],
        )


def test_concurrent_sweeps_claim_each_reminder_once_and_know_which_are_theirs(overdue_episodes):
    results = run_at_once(lambda _: reminders.reminders_sweep(today=TODAY))
    claims = [pk for result in results for pk in result.claimed]
    assert len(claims) == len(set(claims)) == Reminder.objects.count() == 120
    assert set(claims) == set(Reminder.objects.values_list("pk", flat=True))


def test_concurrent_sweeps_and_deliveries_send_each_reminder_exactly_once(overdue_episodes):
    def sweep_and_deliver(_):
        result = reminders.reminders_sweep(today=TODAY)
        # Every worker also tries every reminder, as redelivered messages and duplicate enqueues would.
        ids = Reminder.objects.values_list("pk", flat=True)
        return [reminders.reminder_deliver(reminder_id=pk, today=TODAY) for pk in [*result.claimed, *ids]]

    outcomes = Counter(o for result in run_at_once(sweep_and_deliver) for o in result)
    assert outcomes["delivered"] == Reminder.objects.count() == 120
    assert outcomes["withdrawn"] == 0
    assert Reminder.objects.filter(delivered_at__isnull=True).count() == 0
    assert InboxItem.objects.count() == 120
    sent = Counter(m.extra_headers["X-Recovery-Reviews-Reminder"] for m in mail.outbox)
    assert len(sent) == 120 and set(sent.values()) == {1}


def test_many_workers_delivering_one_reminder_deliver_it_once(overdue_episodes):
    pk = reminders.reminders_sweep(today=TODAY).claimed[0]
    outcomes = run_at_once(lambda _: reminders.reminder_deliver(reminder_id=pk, today=TODAY), count=8)
    assert sorted(outcomes) == ["delivered"] + ["skipped"] * 7
    assert len(mail.outbox) == 1 and InboxItem.objects.count() == 1
