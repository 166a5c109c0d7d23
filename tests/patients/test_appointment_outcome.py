"""A booked appointment's outcome is recorded once its time has come (a cancellation at any time): attended
with its ongoing-review note (§1.1), missed or cancelled; never changed afterwards."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients import services
from patients.models import Appointment
from tests.patients.test_views_forms import error_beside
from tests.support.factories import AppointmentFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def booked(episode, alice, when):
    return AppointmentFactory(
        episode=episode, keyworker=alice, starts_at=when, status="booked", review_note=""
    )


def url(appointment):
    return reverse("patients:appointment_outcome", args=[appointment.pk])


def test_a_keyworker_records_that_a_booked_appointment_was_attended(client, alice, episode):
    appointment = booked(episode, alice, datetime(2026, 5, 1, 9, tzinfo=UTC))
    client.force_login(alice)
    record = client.get(episode.get_absolute_url()).content.decode()
    assert f'href="{url(appointment)}">record the outcome</a>' in record
    response = client.post(
        url(appointment), {"status": "attended", "review_note": "Talked about work."}, follow=True
    )
    assert "Appointment of 1 May 2026: attended." in response.content.decode()
    stored = Appointment.objects.get(pk=appointment.pk)
    assert (stored.status, stored.review_note) == ("attended", "Talked about work.")
    assert f'href="{url(appointment)}"' not in response.content.decode()  # nothing left to record


def test_attended_needs_its_note_beside_it(client, alice, episode):
    appointment = booked(episode, alice, datetime(2026, 5, 1, 9, tzinfo=UTC))
    client.force_login(alice)
    response = client.post(url(appointment), {"status": "attended", "review_note": " "})
    assert error_beside(response.content.decode(), "review_note") == (
        "An attended appointment needs its ongoing-review note (§1.1)."
    )
    assert Appointment.objects.get(pk=appointment.pk).status == "booked"


def test_a_future_appointment_can_be_cancelled_but_not_attended(client, alice, episode):
    appointment = booked(episode, alice, datetime(2026, 5, 4, 10, tzinfo=UTC))
    client.force_login(alice)
    response = client.post(url(appointment), {"status": "missed"})
    assert "it can be cancelled now, attended or missed once its time has come." in error_beside(
        response.content.decode(), "status"
    )
    client.post(url(appointment), {"status": "cancelled"})
    assert Appointment.objects.get(pk=appointment.pk).status == "cancelled"


def test_an_outcome_is_recorded_once(alice, episode):
    appointment = booked(episode, alice, datetime(2026, 5, 1, 9, tzinfo=UTC))
    services.appointment_outcome_record(appointment=appointment, status="missed", by=alice)
    with pytest.raises(ValidationError) as error:
        services.appointment_outcome_record(
            appointment=appointment, status="attended", review_note="x", by=alice
        )
    assert error.value.messages == [
        "This appointment's outcome is already recorded: missed (did not attend)."
    ]


def test_another_teams_appointment_is_not_found(client, olga, alice, episode):
    appointment = booked(episode, alice, datetime(2026, 5, 1, 9, tzinfo=UTC))
    client.force_login(olga)
    assert client.post(url(appointment), {"status": "cancelled"}).status_code == 404
    assert Appointment.objects.get(pk=appointment.pk).status == "booked"


def test_the_caseload_lists_my_past_booked_appointments_to_record(client, alice, sam, episode):
    past = booked(episode, alice, datetime(2026, 4, 30, 9, tzinfo=UTC))
    booked(episode, alice, datetime(2026, 5, 4, 9, tzinfo=UTC))  # not yet
    booked(episode, sam, datetime(2026, 4, 29, 9, tzinfo=UTC))  # someone else's
    client.force_login(alice)
    page = client.get(reverse("patients:caseload")).content.decode()
    listed = page.split('data-testid="appointments-to-record"')[1].split("</section>")[0]
    assert listed.count("record the outcome") == 1
    assert f'href="{url(past)}"' in listed and "30 Apr, 10:00" in listed  # London time (BST)
    client.post(url(past), {"status": "missed"})
    assert (
        'data-testid="appointments-to-record"'
        not in client.get(reverse("patients:caseload")).content.decode()
    )
