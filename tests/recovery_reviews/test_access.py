"""Scope (DESIGN.md, Access and audit): every page needs a login; keyworkers see their own caseload and their
team's, senior practitioners their team's, managers their teams'; anything else is a 404."""

import pytest
from django.urls import reverse

from recovery_reviews.access import episodes_for_user, patient_for_user, patients_for_user
from recovery_reviews.models import Role
from tests.factories import EpisodeFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def south_patient(other_team, olga):
    return PatientFactory(team=other_team, keyworker=olga, family_name="Southerner")


def test_a_keyworker_sees_their_team_and_not_another(alice, patient, south_patient):
    assert list(patients_for_user(alice)) == [patient]


def test_a_keyworker_sees_their_own_patients_in_another_team(alice, other_team):
    mine_elsewhere = PatientFactory(team=other_team, keyworker=alice)
    assert mine_elsewhere in patients_for_user(alice)


def test_a_senior_practitioner_sees_their_team_only(sam, patient, south_patient):
    assert list(patients_for_user(sam)) == [patient]


def test_a_manager_sees_the_teams_they_manage(mona, patient, south_patient, other_team):
    assert list(patients_for_user(mona)) == [patient]
    mona.managed_teams.add(other_team)
    assert set(patients_for_user(mona)) == {patient, south_patient}


def test_support_staff_see_no_patients_in_the_application(team, patient):
    support = UserFactory(username="sue", role=Role.SUPPORT, team=None)
    assert not patients_for_user(support).exists()


def test_episodes_follow_the_same_scope(olga, episode, south_patient):
    south_episode = EpisodeFactory(patient=south_patient)
    assert list(episodes_for_user(olga)) == [south_episode]


def test_a_record_outside_scope_is_a_404_not_the_record(client, olga, patient):
    client.force_login(olga)
    response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 404
    assert patient.family_name not in response.content.decode()


def test_patient_for_user_raises_404_outside_scope(olga, patient):
    from django.http import Http404

    with pytest.raises(Http404):
        patient_for_user(olga, patient.pk)


def test_the_caseload_lists_only_patients_in_scope(client, olga, episode, south_patient):
    EpisodeFactory(patient=south_patient, next_review_target="2026-04-15", next_review_deadline="2026-07-15")
    type(episode).objects.filter(pk=episode.pk).update(
        next_review_target="2026-04-15", next_review_deadline="2026-07-15"
    )
    client.force_login(olga)
    page = client.get(reverse("patients:caseload")).content.decode()
    assert "Southerner" in page
    assert episode.patient.family_name not in page


@pytest.mark.parametrize("url", ["/", "/patients/", "/patients/1/", "/reviews/inbox/", "/reviews/dashboard/"])
def test_every_page_needs_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
