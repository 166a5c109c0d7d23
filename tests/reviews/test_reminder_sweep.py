"""The reminder sweep and delivery, called directly (docs/reminders.md): stages, recipients, catch-up, once
only, withdrawn when no longer owed, email off, failures recorded and retried.

The sweep reads the dates the scheduling adapter stores on the episode (the contract between the two), so most
tests set those columns directly; one goes through the adapter end to end.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import TreatmentEpisode
from recovery_reviews.models import Role
from reviews import reminders
from reviews.models import InboxItem, Reminder, ReviewStatus
from reviews.reminders import delivery
from reviews.scheduling import ReviewDue, review_status
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory, UserFactory
from tests.support.schedule import store_schedule

pytestmark = pytest.mark.django_db

TARGET, DEADLINE = date(2026, 4, 15), date(2026, 7, 15)
REASON = "First strategic review within three months of treatment entry (§1.3)."
NOON = datetime(2026, 4, 1, 12, tzinfo=UTC)


def schedule(episode, target=TARGET, deadline=DEADLINE, kind="strategic_review", reasons=(REASON,)):
    """Store a next review on the episode, as the scheduling adapter does."""
    store_schedule(episode, kind=kind, target=target, deadline=deadline, reasons=reasons)
    return episode


@pytest.fixture
def scheduled(episode):
    return schedule(episode)


def sweep_and_deliver(today):
    result = reminders.reminders_sweep(today=today)
    outcomes = [reminders.reminder_deliver(reminder_id=pk, today=today) for pk in result.to_deliver]
    return result, outcomes


def claimed(stage=None):
    rows = Reminder.objects.all() if stage is None else Reminder.objects.filter(stage=stage)
    return sorted(rows.values_list("stage", "recipient__username"))


def emails_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


# --- Stages and recipients ----------------------------------------------------------------------------------


def test_nothing_is_owed_while_the_review_is_upcoming(scheduled):
    result, _ = sweep_and_deliver(TARGET - timedelta(days=15))
    assert result.to_deliver == [] and not Reminder.objects.exists()


@pytest.mark.parametrize(
    ("today", "stage"),
    [
        (TARGET - timedelta(days=14), "due_soon"),
        (TARGET, "due_soon"),
        (TARGET + timedelta(days=1), "due"),
        (DEADLINE, "due"),
        (DEADLINE + timedelta(days=1), "overdue"),
    ],
)
def test_each_stage_starts_on_its_day_and_reaches_the_keyworker_and_the_lead(scheduled, mona, today, stage):
    sweep_and_deliver(today)
    expected = {"alice", "sam", "mona"} if stage == "overdue" else {"alice", "sam"}
    assert claimed() == sorted((stage, name) for name in expected)


def test_the_sweep_puts_each_review_in_the_stage_the_policy_gives(team, alice, sam):
    today = date(2026, 6, 1)
    episodes = {}
    for days_from_today in (-31, -30, -29, -16, -15, -14, -13, -1, 0, 1, 13, 14, 15, 16):
        for grace in (0, 14, 30):
            target = today + timedelta(days=days_from_today)
            episode = EpisodeFactory(
                patient=PatientFactory(team=team, keyworker=alice), lead_practitioner=None
            )
            episodes[episode.pk] = schedule(episode, target=target, deadline=target + timedelta(days=grace))
            episodes[episode.pk] = ReviewDue("strategic_review", target, target + timedelta(days=grace), ())
    reminders.reminders_sweep(today=today)
    stages = dict(Reminder.objects.values_list("episode_id", "stage"))
    for pk, due in episodes.items():
        expected = review_status(due, today)
        assert stages.get(pk, "upcoming") == expected, (due, expected)


def test_overdue_reaches_the_managers_of_the_patients_team_and_no_one_else(scheduled, mona, other_team):
    UserFactory(username="stan", role=Role.MANAGER, team=None).managed_teams.add(other_team)
    UserFactory(username="gone", role=Role.MANAGER, team=None, is_active=False).managed_teams.add(
        scheduled.patient.team
    )
    UserFactory(username="kim", role=Role.KEYWORKER, team=other_team).managed_teams.add(
        scheduled.patient.team
    )
    sweep_and_deliver(TARGET + timedelta(days=1))
    assert "mona" not in {name for _, name in claimed()}
    sweep_and_deliver(DEADLINE + timedelta(days=1))
    assert claimed("overdue") == [("overdue", "alice"), ("overdue", "mona"), ("overdue", "sam")]


def test_without_a_lead_only_the_keyworker_hears_and_nobody_inactive_does(scheduled, sam):
    TreatmentEpisode.objects.filter(pk=scheduled.pk).update(lead_practitioner=None)
    sweep_and_deliver(TARGET)
    assert claimed() == [("due_soon", "alice")]
    schedule(scheduled, target=date(2026, 10, 1), deadline=date(2026, 10, 1))
    TreatmentEpisode.objects.filter(pk=scheduled.pk).update(lead_practitioner=sam)
    sam.is_active = False
    sam.save(update_fields=["is_active"])
    sweep_and_deliver(date(2026, 10, 1))
    assert claimed() == [("due_soon", "alice"), ("due_soon", "alice")]


def test_a_recovery_check_up_after_exit_is_reminded(scheduled):
    TreatmentEpisode.objects.filter(pk=scheduled.pk).update(
        exit_date=date(2026, 3, 1), exit_reason="dropped_out"
    )
    schedule(scheduled, target=date(2026, 3, 15), deadline=date(2026, 3, 29), kind="recovery_check_up")
    sweep_and_deliver(date(2026, 3, 20))
    assert claimed() == [("due", "alice"), ("due", "sam")]
    assert "recovery check-up" in InboxItem.objects.first().subject


def test_nothing_is_sent_for_an_episode_with_nothing_due_or_a_record_to_correct(scheduled, episode):
    store_schedule(scheduled, kind="", exit_date=date(2026, 2, 1), exit_reason="dropped_out")
    other = EpisodeFactory(
        patient=PatientFactory(team=scheduled.patient.team, keyworker=scheduled.patient.keyworker)
    )
    schedule(other, target=date(2026, 4, 1), deadline=date(2026, 4, 1), kind="record_error")
    sweep_and_deliver(date(2026, 4, 20))
    assert not Reminder.objects.exists() and not mail.outbox


def test_no_reminder_once_the_review_is_completed(episode, sam):
    """End to end through the scheduling adapter: a review held with the patient moves the next one on."""
    episode_schedule_refresh(episode, today=date(2026, 1, 20))
    StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=date(2026, 3, 30),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=date(2026, 3, 30),
    )
    episode_schedule_refresh(episode, today=date(2026, 3, 30))
    sweep_and_deliver(date(2026, 4, 16))
    assert not Reminder.objects.exists()


# --- Once only, and catch-up --------------------------------------------------------------------------------


def test_a_sweep_run_twice_sends_once(scheduled):
    first, _ = sweep_and_deliver(TARGET)
    second, _ = sweep_and_deliver(TARGET)
    assert len(first.claimed) == 2 and second.to_deliver == []
    assert Reminder.objects.count() == InboxItem.objects.count() == len(mail.outbox) == 2


def test_a_review_gets_each_stage_once_as_it_moves_through_them(scheduled, mona):
    for today in (
        TARGET - timedelta(days=14),
        TARGET,
        TARGET + timedelta(days=1),
        DEADLINE,
        DEADLINE + timedelta(days=1),
        DEADLINE + timedelta(days=30),
    ):
        sweep_and_deliver(today)
    assert [stage for stage, _ in claimed()] == [
        "due",
        "due",
        "due_soon",
        "due_soon",
        "overdue",
        "overdue",
        "overdue",
    ]
    assert InboxItem.objects.count() == len(mail.outbox) == 7


def test_a_sweep_after_an_outage_sends_only_the_current_stage(scheduled, mona):
    sweep_and_deliver(date(2026, 8, 1))  # nothing ran between March and August
    assert claimed() == [("overdue", "alice"), ("overdue", "mona"), ("overdue", "sam")]


def test_a_reminder_whose_delivery_was_lost_is_enqueued_again_by_a_later_sweep(scheduled, alice):
    with time_machine.travel(NOON, tick=False) as clock:
        lost = reminders.reminders_sweep(today=TARGET).claimed  # claimed; the delivery messages never arrive
        clock.shift(timedelta(minutes=5))
        assert reminders.reminders_sweep(today=TARGET).to_deliver == []  # still presumed in the queue
        clock.shift(timedelta(minutes=11))
        again = reminders.reminders_sweep(today=TARGET)
        assert again.claimed == [] and again.stranded == lost
        assert [reminders.reminder_deliver(reminder_id=pk, today=TARGET) for pk in again.to_deliver] == [
            "delivered",
            "delivered",
        ]
        clock.shift(timedelta(minutes=30))
        assert reminders.reminders_sweep(today=TARGET).to_deliver == []
    assert len(emails_to(alice)) == 1


def test_a_reminder_held_by_another_worker_is_left_to_it_until_its_lease_lapses(scheduled):
    with time_machine.travel(NOON, tick=False) as clock:
        pk = reminders.reminders_sweep(today=TARGET).claimed[0]
        assert delivery._take_lease(pk)  # another worker is delivering it...
        assert reminders.reminder_deliver(reminder_id=pk, today=TARGET) == "skipped"
        clock.shift(timedelta(minutes=16))  # ...and died: its lease (5 minutes) has lapsed
        assert pk in reminders.reminders_sweep(today=TARGET).stranded
        assert reminders.reminder_deliver(reminder_id=pk, today=TARGET) == "delivered"
        assert reminders.reminder_deliver(reminder_id=pk, today=TARGET) == "skipped"
    assert (
        Reminder.objects.get(pk=pk).attempts == 2
    )  # the dead worker's and the live one's; a skip is no attempt
    assert len(mail.outbox) == 1


# --- Withdrawn when no longer owed --------------------------------------------------------------------------


def test_a_claimed_reminder_for_a_review_completed_since_is_withdrawn(scheduled):
    result = reminders.reminders_sweep(today=TARGET)
    schedule(scheduled, target=date(2026, 10, 15), deadline=date(2026, 10, 15))  # the review was held
    outcomes = [reminders.reminder_deliver(reminder_id=pk, today=TARGET) for pk in result.to_deliver]
    assert outcomes == ["withdrawn", "withdrawn"]
    assert not mail.outbox and not InboxItem.objects.exists()
    assert all(r.last_error.startswith("Withdrawn") for r in Reminder.objects.all())


def test_a_reminder_that_waited_past_its_stage_is_withdrawn_and_the_current_stage_sent(scheduled):
    """A worker down from April to August: the due-soon reminder claimed in April is not sent in August."""
    with time_machine.travel(NOON, tick=False) as clock:
        reminders.reminders_sweep(today=TARGET)
        clock.shift(timedelta(days=120))
        _, outcomes = sweep_and_deliver(DEADLINE + timedelta(days=1))
    assert sorted(outcomes) == ["delivered", "delivered", "withdrawn", "withdrawn"]
    assert len(mail.outbox) == 2
    assert {i.subject.split(" (")[0] for i in InboxItem.objects.all()} == {
        "Pat Example: strategic review OVERDUE"
    }


def test_a_reminder_for_someone_no_longer_the_keyworker_is_withdrawn(scheduled, team, alice):
    result = reminders.reminders_sweep(today=TARGET)
    scheduled.patient.keyworker = UserFactory(username="kate", role=Role.KEYWORKER, team=team)
    scheduled.patient.save(update_fields=["keyworker"])
    for pk in result.to_deliver:
        reminders.reminder_deliver(reminder_id=pk, today=TARGET)
    assert not emails_to(alice)
    sweep_and_deliver(TARGET)
    assert claimed() == [("due_soon", "alice"), ("due_soon", "kate"), ("due_soon", "sam")]
    assert sorted(m.to[0].split("@")[0] for m in mail.outbox) == ["kate", "sam"]


# --- Email off, content, failures ---------------------------------------------------------------------------


def test_a_person_who_turned_email_off_still_gets_the_inbox_item(scheduled, alice, sam):
    reminders.email_reminders_set(user=alice, enabled=False)
    sweep_and_deliver(TARGET)
    assert InboxItem.objects.filter(recipient=alice).count() == 1
    assert not emails_to(alice) and len(emails_to(sam)) == 1
    reminder = Reminder.objects.get(recipient=alice)
    assert reminder.delivered_at is not None and reminder.email_sent_at is None


def test_a_person_without_an_email_address_gets_the_inbox_item(scheduled, alice):
    alice.email = ""
    alice.save(update_fields=["email"])
    _, outcomes = sweep_and_deliver(TARGET)
    assert outcomes == ["delivered", "delivered"] and InboxItem.objects.filter(recipient=alice).exists()


def test_the_reminder_says_whose_review_which_kind_the_dates_and_why(scheduled, alice, settings):
    """In the inbox always; by email too where REMINDER_EMAIL_DETAIL allows it (secure mail)."""
    settings.REMINDER_EMAIL_DETAIL = True
    sweep_and_deliver(TARGET - timedelta(days=3))
    email = emails_to(alice)[0]
    assert (
        email.subject == "Pat Example: strategic review due soon (target 15 Apr 2026, deadline 15 Jul 2026)"
    )
    assert "Target:   15 Apr 2026" in email.body and "Deadline: 15 Jul 2026" in email.body
    assert REASON in email.body
    assert f"http://127.0.0.1:8000/patients/{scheduled.patient_id}/" in email.body
    assert "as Pat Example's keyworker" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and "<li>First strategic review within three months" in html
    reminder = Reminder.objects.get(recipient=alice)
    assert email.extra_headers["X-Recovery-Reviews-Reminder"] == str(reminder.pk)
    item = InboxItem.objects.get(recipient=alice)
    assert item.subject == email.subject and item.body == email.body
    assert item.link == f"/patients/{scheduled.patient_id}/"
    assert "as Pat Example's lead practitioner" in InboxItem.objects.exclude(recipient=alice).get().body


def test_an_overdue_reminder_tells_the_manager_why_they_receive_it(scheduled, mona):
    sweep_and_deliver(DEADLINE + timedelta(days=1))
    item = InboxItem.objects.get(recipient=mona)
    assert "OVERDUE" in item.subject and "as Pat Example's team manager" in item.body
    assert len(emails_to(mona)) == 1


def test_a_failed_email_is_recorded_and_retried_after_its_back_off(scheduled, settings, alice):
    settings.EMAIL_BACKEND = "tests.reviews.failing_email.FailingBackend"
    with time_machine.travel(NOON, tick=False) as clock:
        pk = Reminder.objects.get(pk=reminders.reminders_sweep(today=TARGET).claimed[0]).pk
        with pytest.raises(reminders.ReminderDeliveryFailed) as failed:
            reminders.reminder_deliver(reminder_id=pk, today=TARGET)
        assert failed.value.retry_in == timedelta(minutes=1)
        reminder = Reminder.objects.get(pk=pk)
        assert reminder.delivered_at is None and reminder.attempts == 1
        assert "ConnectionError: mail server unreachable" in reminder.last_error
        assert reminder.lease_expires_at == NOON + timedelta(minutes=1)
        assert InboxItem.objects.filter(reminder=reminder).exists()  # the inbox does not wait for email

        assert reminders.reminder_deliver(reminder_id=pk, today=TARGET) == "skipped"  # backing off
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        clock.shift(timedelta(minutes=1))
        assert reminders.reminder_deliver(reminder_id=pk, today=TARGET) == "delivered"
    reminder.refresh_from_db()
    assert (reminder.attempts, reminder.last_error) == (2, "")
    assert reminder.delivered_at is not None and reminder.email_sent_at is not None
    assert InboxItem.objects.filter(reminder=reminder).count() == 1 and len(mail.outbox) == 1


def test_the_back_off_doubles_to_at_most_thirty_minutes(scheduled, settings):
    settings.EMAIL_BACKEND = "tests.reviews.failing_email.FailingBackend"
    waits = []
    with time_machine.travel(NOON, tick=False) as clock:
        pk = reminders.reminders_sweep(today=TARGET).claimed[0]
        for _ in range(7):
            with pytest.raises(reminders.ReminderDeliveryFailed) as failed:
                reminders.reminder_deliver(reminder_id=pk, today=TARGET)
            waits.append(int(failed.value.retry_in.total_seconds() // 60))
            clock.shift(failed.value.retry_in)
    assert waits == [1, 2, 4, 8, 16, 30, 30]


# --- Cost ---------------------------------------------------------------------------------------------------


def test_the_sweep_costs_the_same_number_of_queries_for_any_number_of_episodes(team, alice, sam, mona):
    def episodes(count):
        for _ in range(count):
            episode = EpisodeFactory(
                patient=PatientFactory(team=team, keyworker=alice), lead_practitioner=sam
            )
            schedule(episode, target=date(2026, 3, 1), deadline=date(2026, 3, 1))

    counts = []
    for count in (1, 10):
        episodes(count)
        with CaptureQueriesContext(connection) as queries:
            result = reminders.reminders_sweep(today=date(2026, 3, 20))
        assert len(result.claimed) == 3 * count
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 11  # 7 for the reviews, 2 for the safety events, 2 for disengagement
