"""After three or more missed doses in a row the prescriber must be told before dosing resumes (tolerance may be
lost): the record asks for it until it is recorded, and says when it was."""

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from patients import services
from patients.models import PharmacyReport
from patients.selectors import recent_safety_events
from recovery_reviews.models import Role
from reviews import reminders
from reviews.models import InboxItem, Reminder
from tests.patients.conftest import report_with_run
from tests.patients.test_views_forms import error_beside
from tests.support.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
TODAY = date(2026, 5, 1)


def url(report):
    return reverse("patients:prescriber_informed", args=[report.pk])


def test_until_the_prescriber_is_told_the_record_and_the_caseload_say_so(client, alice, open_episode):
    report = report_with_run(open_episode, alice)
    (event,) = recent_safety_events(alice, today=TODAY)
    assert event.action_needed == "Prescriber not yet told: tell them before dosing resumes."
    client.force_login(alice)
    caseload = client.get(reverse("patients:caseload")).content.decode()
    assert 'data-testid="action-needed">Prescriber not yet told' in caseload
    record = client.get(open_episode.get_absolute_url()).content.decode()
    assert "Tell the prescriber before dosing resumes." in record
    assert f'href="{url(report)}">Record that they were told</a>' in record
    assert "prescriber not yet told" in record  # on the timeline too

    response = client.post(url(report), {"informed_on": "2026-04-24"}, follow=True)
    page = response.content.decode()
    assert "Recorded: the prescriber was told on 24 Apr 2026." in page
    assert 'data-testid="prescriber-told">Prescriber told on 24 Apr 2026.' in page
    assert "Record that they were told" not in page
    stored = PharmacyReport.objects.get(pk=report.pk)
    assert (stored.prescriber_informed_on, stored.prescriber_informed_by) == (date(2026, 4, 24), alice)
    (event,) = recent_safety_events(alice, today=TODAY)
    assert event.action_needed == "" and event.what.endswith("prescriber told on 24 Apr")


def test_the_date_can_come_with_the_report(client, alice, open_episode):
    client.force_login(alice)
    response = client.post(
        reverse("patients:pharmacy_report_new", args=[open_episode.pk]),
        {
            "pharmacy_name": "Boots",
            "period_start": "2026-04-10",
            "period_end": "2026-04-23",
            "doses_due": "14",
            "supervised_doses_taken": "11",
            "take_home_doses_collected": "0",
            "missed_dates": "20/04/2026, 21/04/2026, 22/04/2026",
            "prescriber_informed_on": "2026-04-23",
        },
        follow=True,
    )
    assert "a safety event. Tolerance may be lost; the prescriber was told on 23 Apr 2026." in (
        response.content.decode()
    )
    assert PharmacyReport.objects.get().prescriber_informed_on == date(2026, 4, 23)


@pytest.mark.parametrize(
    ("told", "message"),
    [
        ("2026-05-02", "This date is in the future."),
        ("2026-04-01", "This is before the report&#x27;s period began on 10 Apr 2026."),
        ("", "Give the date the prescriber was told."),
    ],
)
def test_a_date_that_cannot_be_right_is_refused_beside_it(client, alice, open_episode, told, message):
    report = report_with_run(open_episode, alice)
    client.force_login(alice)
    response = client.post(url(report), {"informed_on": told})
    assert message in error_beside(response.content.decode(), "informed_on")
    assert PharmacyReport.objects.get(pk=report.pk).prescriber_informed_on is None


def test_the_first_date_recorded_stands(client, alice, sam, open_episode):
    report = report_with_run(open_episode, alice, prescriber_informed_on=date(2026, 4, 23))
    with pytest.raises(ValidationError) as error:
        services.prescriber_informed_record(report=report, informed_on=date(2026, 4, 30), by=sam)
    assert error.value.messages == ["Already recorded: the prescriber was told on 23 Apr 2026."]
    client.force_login(sam)
    page = client.get(url(report)).content.decode()
    assert "Recorded: the prescriber was told on 23 Apr 2026 (Alice Keyworker)." in page
    client.post(url(report), {"informed_on": "2026-04-30"})
    assert PharmacyReport.objects.get(pk=report.pk).prescriber_informed_on == date(2026, 4, 23)


def test_another_teams_report_is_not_found(client, olga, alice, open_episode):
    report = report_with_run(open_episode, alice)
    client.force_login(olga)
    assert client.post(url(report), {"informed_on": "2026-04-24"}).status_code == 404
    assert PharmacyReport.objects.get(pk=report.pk).prescriber_informed_on is None


def test_the_database_refuses_a_date_before_the_period(alice, open_episode):
    report = report_with_run(open_episode, alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        PharmacyReport.objects.filter(pk=report.pk).update(prescriber_informed_on=date(2026, 4, 1))


def sweep_and_deliver(today=TODAY):
    result = reminders.reminders_sweep(today=today)
    return [reminders.reminder_deliver(reminder_id=pk, today=today) for pk in result.to_deliver]


def test_the_keyworker_and_the_lead_are_reminded_of_a_safety_event_by_inbox_and_email(
    alice, sam, kim_recording, open_episode
):
    report = report_with_run(open_episode, kim_recording)
    assert sweep_and_deliver() == ["delivered", "delivered"]
    items = InboxItem.objects.order_by("recipient__username")
    assert [i.recipient for i in items] == [alice, sam]
    assert items[0].subject == (
        "SAFETY: Pat Example missed 3 doses in a row: tell the prescriber before dosing resumes"
    )
    assert "Boots, 10 Apr to 23 Apr 2026" in items[0].body
    assert "the prescriber must be told before dosing resumes" in items[0].body
    assert items[0].link == open_episode.patient.get_absolute_url()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([alice.email, sam.email])
    assert {m.subject for m in mail.outbox} == {"Recovery Reviews: something needs your attention"}
    assert all("Pat" not in m.body and "doses" not in m.body for m in mail.outbox)
    assert sweep_and_deliver() == []  # once each
    assert report.pk


def test_whoever_recorded_it_is_not_reminded_nor_anyone_once_the_prescriber_knows(alice, sam, open_episode):
    report_with_run(open_episode, alice)
    result = reminders.reminders_sweep(today=TODAY)
    assert list(Reminder.objects.values_list("recipient__username", flat=True)) == ["sam"]
    services.prescriber_informed_record(
        report=PharmacyReport.objects.get(), informed_on=date(2026, 4, 24), by=alice
    )  # told before the reminder went out
    outcomes = [reminders.reminder_deliver(reminder_id=pk, today=TODAY) for pk in result.to_deliver]
    assert outcomes == ["withdrawn"]
    assert "the prescriber was told on 24 Apr 2026" in Reminder.objects.get().last_error
    assert not InboxItem.objects.exists()


def test_a_report_entered_in_error_is_not_reminded(alice, sam, open_episode):
    report = report_with_run(open_episode, alice)
    result = reminders.reminders_sweep(today=TODAY)
    services.record_mark_entered_in_error(record=report, reason="Wrong patient.", by=alice)
    outcomes = [reminders.reminder_deliver(reminder_id=pk, today=TODAY) for pk in result.to_deliver]
    assert outcomes == ["withdrawn"]
    assert reminders.reminders_sweep(today=TODAY).to_deliver == []


def test_four_weeks_after_the_period_nothing_more_is_owed(alice, sam, open_episode):
    report_with_run(open_episode, alice)  # period ends 23 Apr
    reminders.reminders_sweep(today=date(2026, 5, 22))  # the first review is due soon by then: that is owed
    assert not Reminder.objects.filter(stage="safety_event").exists()
    reminders.reminders_sweep(today=date(2026, 5, 21))
    assert Reminder.objects.filter(stage="safety_event").count() == 1  # the last day it is owed


def test_the_alert_opens_from_the_inbox_on_the_patients_record(client, alice, sam, open_episode):
    report_with_run(open_episode, alice)
    sweep_and_deliver()
    item = InboxItem.objects.get(recipient=sam)
    client.force_login(sam)
    inbox = client.get(reverse("reviews:inbox")).content.decode()
    assert "SAFETY: Pat Example missed 3 doses in a row" in inbox
    response = client.post(reverse("reviews:inbox_open", args=[item.pk]))
    assert response.status_code == 302 and response.url == open_episode.patient.get_absolute_url()


@pytest.fixture
def kim_recording(team):
    """Someone else in the team recording the pharmacist's report."""
    return UserFactory(username="kim", first_name="Kim", last_name="Admin", role=Role.KEYWORKER, team=team)
