"""Moving a patient to another keyworker, lead practitioner or team: who may, what must hold, what follows
(episodes, access, reminders), and the change kept with its reason on the record."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients import services
from patients.models import CareTeamChange, Patient, TreatmentEpisode
from recovery_reviews.models import Role
from reviews import reminders
from reviews.models import Reminder, ReviewStatus
from tests.patients.test_views_forms import error_beside
from tests.support.factories import EpisodeFactory, StrategicReviewFactory, UserFactory
from tests.support.schedule import store_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def kim(team):
    """A second keyworker in North."""
    return UserFactory(
        username="kim", first_name="Kim", last_name="Keyworker", role=Role.KEYWORKER, team=team
    )


@pytest.fixture
def sue(other_team):
    """South's senior practitioner."""
    return UserFactory(
        username="sue", first_name="Sue", last_name="South", role=Role.SENIOR_PRACTITIONER, team=other_team
    )


@pytest.fixture
def mona_both(mona, other_team):
    mona.managed_teams.add(other_team)
    return mona


def url(patient):
    return reverse("patients:move", args=[patient.pk])


def test_a_senior_practitioner_hands_a_patient_to_another_keyworker_in_the_team(
    client, sam, alice, kim, episode
):
    client.force_login(sam)
    page = client.get(url(episode.patient)).content.decode()
    assert 'name="team"' in page and "disabled" in page  # within their own team only
    response = client.post(
        url(episode.patient), {"keyworker": kim.pk, "lead_practitioner": sam.pk, "reason": "Alice has left."}
    )
    assert response.status_code == 302
    patient = Patient.objects.get(pk=episode.patient.pk)
    assert patient.keyworker == kim
    assert TreatmentEpisode.objects.values_list("keyworker_id", flat=True).get(pk=episode.pk) == kim.pk
    change = CareTeamChange.objects.get()
    assert (change.from_keyworker, change.to_keyworker, change.reason, change.recorded_by) == (
        alice,
        kim,
        "Alice has left.",
        sam,
    )
    record = client.get(patient.get_absolute_url()).content.decode()
    assert "Care team changed: keyworker Alice Keyworker → Kim Keyworker." in record
    assert "Care team: keyworker Alice Keyworker → Kim Keyworker" in record  # on the timeline
    assert "Alice has left." in record


def test_a_manager_moves_a_patient_to_another_team_and_access_and_reminders_follow(
    client, mona_both, alice, sam, olga, sue, episode
):
    target = date.today() + timedelta(days=3)
    store_schedule(episode, target=target, deadline=target)
    reminders.reminders_sweep(today=date.today())  # due soon: Alice and Sam are told
    claimed = list(Reminder.objects.values_list("pk", flat=True))
    assert sorted(Reminder.objects.values_list("recipient__username", flat=True)) == ["alice", "sam"]

    client.force_login(mona_both)
    response = client.post(
        url(episode.patient),
        {
            "team": olga.team.pk,
            "keyworker": olga.pk,
            "lead_practitioner": sue.pk,
            "reason": "Moved to Southtown.",
        },
    )
    assert response.status_code == 302
    stored = TreatmentEpisode.objects.values("team_id", "keyworker_id", "lead_practitioner_id").get(
        pk=episode.pk
    )
    assert stored == {"team_id": olga.team.pk, "keyworker_id": olga.pk, "lead_practitioner_id": sue.pk}

    client.force_login(alice)  # North's keyworker no longer sees the patient
    assert client.get(episode.patient.get_absolute_url()).status_code == 404
    client.force_login(olga)
    assert client.get(episode.patient.get_absolute_url()).status_code == 200

    outcomes = [reminders.reminder_deliver(reminder_id=pk, today=date.today()) for pk in claimed]
    assert outcomes == ["withdrawn", "withdrawn"]  # nobody is reminded about a patient no longer theirs
    reminders.reminders_sweep(today=date.today())
    fresh = Reminder.objects.exclude(pk__in=claimed)
    assert sorted(fresh.values_list("recipient__username", flat=True)) == ["olga", "sue"]


def test_the_lead_must_be_in_the_new_team(mona_both, olga, sam, episode):
    with pytest.raises(ValidationError) as error:
        services.patient_move(
            patient=episode.patient, team=olga.team, keyworker=olga, reason="Moved.", by=mona_both
        )
    assert error.value.message_dict["lead_practitioner"] == [
        "Sam Senior leads this patient's reviews but works in North: choose a lead practitioner in South (§2.5)."
    ]
    assert not CareTeamChange.objects.exists()
    assert Patient.objects.get(pk=episode.patient.pk).team.name == "North"


def test_an_unfinished_review_led_in_the_old_team_holds_the_patient_there(mona_both, olga, sue, sam, episode):
    StrategicReviewFactory(
        episode=episode, lead=sam, held_on=date.today(), status=ReviewStatus.AWAITING_PATIENT
    )
    with pytest.raises(ValidationError) as error:
        services.patient_move(
            patient=episode.patient,
            team=olga.team,
            keyworker=olga,
            lead_practitioner=sue,
            reason="Moved.",
            by=mona_both,
        )
    assert "led by Sam Senior is awaiting patient involvement" in error.value.message_dict["team"][0]
    assert not CareTeamChange.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reason": "  "}, "reason", "Say why: the next keyworker and any later review will want to know."),
        ({"keyworker": "sam"}, "keyworker", "Sam Senior is not an active keyworker."),
        ({"keyworker": "olga"}, "keyworker", "Olga Outsider works in South: choose a keyworker in North."),
        (
            {"lead_practitioner": "alice"},
            "lead_practitioner",
            "Alice Keyworker is not an active senior practitioner.",
        ),
        ({}, "__all__", "Nothing would change: choose a different keyworker, team or lead practitioner."),
    ],
)
def test_the_service_refuses_what_cannot_be_and_saves_nothing(
    request, sam, alice, olga, episode, changes, field, message
):
    people = {name: request.getfixturevalue(name) for name in ("sam", "alice", "olga")}
    answers = {"keyworker": alice, "lead_practitioner": sam, "reason": "Handover."}
    answers.update({k: people.get(v, v) if k != "reason" else v for k, v in changes.items()})
    with pytest.raises(ValidationError) as error:
        services.patient_move(patient=episode.patient, team=episode.patient.team, by=sam, **answers)
    assert message in error.value.message_dict[field]
    assert not CareTeamChange.objects.exists()


def test_the_form_answers_beside_the_field_and_keeps_what_was_typed(client, sam, alice, episode):
    client.force_login(sam)
    response = client.post(
        url(episode.patient), {"keyworker": alice.pk, "lead_practitioner": sam.pk, "reason": ""}
    )
    assert "Say why" in error_beside(response.content.decode(), "reason")
    response = client.post(
        url(episode.patient), {"keyworker": alice.pk, "lead_practitioner": sam.pk, "reason": "Just checking"}
    )
    assert "Nothing would change" in response.content.decode()
    assert "Just checking" in response.content.decode()
    assert not CareTeamChange.objects.exists()


def test_keyworkers_cannot_move_patients_and_no_one_moves_what_they_cannot_see(
    client, alice, olga, sam, episode
):
    client.force_login(alice)
    assert client.get(url(episode.patient)).status_code == 403
    assert "care-team" not in client.get(episode.patient.get_absolute_url()).content.decode()
    client.force_login(olga)
    assert client.get(url(episode.patient)).status_code == 404
    client.force_login(sam)
    assert url(episode.patient) in client.get(episode.patient.get_absolute_url()).content.decode()


def test_a_patient_after_treatment_can_move_keyworker_without_a_lead_to_choose(client, sam, kim, patient):
    EpisodeFactory(
        patient=patient, entry_date=date(2025, 1, 1), exit_date=date(2025, 9, 1), exit_reason="completed"
    )
    client.force_login(sam)
    assert 'name="lead_practitioner"' not in client.get(url(patient)).content.decode()
    response = client.post(url(patient), {"keyworker": kim.pk, "reason": "Check-ups with Kim."})
    assert response.status_code == 302
    assert CareTeamChange.objects.get().from_lead is None


def test_support_reads_care_team_changes_and_corrections_in_the_admin(client, sam, kim, episode):
    from patients.models import RecordCorrection

    services.patient_move(
        patient=episode.patient, team=episode.patient.team, keyworker=kim, reason="Alice has left.", by=sam
    )
    RecordCorrection.objects.create(
        patient=episode.patient,
        field="family_name",
        label="Family name",
        before="Exampel",
        after="Example",
        reason="Typo.",
        corrected_by=sam,
    )
    support = UserFactory(username="support", role=Role.SUPPORT, team=None, is_staff=True, is_superuser=True)
    client.force_login(support)
    changes = client.get(reverse("admin:patients_careteamchange_changelist")).content.decode()
    assert "Kim Keyworker" in changes and "Alice Keyworker" in changes
    corrections = client.get(reverse("admin:patients_recordcorrection_changelist")).content.decode()
    assert "Exampel" in corrections
    assert client.get(reverse("admin:patients_careteamchange_add")).status_code == 403
