"""Registering someone entering treatment: the patient and the episode that starts their schedule, saved
together or not at all; a second record of one person refused; bad input answered beside the field."""

from datetime import UTC, date, datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from patients import services
from patients.models import Patient, TreatmentEpisode
from recovery_reviews.models import Role
from tests.patients.test_views_forms import error_beside
from tests.support.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
TODAY = date(2026, 5, 1)
URL = reverse("patients:register")


def answers(team, keyworker, /, **overrides):
    data = {
        "given_name": "Jo",
        "family_name": "Newcomer",
        "date_of_birth": "1990-02-14",
        "nhs_number": "943 476 5919",
        "team": team.pk,
        "keyworker": keyworker.pk,
        "lead_practitioner": "",
        "entry_date": "2026-04-20",
        "primary_drug": "heroin",
        "co_morbidities": "",
    }
    data.update(overrides)
    return data


def nothing_saved():
    return (
        not Patient.objects.filter(family_name="Newcomer").exists() and not TreatmentEpisode.objects.exists()
    )


def test_a_keyworker_registers_a_patient_whose_first_review_is_then_scheduled(client, alice, sam, team):
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert f'<option value="{alice.pk}" selected>Alice Keyworker</option>' in page  # their own caseload
    assert "(North)" not in page  # one team: no need to name it beside every person

    response = client.post(URL, answers(team, alice, lead_practitioner=sam.pk, other_substances=["alcohol"]))

    patient = Patient.objects.get(family_name="Newcomer")
    assert response.status_code == 302 and response.url == patient.get_absolute_url()
    assert (patient.nhs_number, patient.team, patient.keyworker) == ("9434765919", team, alice)
    episode = patient.episodes.get()
    assert (episode.entry_date, episode.primary_drug, episode.other_substances) == (
        date(2026, 4, 20),
        "heroin",
        ["alcohol"],
    )
    assert episode.lead_practitioner == sam
    stored = TreatmentEpisode.objects.values("team_id", "keyworker_id", "next_review_target").get(
        pk=episode.pk
    )
    assert stored["team_id"] == team.pk and stored["keyworker_id"] == alice.pk  # scoping reads these
    assert stored["next_review_target"] == date(2026, 7, 20)  # within 3 months of entry (§1.3)
    shown = client.get(response.url).content.decode()
    assert (
        "Jo Newcomer is registered and in treatment from 20 Apr 2026. First strategic review: target 20 Jul 2026"
        in (shown)
    )
    caseload = client.get(reverse("patients:caseload")).content.decode()
    assert "Newcomer, Jo" in caseload
    created = LogEntry.objects.get_for_object(patient).get(action=LogEntry.Action.CREATE)
    assert created.actor == alice


def test_the_caseload_offers_registration_to_clinical_staff_only(client, alice):
    client.force_login(alice)
    assert URL in client.get(reverse("patients:caseload")).content.decode()
    support = UserFactory(username="support", role=Role.SUPPORT, team=None)
    client.force_login(support)
    assert URL not in client.get(reverse("patients:caseload")).content.decode()
    assert client.get(URL).status_code == 403
    assert client.post(URL, {}).status_code == 403


def test_an_nhs_number_already_registered_anywhere_is_refused_without_saying_where(client, alice, team, olga):
    PatientFactory(team=olga.team, keyworker=olga, nhs_number="9434765919", family_name="Elsewhere")
    client.force_login(alice)
    response = client.post(URL, answers(team, alice))
    message = error_beside(response.content.decode(), "nhs_number")
    assert message.startswith("A patient with this NHS number is already registered. Search the caseload")
    assert "South" not in message and "Elsewhere" not in message
    assert nothing_saved()
    assert 'value="943 476 5919"' in response.content.decode()  # what was typed is kept


def test_a_namesake_born_the_same_day_must_be_confirmed_as_someone_else(client, alice, team):
    PatientFactory(
        team=team, keyworker=alice, given_name="JO", family_name="newcomer", date_of_birth=date(1990, 2, 14)
    )
    client.force_login(alice)
    first = client.get(URL).content.decode()
    assert 'type="hidden" name="different_person"' in first  # not asked until there is a namesake

    refused = client.post(URL, answers(team, alice, nhs_number="")).content.decode()
    assert "A patient with this name and date of birth is already registered" in error_beside(
        refused, "different_person"
    )
    assert 'type="checkbox" name="different_person"' in refused
    assert Patient.objects.filter(family_name__iexact="newcomer").count() == 1

    response = client.post(URL, answers(team, alice, nhs_number="", different_person="on"))
    assert response.status_code == 302
    assert Patient.objects.filter(family_name__iexact="newcomer").count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"given_name": "  "}, "given_name", "Give the patient&#x27;s given name."),
        ({"date_of_birth": "2026-06-01"}, "date_of_birth", "The date of birth cannot be in the future."),
        ({"date_of_birth": "1890-01-01"}, "date_of_birth", "Check the year: a date of birth before 1900"),
        ({"nhs_number": "943 476 5918"}, "nhs_number", "This NHS number&#x27;s check digit is wrong"),
        ({"nhs_number": "943 476 591"}, "nhs_number", "An NHS number has 10 digits"),
        ({"entry_date": "2026-05-02"}, "entry_date", "This date is in the future."),
        ({"entry_date": "1989-01-01"}, "entry_date", "This is before the patient&#x27;s date of birth"),
        ({"primary_drug": "tea"}, "primary_drug", "Select a valid choice."),
        ({"keyworker": ""}, "keyworker", "Choose the patient&#x27;s keyworker."),
    ],
)
def test_bad_input_is_answered_beside_its_field_and_nothing_is_saved(
    client, alice, team, overrides, field, message
):
    client.force_login(alice)
    response = client.post(URL, answers(team, alice, **overrides))
    assert response.status_code == 200
    assert message in error_beside(response.content.decode(), field)
    assert nothing_saved()


def test_staff_from_a_team_outside_the_users_scope_cannot_be_chosen(client, alice, team, olga):
    client.force_login(alice)
    response = client.post(URL, answers(team, olga))
    assert "Select a valid choice" in error_beside(response.content.decode(), "keyworker")
    assert nothing_saved()


def test_a_manager_of_two_teams_sees_each_person_with_their_team_and_must_keep_them_together(
    client, mona, alice, sam, team, other_team, olga
):
    mona.managed_teams.add(other_team)
    client.force_login(mona)
    page = client.get(URL).content.decode()
    assert "Alice Keyworker (North)" in page and "Olga Outsider (South)" in page
    assert "Sam Senior (North)" in page

    response = client.post(URL, answers(team, olga))
    assert "Olga Outsider works in South: choose someone in North, or choose South." in error_beside(
        response.content.decode(), "keyworker"
    )
    assert nothing_saved()

    assert client.post(URL, answers(other_team, olga)).status_code == 302
    assert Patient.objects.get(family_name="Newcomer").team == other_team


def test_the_patient_is_not_kept_when_the_episode_is_refused(alice, team):
    """Both or neither: a patient without an episode would have no schedule, so would never be reviewed."""
    with pytest.raises(Exception):  # noqa: B017, PT011 - the episode's own validation, whatever it says
        services.patient_register(
            given_name="Jo",
            family_name="Newcomer",
            date_of_birth=date(1990, 2, 14),
            team=team,
            keyworker=alice,
            entry_date=TODAY,
            primary_drug="not a substance",
            by=alice,
        )
    assert nothing_saved()
