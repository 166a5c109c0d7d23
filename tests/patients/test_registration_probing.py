"""Registration is not an oracle (docs/design.md, Access and audit): a second record of one person is still
refused, but each match is written to the matched patient's access log with who asked, and a user whose
registrations match too many people within an hour is refused registering for the rest of it, matched or not,
while their managers are told once. Another team's keyworker typing a North patient's NHS number, or name and date
of birth, is the attack."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from auditlog.models import LogEntry
from django.urls import reverse

from patients.models import Patient, TreatmentEpisode
from recovery_reviews.audit import REGISTRATION_MATCH
from recovery_reviews.models import Role
from reviews.models import InboxItem
from tests.patients.test_patient_register import answers
from tests.support.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
URL = reverse("patients:register")


@pytest.fixture
def north_patient(team, alice):
    return PatientFactory(
        team=team,
        keyworker=alice,
        given_name="Dana",
        family_name="Known",
        nhs_number="9434765919",
        date_of_birth=date(1988, 3, 3),
    )


@pytest.fixture
def south_manager(other_team):
    manager = UserFactory(role=Role.MANAGER, team=None, username="sally")
    manager.managed_teams.add(other_team)
    return manager


def matches_logged(patient):
    return list(
        LogEntry.objects.filter(additional_data__patient_id=patient.pk, changes__has_key=REGISTRATION_MATCH)
        .order_by("pk")
        .values_list("actor__username", "changes")
    )


def test_an_nhs_number_on_record_elsewhere_is_refused_and_logged_on_that_patients_record(
    client, olga, other_team, north_patient
):
    client.force_login(olga)
    response = client.post(URL, answers(other_team, olga, nhs_number="943 476 5919"))
    assert response.status_code == 200 and "already registered" in response.content.decode()
    assert (
        "North" not in response.content.decode().split("already registered")[1][:300]
    )  # never whose or where
    assert Patient.objects.count() == 1
    assert matches_logged(north_patient) == [("olga", {REGISTRATION_MATCH: [None, "NHS number"]})]


def test_a_namesake_is_logged_on_the_matched_patients_record(client, olga, other_team, north_patient):
    client.force_login(olga)
    data = answers(
        other_team, olga, given_name="dana", family_name="KNOWN", date_of_birth="1988-03-03", nhs_number=""
    )
    response = client.post(URL, data)
    assert "A patient with this name and date of birth is already registered" in response.content.decode()
    assert matches_logged(north_patient) == [("olga", {REGISTRATION_MATCH: [None, "name and date of birth"]})]


def test_a_registration_that_matches_nobody_logs_nothing(client, olga, other_team, north_patient):
    client.force_login(olga)
    client.post(URL, answers(other_team, olga, nhs_number="", given_name="New", family_name="Person"))
    assert Patient.objects.filter(family_name="Person").exists()
    assert matches_logged(north_patient) == []


def test_past_the_limit_registering_pauses_for_any_person_and_the_managers_are_told_once(
    client, settings, olga, other_team, north_patient, south_manager, mona
):
    settings.REGISTRATION_MATCHES_PER_HOUR = 3
    client.force_login(olga)
    probe = answers(other_team, olga, nhs_number="943 476 5919")
    for _ in range(3):
        assert "already registered" in client.post(URL, probe).content.decode()
    told = list(InboxItem.objects.values_list("recipient__username", "subject"))
    assert told == [("sally", "Registration paused for Olga Outsider")]  # Olga's team's manager, not North's
    # Now nobody is answered, matched or not: the refusal says nothing of who is known.
    for data in (probe, answers(other_team, olga, nhs_number="", given_name="New", family_name="Person")):
        page = client.post(URL, data).content.decode()
        assert "Registering is paused for you for up to an hour" in page and "already registered" not in page
    assert not Patient.objects.filter(family_name="Person").exists()
    assert InboxItem.objects.count() == 1  # told once
    assert len(matches_logged(north_patient)) == 3
    with time_machine.travel(datetime(2026, 5, 1, 13, 1, tzinfo=UTC), tick=False):  # an hour on
        client.force_login(olga)
        client.post(URL, answers(other_team, olga, nhs_number="", given_name="New", family_name="Person"))
    assert Patient.objects.filter(family_name="Person").exists()
    assert TreatmentEpisode.objects.filter(patient__family_name="Person").count() == 1
