"""The disengagement reminder (Intro, App. B; docs/reminders.md, "Disengagement"): two missed appointments in a row,
or 28 days on OST without an attended one, remind the keyworker and the lead once per spell; an attended
appointment withdraws it; the email says nothing identifiable, the inbox says why and since when."""

from datetime import date

import pytest
from django.core import mail

from patients.models import AppointmentStatus
from reviews import reminders
from reviews.models import InboxItem, Reminder, ReminderKind
from tests.support.factories import AppointmentFactory, InterventionFactory, aware

pytestmark = pytest.mark.django_db
MISSED = AppointmentStatus.MISSED
TODAY = date(2026, 3, 20)


def disengagement_reminders():
    return Reminder.objects.filter(kind=ReminderKind.DISENGAGEMENT)


def sweep(today=TODAY):
    return [pk for pk in reminders.reminders_sweep(today=today).claimed if pk in _ids()]


def _ids():
    return set(disengagement_reminders().values_list("pk", flat=True))


@pytest.fixture
def two_missed(episode):
    """Pat Example attended on 2 Feb, then missed 2 and 16 Mar."""
    AppointmentFactory(episode=episode, starts_at=aware(2026, 2, 2))
    AppointmentFactory(episode=episode, starts_at=aware(2026, 3, 2), status=MISSED, review_note="")
    AppointmentFactory(episode=episode, starts_at=aware(2026, 3, 16), status=MISSED, review_note="")
    return episode


def test_two_missed_in_a_row_remind_the_keyworker_and_the_lead_once(two_missed, alice, sam):
    claimed = sweep()
    assert {(r.recipient_id, r.target, r.stage) for r in disengagement_reminders()} == {
        (alice.pk, date(2026, 3, 16), "disengagement"),
        (sam.pk, date(2026, 3, 16), "disengagement"),
    }
    assert len(claimed) == 2
    assert sweep() == [] and sweep(date(2026, 3, 27)) == []  # once per spell, however many sweeps


def test_one_missed_is_not_owed(episode):
    AppointmentFactory(episode=episode, starts_at=aware(2026, 3, 16), status=MISSED, review_note="")
    sweep()
    assert not disengagement_reminders().exists()


def test_twenty_eight_days_on_ost_without_an_attended_appointment_is_owed_from_the_28th_day(episode, alice):
    InterventionFactory(episode=episode)  # methadone since entry, 15 Jan
    AppointmentFactory(episode=episode, starts_at=aware(2026, 2, 20))
    sweep(date(2026, 3, 19))
    assert not disengagement_reminders().exists()  # 27 days
    sweep(date(2026, 3, 20))
    assert set(disengagement_reminders().values_list("target", flat=True)) == {date(2026, 3, 20)}


def test_an_attended_appointment_withdraws_it_and_a_later_spell_is_reminded_again(two_missed, alice):
    pks = sweep()
    AppointmentFactory(episode=two_missed, starts_at=aware(2026, 3, 19))
    assert {reminders.reminder_deliver(reminder_id=pk, today=TODAY) for pk in pks} == {"withdrawn"}
    assert "no longer disengaged" in Reminder.objects.get(pk=pks[0]).last_error
    assert not InboxItem.objects.exists() and not mail.outbox
    AppointmentFactory(episode=two_missed, starts_at=aware(2026, 4, 1), status=MISSED, review_note="")
    AppointmentFactory(episode=two_missed, starts_at=aware(2026, 4, 8), status=MISSED, review_note="")
    assert len(sweep(date(2026, 4, 9))) == 2
    assert set(disengagement_reminders().values_list("target", flat=True)) == {
        date(2026, 3, 16),
        date(2026, 4, 8),
    }


def test_an_ended_episode_is_not_reminded(two_missed):
    two_missed.exit_date, two_missed.exit_reason = date(2026, 3, 18), "completed_drug_free"
    two_missed.save(update_fields=["exit_date", "exit_reason"])
    sweep()
    assert not disengagement_reminders().exists()


def test_the_inbox_says_why_and_since_when_and_the_email_nothing_identifiable(two_missed, alice):
    for pk in sweep():
        assert reminders.reminder_deliver(reminder_id=pk, today=TODAY) == "delivered"
    item = InboxItem.objects.get(recipient=alice)
    assert item.subject == "Disengagement: Pat Example has drifted out of contact since 16 Mar 2026"
    assert (
        "2 missed appointments in a row since the last attended on 2 Feb 2026, the second on 16 Mar 2026"
        in item.body
    )
    assert "The alert\nclears once an attended appointment is recorded." in item.body
    email = next(m for m in mail.outbox if m.to == [alice.email])
    for text in (email.subject, email.body, email.alternatives[0][0]):
        assert "Pat" not in text and "Example" not in text and "missed" not in text and "Disengag" not in text


def test_a_recipient_who_left_is_withdrawn(two_missed, alice, sam):
    pks = sweep()
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    results = {
        Reminder.objects.get(pk=pk).recipient_id: reminders.reminder_deliver(reminder_id=pk, today=TODAY)
        for pk in pks
    }
    assert results == {alice.pk: "withdrawn", sam.pk: "delivered"}
