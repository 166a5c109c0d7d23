"""The reminder sweep and delivery, called directly: stages, recipients, catch-up, once only."""

from datetime import date

import pytest
from django.core import mail

from reviews.models import InboxItem, Reminder, ReviewStatus
from reviews.services import reminders
from reviews.services.schedule import episode_schedule_refresh
from tests.factories import StrategicReviewFactory

pytestmark = pytest.mark.django_db

# The fixture episode entered on 15 Jan 2026: first review target 15 Apr 2026, deadline 15 Jul 2026.


@pytest.fixture
def scheduled(episode):
    episode_schedule_refresh(episode, today=date(2026, 1, 20))
    return episode


def sweep_and_deliver(today):
    result = reminders.reminders_sweep(today=today)
    outcomes = [reminders.reminder_deliver(reminder_id=pk) for pk in result.to_deliver]
    return result, outcomes


def sent(stage=None):
    rows = Reminder.objects.all() if stage is None else Reminder.objects.filter(stage=stage)
    return sorted(rows.values_list("stage", "recipient__username"))


def test_nothing_is_sent_while_a_review_is_upcoming(scheduled):
    result, _ = sweep_and_deliver(date(2026, 3, 31))
    assert result.claimed == 0 and not Reminder.objects.exists()


@pytest.mark.parametrize(
    ("today", "stage"),
    [(date(2026, 4, 1), "due_soon"), (date(2026, 4, 16), "due"), (date(2026, 7, 16), "overdue")],
)
def test_each_stage_reaches_the_keyworker_and_the_lead(scheduled, today, stage):
    sweep_and_deliver(today)
    recipients = {"alice", "sam"}
    assert {u for s, u in sent(stage)} >= recipients


def test_overdue_also_reaches_the_teams_manager_but_due_does_not(scheduled, mona):
    sweep_and_deliver(date(2026, 4, 16))
    assert "mona" not in {u for _, u in sent()}
    sweep_and_deliver(date(2026, 7, 16))
    assert sent("overdue") == [("overdue", "alice"), ("overdue", "mona"), ("overdue", "sam")]


def test_a_sweep_run_twice_sends_once(scheduled):
    sweep_and_deliver(date(2026, 4, 1))
    sweep_and_deliver(date(2026, 4, 1))
    assert Reminder.objects.count() == 2
    assert InboxItem.objects.count() == 2
    assert len(mail.outbox) == 2


def test_a_sweep_after_an_outage_sends_the_current_stage_once(scheduled):
    sweep_and_deliver(date(2026, 8, 1))  # nothing ran between April and August
    assert sent() == [("overdue", "alice"), ("overdue", "sam")]


def test_the_reminder_says_whose_review_which_kind_the_dates_and_why(scheduled, alice):
    sweep_and_deliver(date(2026, 4, 1))
    email = next(m for m in mail.outbox if m.to == [alice.email])
    assert "Pat Example: strategic review due soon" in email.subject
    assert "15 Apr 2026" in email.body and "15 Jul 2026" in email.body
    assert "(§1.3)" in email.body
    assert f"/patients/{scheduled.patient_id}/" in email.body
    item = InboxItem.objects.get(recipient=alice)
    assert item.link == f"/patients/{scheduled.patient_id}/"


def test_no_reminder_once_the_review_is_completed(scheduled, sam):
    StrategicReviewFactory(
        episode=scheduled,
        lead=sam,
        held_on=date(2026, 3, 30),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=date(2026, 3, 30),
    )
    episode_schedule_refresh(scheduled, today=date(2026, 3, 30))
    sweep_and_deliver(date(2026, 4, 16))
    assert not Reminder.objects.exists()


def test_an_undelivered_reminder_for_a_review_since_completed_is_not_sent(scheduled, sam):
    result = reminders.reminders_sweep(today=date(2026, 4, 1))
    StrategicReviewFactory(
        episode=scheduled,
        lead=sam,
        held_on=date(2026, 4, 2),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=date(2026, 4, 2),
    )
    episode_schedule_refresh(scheduled, today=date(2026, 4, 2))
    outcomes = [reminders.reminder_deliver(reminder_id=pk) for pk in result.to_deliver]
    assert outcomes == ["superseded", "superseded"]
    assert not mail.outbox and not InboxItem.objects.exists()


def test_a_person_who_turned_email_off_still_gets_the_inbox_item(scheduled, alice):
    reminders.email_reminders_set(user=alice, enabled=False)
    sweep_and_deliver(date(2026, 4, 1))
    assert InboxItem.objects.filter(recipient=alice).count() == 1
    assert all(m.to != [alice.email] for m in mail.outbox)


def test_a_failed_email_is_recorded_and_delivered_by_a_later_sweep(scheduled, settings):
    settings.EMAIL_BACKEND = "tests.reviews.failing_email.FailingBackend"
    result = reminders.reminders_sweep(today=date(2026, 4, 1))
    for pk in result.to_deliver:
        with pytest.raises(ConnectionError):
            reminders.reminder_deliver(reminder_id=pk)
    assert all("ConnectionError" in r.last_error and r.delivered_at is None for r in Reminder.objects.all())

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _, outcomes = sweep_and_deliver(date(2026, 4, 2))
    assert outcomes == ["delivered", "delivered"]
    assert len(mail.outbox) == 2 and InboxItem.objects.count() == 2
    assert all(r.attempts == 2 and r.last_error == "" for r in Reminder.objects.all())


def test_a_reminder_another_worker_is_delivering_is_left_to_it(scheduled):
    result = reminders.reminders_sweep(today=date(2026, 4, 1))
    pk = result.to_deliver[0]
    assert reminders._take_lease(pk)
    assert reminders.reminder_deliver(reminder_id=pk) == "taken"
    assert pk not in reminders.reminders_sweep(today=date(2026, 4, 1)).to_deliver


def test_the_inbox_shows_unread_count_and_opening_marks_read(client, scheduled, alice):
    sweep_and_deliver(date(2026, 4, 1))
    client.force_login(alice)
    page = client.get("/reviews/inbox/").content.decode()
    assert 'data-testid="unread-count">1<' in page
    item = InboxItem.objects.get(recipient=alice)
    response = client.get(f"/reviews/inbox/{item.pk}/")
    assert response["Location"] == item.link
    item.refresh_from_db()
    assert item.read_at is not None


def test_nobody_opens_another_persons_inbox_item(client, scheduled, olga):
    sweep_and_deliver(date(2026, 4, 1))
    client.force_login(olga)
    assert client.get(f"/reviews/inbox/{InboxItem.objects.first().pk}/").status_code == 404
