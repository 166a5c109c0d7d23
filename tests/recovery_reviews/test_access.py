"""Scope (docs/design.md, Access and audit): every page needs a login; keyworkers see their own caseload and their
team's, senior practitioners their team's, managers their teams'; a record outside scope is a 404, not the record.

The rules are tested on the one door (recovery_reviews/access.py) and then through the pages that use it.
"""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from patients.access import episode_for_user, episodes_for_user, patient_for_user, patients_for_user
from patients.models import PharmacyReport, TreatmentEpisode
from recovery_reviews.access import record_for_user, scoped, team_ids_for_user
from recovery_reviews.models import Role
from reviews.models import StrategicReview
from tests.support.factories import (
    EpisodeFactory,
    PatientFactory,
    PharmacyReportFactory,
    StrategicReviewFactory,
    TeamFactory,
    UserFactory,
)
from tests.support.schedule import store_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def south_patient(other_team, olga):
    return PatientFactory(team=other_team, keyworker=olga, given_name="Sid", family_name="Southerner")


@pytest.fixture
def south_episode(south_patient):
    return EpisodeFactory(patient=south_patient)


@pytest.fixture
def north_colleague_patient(team):
    """A North patient on another North keyworker's caseload."""
    colleague = UserFactory(username="nick", role=Role.KEYWORKER, team=team)
    return PatientFactory(team=team, keyworker=colleague, family_name="Colleaguescase")


@pytest.fixture
def support(db):
    return UserFactory(username="sue", role=Role.SUPPORT, team=None, is_staff=True, is_superuser=True)


def _due(*episodes):
    """Give episodes a stored next review, as the scheduling adapter would, so that the caseload lists them."""
    store_schedule(
        TreatmentEpisode.objects.filter(pk__in=[e.pk for e in episodes]),
        target=date(2026, 4, 15),
        deadline=date(2026, 7, 15),
    )


# --- The door: patients_for_user and patient_for_user ---------------------------------------------------------


def test_a_keyworker_sees_their_own_caseload_and_their_teams(
    alice, patient, north_colleague_patient, south_patient
):
    assert set(patients_for_user(alice)) == {patient, north_colleague_patient}


def test_a_keyworker_sees_their_own_patient_held_in_another_team(alice, other_team, south_patient):
    mine_elsewhere = PatientFactory(team=other_team, keyworker=alice)
    assert set(patients_for_user(alice)) == {mine_elsewhere}


def test_a_senior_practitioner_sees_their_teams_patients_only(
    sam, patient, north_colleague_patient, south_patient
):
    assert set(patients_for_user(sam)) == {patient, north_colleague_patient}


def test_a_manager_sees_the_teams_they_manage_and_no_other(mona, patient, south_patient, other_team):
    assert set(patients_for_user(mona)) == {patient}
    mona.managed_teams.add(other_team)
    assert set(patients_for_user(mona)) == {patient, south_patient}


def test_a_manager_of_no_team_sees_no_patients(patient):
    manager = UserFactory(username="newmanager", role=Role.MANAGER, team=None)
    assert team_ids_for_user(manager) == []
    assert not patients_for_user(manager).exists()


def test_the_outsider_does_not_see_another_teams_patient(olga, patient, south_patient):
    assert set(patients_for_user(olga)) == {south_patient}


def test_support_staff_see_no_patients_even_as_superusers(support, patient, south_patient):
    assert not patients_for_user(support).exists()
    assert not episodes_for_user(support).exists()
    with pytest.raises(Http404):
        patient_for_user(support, patient.pk)


def test_an_anonymous_user_sees_no_patients(patient):
    assert not patients_for_user(AnonymousUser()).exists()
    assert team_ids_for_user(AnonymousUser()) == []


def test_patient_for_user_returns_a_patient_in_scope(sam, patient):
    assert patient_for_user(sam, patient.pk) == patient


def test_patient_for_user_is_a_404_outside_scope(olga, patient):
    with pytest.raises(Http404):
        patient_for_user(olga, patient.pk)


def test_patient_for_user_is_a_404_for_a_patient_that_does_not_exist(alice, patient):
    with pytest.raises(Http404):
        patient_for_user(alice, patient.pk + 1000)


# --- Episodes and every record that hangs off an episode --------------------------------------------------------


def test_episodes_follow_the_patients_scope(alice, olga, mona, episode, south_episode):
    assert list(episodes_for_user(olga)) == [south_episode]
    assert list(episodes_for_user(alice)) == [episode]
    assert list(episodes_for_user(mona)) == [episode]


def test_episode_for_user_is_a_404_outside_scope(olga, episode, south_episode):
    assert episode_for_user(olga, south_episode.pk) == south_episode
    with pytest.raises(Http404):
        episode_for_user(olga, episode.pk)


def test_scoped_restricts_any_episode_record_to_the_users_scope(alice, olga, episode, south_episode):
    north_report = PharmacyReportFactory(episode=episode)
    south_report = PharmacyReportFactory(episode=south_episode)
    assert list(scoped(PharmacyReport.objects.all(), alice)) == [north_report]
    assert list(scoped(PharmacyReport.objects.all(), olga)) == [south_report]


def test_scoped_follows_a_longer_path_to_the_episode(alice, olga, episode, south_episode):
    north_report = PharmacyReportFactory(episode=episode)
    PharmacyReportFactory(episode=south_episode)
    missed = north_report.missed_doses.create(missed_on=date(2026, 2, 3))
    queryset = type(missed).objects.all()
    assert list(scoped(queryset, alice, episode_path="report__episode__")) == [missed]
    assert not scoped(queryset, olga, episode_path="report__episode__").exists()


def test_record_for_user_is_a_404_outside_scope(sam, olga, episode):
    review = StrategicReviewFactory(episode=episode)
    assert record_for_user(sam, StrategicReview.objects.all(), review.pk) == review
    with pytest.raises(Http404):
        record_for_user(olga, StrategicReview.objects.all(), review.pk)


def test_a_team_the_user_has_never_been_linked_to_stays_out_of_scope(alice, patient):
    elsewhere = TeamFactory(name="West")
    stranger = PatientFactory(team=elsewhere)
    assert stranger not in patients_for_user(alice)


# --- Through the pages ----------------------------------------------------------------------------------------


def test_a_patient_page_outside_scope_is_a_404_and_shows_nothing_of_the_record(client, olga, episode):
    client.force_login(olga)
    response = client.get(reverse("patients:detail", args=[episode.patient.pk]))
    assert response.status_code == 404
    assert episode.patient.family_name not in response.content.decode()


@pytest.mark.parametrize("user", ["alice", "sam", "mona"])
def test_a_patient_page_in_scope_is_shown_to_each_role(client, request, user, episode):
    client.force_login(request.getfixturevalue(user))
    response = client.get(f"/patients/{episode.patient.pk}/")
    assert response.status_code == 200
    assert episode.patient.family_name in response.content.decode()


@pytest.mark.parametrize(
    "url_name", ["patients:pharmacy_report_new", "reviews:review_new", "reviews:review_preview"]
)
def test_episode_pages_outside_scope_are_404s(client, olga, episode, url_name):
    client.force_login(olga)
    response = client.get(reverse(url_name, args=[episode.pk]))
    assert response.status_code == 404


def test_posting_a_pharmacy_report_for_an_episode_outside_scope_is_a_404_and_stores_nothing(
    client, olga, episode
):
    client.force_login(olga)
    response = client.post(
        reverse("patients:pharmacy_report_new", args=[episode.pk]),
        {
            "pharmacy_name": "Boots",
            "period_start": "2026-02-01",
            "period_end": "2026-02-14",
            "doses_due": 14,
            "supervised_doses_taken": 14,
            "take_home_doses_collected": 0,
        },
    )
    assert response.status_code == 404
    assert not PharmacyReport.objects.exists()


def test_a_review_outside_scope_is_a_404(client, olga, episode):
    review = StrategicReviewFactory(episode=episode)
    client.force_login(olga)
    response = client.get(reverse("reviews:review_involvement", args=[review.pk]))
    assert response.status_code == 404


def test_the_caseload_lists_patients_in_scope_and_not_the_outsiders(
    client, alice, olga, episode, south_episode
):
    _due(episode, south_episode)
    client.force_login(olga)
    olga_page = client.get(reverse("patients:caseload")).content.decode()
    client.force_login(alice)
    alice_page = client.get(reverse("patients:caseload")).content.decode()
    assert "Southerner" in olga_page
    assert episode.patient.family_name not in olga_page
    assert episode.patient.family_name in alice_page
    assert "Southerner" not in alice_page


def test_support_staff_get_an_empty_caseload(client, support, episode):
    _due(episode)
    client.force_login(support)
    page = client.get(reverse("patients:caseload")).content.decode()
    assert episode.patient.family_name not in page


# --- Every page needs a login ---------------------------------------------------------------------------------


def _application_urls():
    """Every URL of the application (not the admin, which has its own login), with any pk filled in."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":
                    continue
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    urls = []
    for route in walk(get_resolver().url_patterns):
        path = "/" + (
            route.replace("<int:pk>", "1")
            .replace("<int:episode_pk>", "1")
            .replace("<int:team_pk>", "1")
            .replace("<slug:kind>", "pharmacy-report")
            .replace("<str:end>", "2026-02-10")
            .replace("<uidb64>/<token>", "MQ/set-password")
        )
        assert "<" not in path, f"fill in the parameter of {route} for this test"
        urls.append(path)
    return urls


# Signing in, and setting a password from a one-time reset link (the link's token is the credential), are open.
APPLICATION_URLS = [
    url for url in _application_urls() if url != "/login/" and not url.startswith("/account/reset/")
]


def test_the_url_walk_finds_the_applications_pages():
    assert {"/", "/patients/", "/patients/1/", "/reviews/dashboard/"} <= set(APPLICATION_URLS)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", APPLICATION_URLS)
def test_every_page_redirects_an_anonymous_visitor_to_the_login(client, episode, url, method):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_the_admin_redirects_an_anonymous_visitor_to_its_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_login_page_itself_needs_no_login(client):
    assert client.get(reverse("login")).status_code == 200
