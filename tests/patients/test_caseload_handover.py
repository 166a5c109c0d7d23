"""A keyworker leaves: the dashboard shows who still holds patients, and a manager hands the whole caseload to
another keyworker of the team, each move kept on the patient's timeline."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from patients.models import CareTeamChange, Patient, TreatmentEpisode
from recovery_reviews.models import Role
from reviews.services.schedule import episode_schedule_refresh
from tests.patients.test_views_forms import error_beside
from tests.support.factories import EpisodeFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("patients:handover")


@pytest.fixture
def tom(team):
    return UserFactory(username="tom", first_name="Tom", last_name="Leaving", role=Role.KEYWORKER, team=team)


@pytest.fixture
def toms_caseload(tom, team, other_team, olga):
    episodes = []
    for name in ("One", "Two", "Three"):
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=tom, family_name=name),
            entry_date=date.today() - timedelta(days=30),
        )
        episode_schedule_refresh(episode)
        episodes.append(episode)
    return episodes


def test_a_manager_sees_who_has_left_and_hands_over_their_caseload(
    client, mona, tom, alice, team, toms_caseload
):
    tom.is_active = False
    tom.save()
    client.force_login(mona)
    dashboard = client.get(reverse("reviews:dashboard")).content.decode()
    notice = dashboard.split('data-testid="keyworker-left"')[1].split("</div>")[0]
    assert f'href="?team={team.pk}">North</a> 3.' in notice
    assert 'data-testid="keyworker-inactive">no longer active</span>' in dashboard
    assert f'href="{URL}?from={tom.pk}">Hand over</a>' in dashboard

    page = client.get(URL, {"from": tom.pk}).content.decode()
    assert f'<option value="{tom.pk}" selected>Tom Leaving (North, no longer active)</option>' in page
    response = client.post(
        URL,
        {"from_keyworker": tom.pk, "to_keyworker": alice.pk, "reason": "Tom has left the service."},
        follow=True,
    )
    assert "3 patients handed over from Tom Leaving to Alice Keyworker" in response.content.decode()
    assert 'data-testid="keyworker-left"' not in response.content.decode()
    assert set(
        Patient.objects.filter(family_name__in=["One", "Two", "Three"]).values_list("keyworker", flat=True)
    ) == {alice.pk}
    assert set(TreatmentEpisode.objects.values_list("keyworker_id", flat=True)) == {alice.pk}
    changes = CareTeamChange.objects.all()
    assert changes.count() == 3
    assert {(c.from_keyworker, c.to_keyworker, c.reason, c.recorded_by) for c in changes} == {
        (tom, alice, "Tom has left the service.", mona)
    }


@pytest.mark.parametrize(
    ("to", "field", "message"),
    [
        ("tom", "to_keyworker", "Choose someone else: this is the keyworker handing over."),
        ("olga", "to_keyworker", "Select a valid choice."),  # not in Mona's teams
    ],
)
def test_a_handover_that_cannot_be_is_refused_and_nothing_moves(
    client, request, mona, tom, olga, toms_caseload, to, field, message
):
    client.force_login(mona)
    person = request.getfixturevalue(to)
    response = client.post(URL, {"from_keyworker": tom.pk, "to_keyworker": person.pk, "reason": "Leaving."})
    assert message in error_beside(response.content.decode(), field)
    assert not CareTeamChange.objects.exists()


def test_a_keyworker_in_another_managed_team_is_refused_by_name(
    client, mona, tom, olga, other_team, toms_caseload
):
    mona.managed_teams.add(other_team)
    client.force_login(mona)
    response = client.post(URL, {"from_keyworker": tom.pk, "to_keyworker": olga.pk, "reason": "Leaving."})
    assert "Olga Outsider works in South: choose a keyworker in North." in error_beside(
        response.content.decode(), "to_keyworker"
    )
    assert not CareTeamChange.objects.exists()


def test_a_keyworker_without_patients_has_nothing_to_hand_over(client, mona, alice, tom):
    client.force_login(mona)
    response = client.post(URL, {"from_keyworker": tom.pk, "to_keyworker": alice.pk, "reason": "Leaving."})
    assert "Tom Leaving has no patients in North to hand over." in error_beside(
        response.content.decode(), "from_keyworker"
    )


def test_without_a_reason_nothing_moves(client, mona, alice, tom, toms_caseload):
    client.force_login(mona)
    response = client.post(URL, {"from_keyworker": tom.pk, "to_keyworker": alice.pk, "reason": ""})
    assert "Say why" in error_beside(response.content.decode(), "reason")
    assert Patient.objects.filter(keyworker=tom).count() == 3


def test_keyworkers_cannot_hand_over_and_a_senior_practitioner_only_in_their_team(client, alice, sam, olga):
    client.force_login(alice)
    assert client.get(URL).status_code == 403
    client.force_login(sam)
    page = client.get(URL).content.decode()
    assert "Alice Keyworker (North)" in page and "Olga" not in page
