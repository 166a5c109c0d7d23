"""Correcting a patient's or an episode's details: each change kept with what it was and why; a corrected entry
date moves the first review; what cannot be right is refused with nothing changed."""

from datetime import UTC, date, datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from patients.models import Patient, RecordCorrection, TreatmentEpisode
from reviews.services.schedule import episode_schedule_refresh
from tests.patients.test_views_forms import error_beside
from tests.support.factories import EpisodeFactory, PatientFactory, TopAssessmentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.fixture
def registered(episode):
    episode.entry_date = date(2026, 3, 1)
    episode.primary_drug = "heroin"
    episode.other_substances = []
    episode.save()
    episode_schedule_refresh(episode)
    return episode


def url(patient):
    return reverse("patients:correct", args=[patient.pk])


def answers(episode, **changes):
    patient = episode.patient
    data = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "nhs_number": patient.nhs_number,
        "entry_date": episode.entry_date.isoformat(),
        "primary_drug": episode.primary_drug,
        "co_morbidities": episode.co_morbidities,
        "reason": "Mistyped at registration.",
    }
    data.update(changes)
    return data


def target(episode):
    return TreatmentEpisode.objects.values_list("next_review_target", flat=True).get(pk=episode.pk)


def test_a_corrected_entry_date_moves_the_first_review_and_stays_on_the_timeline(client, alice, registered):
    assert target(registered) == date(2026, 6, 1)
    client.force_login(alice)
    response = client.post(url(registered.patient), answers(registered, entry_date="2026-02-15"), follow=True)
    page = response.content.decode()
    assert target(registered) == date(2026, 5, 15)  # 3 months from the true entry (§1.3)
    assert "Corrected: Entered treatment on: 1 Mar 2026 → 15 Feb 2026." in page
    assert "The next review moved earlier: target 15 May 2026" in page
    timeline = page.split('data-testid="timeline"')[1]
    assert "Corrected: Entered treatment on: 1 Mar 2026 → 15 Feb 2026" in timeline
    assert "Mistyped at registration. (Alice Keyworker)" in timeline
    correction = RecordCorrection.objects.get()
    assert (correction.episode, correction.field, correction.corrected_by) == (
        registered,
        "entry_date",
        alice,
    )


def test_only_what_changed_is_recorded_and_the_audit_log_has_it(client, alice, registered):
    client.force_login(alice)
    client.post(
        url(registered.patient), answers(registered, family_name="Exampel", other_substances=["alcohol"])
    )
    rows = {c.field: (c.before, c.after, c.episode_id) for c in RecordCorrection.objects.all()}
    assert rows == {
        "family_name": ("Example", "Exampel", None),
        "other_substances": ("", "Alcohol", registered.pk),
    }
    assert Patient.objects.get(pk=registered.patient.pk).family_name == "Exampel"
    logged = LogEntry.objects.get_for_object(registered.patient).filter(action=LogEntry.Action.UPDATE).get()
    assert logged.actor == alice and logged.changes_dict["family_name"] == ["Example", "Exampel"]


def test_an_entry_date_after_something_already_recorded_is_refused(client, alice, registered):
    TopAssessmentFactory(episode=registered, assessed_on=date(2026, 3, 10), stage="start")
    client.force_login(alice)
    response = client.post(url(registered.patient), answers(registered, entry_date="2026-03-20"))
    assert error_beside(response.content.decode(), "entry_date") == (
        "The episode already has a TOP on 10 Mar 2026: treatment cannot have begun after it."
    )
    assert TreatmentEpisode.objects.get(pk=registered.pk).entry_date == date(2026, 3, 1)
    assert not RecordCorrection.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reason": " "}, "reason", "Say why, for example: the date of entry was mistyped at registration."),
        ({"entry_date": "2026-05-02"}, "entry_date", "This date is in the future."),
        ({"entry_date": "1980-01-01"}, "entry_date", "This is before the patient&#x27;s date of birth"),
        ({"nhs_number": "943 476 5918"}, "nhs_number", "check digit is wrong"),
        ({"given_name": ""}, "given_name", "Give the patient&#x27;s given name."),
    ],
)
def test_bad_input_is_answered_beside_its_field_and_nothing_changes(
    client, alice, registered, changes, field, message
):
    client.force_login(alice)
    response = client.post(url(registered.patient), answers(registered, **changes))
    assert message in error_beside(response.content.decode(), field)
    assert not RecordCorrection.objects.exists()
    assert TreatmentEpisode.objects.get(pk=registered.pk).entry_date == date(2026, 3, 1)


def test_an_nhs_number_that_is_someone_elses_is_refused(client, alice, registered, team):
    PatientFactory(team=team, keyworker=alice, nhs_number="9434765919")
    client.force_login(alice)
    response = client.post(url(registered.patient), answers(registered, nhs_number="943 476 5919"))
    assert "A patient with this NHS number is already registered." in response.content.decode()
    assert Patient.objects.get(pk=registered.patient.pk).nhs_number == registered.patient.nhs_number


def test_nothing_changed_is_said_so(client, alice, registered):
    client.force_login(alice)
    response = client.post(url(registered.patient), answers(registered))
    assert "Nothing would change: correct a detail, or cancel." in response.content.decode()


def test_an_earlier_episode_is_corrected_when_chosen(client, alice, patient, registered):
    old = EpisodeFactory(
        patient=patient, entry_date=date(2024, 1, 1), exit_date=date(2024, 9, 1), exit_reason="dropped_out"
    )
    client.force_login(alice)
    page = client.get(url(patient) + f"?episode={old.pk}").content.decode()
    assert 'value="2024-01-01"' in page
    client.post(url(patient) + f"?episode={old.pk}", answers(old, entry_date="2023-12-01"))
    assert TreatmentEpisode.objects.get(pk=old.pk).entry_date == date(2023, 12, 1)
    assert TreatmentEpisode.objects.get(pk=registered.pk).entry_date == date(2026, 3, 1)


def test_another_teams_patient_cannot_be_corrected(client, olga, registered):
    client.force_login(olga)
    assert client.get(url(registered.patient)).status_code == 404
    assert client.post(url(registered.patient), answers(registered, family_name="X")).status_code == 404


def test_the_same_substances_in_another_order_are_no_change(client, alice, registered):
    TreatmentEpisode.objects.filter(pk=registered.pk).update(other_substances=["crack", "alcohol"])
    registered.refresh_from_db()
    client.force_login(alice)
    response = client.post(
        url(registered.patient), answers(registered, other_substances=["alcohol", "crack"])
    )
    assert "Nothing would change" in response.content.decode()


def test_the_patients_details_come_before_the_episodes_and_the_reason_last(client, alice, registered):
    client.force_login(alice)
    page = client.get(url(registered.patient)).content.decode()
    names = [
        page.index(f'name="{n}"')
        for n in ("given_name", "date_of_birth", "entry_date", "co_morbidities", "reason")
    ]
    assert names == sorted(names)
