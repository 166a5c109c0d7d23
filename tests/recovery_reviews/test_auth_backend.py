"""The person signed in is loaded once a request with their team, and a manager's teams are read once a request
(recovery_reviews/auth_backend.py, recovery_reviews/access.py): fewer queries on every page, and never a team
kept past the request that read it. The filters' menus of teams read their choices with a plain query
(recovery_reviews/forms.py, ModelChoiceField). docs/design.md, Access and audit."""

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recovery_reviews.access import team_ids_for_user, teams_for_user
from recovery_reviews.auth_backend import ModelBackend
from recovery_reviews.forms import ModelChoiceField
from tests.support.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_the_user_comes_with_their_team_and_an_inactive_one_not_at_all(alice, team):
    backend = ModelBackend()
    with CaptureQueriesContext(connection) as queries:
        user = backend.get_user(alice.pk)
        assert user.team.name == team.name
    assert len(queries) == 1
    alice.is_active = False
    alice.save()
    assert backend.get_user(alice.pk) is None
    assert backend.get_user(10**9) is None


def test_a_managers_teams_are_read_once_for_a_request_and_afresh_for_any_other_user_object(mona, team):
    south = TeamFactory(name="South")
    loaded = ModelBackend().get_user(mona.pk)
    with CaptureQueriesContext(connection) as queries:
        assert team_ids_for_user(loaded) == [team.pk]
        assert team_ids_for_user(loaded) == [team.pk]
    assert len(queries) == 1
    mona.managed_teams.add(south)  # a fixture's user object, not loaded for a request: never kept
    assert team_ids_for_user(mona) == sorted([team.pk, south.pk])
    assert ModelBackend().get_user(mona.pk) is not loaded  # the next request loads the person again
    assert team_ids_for_user(ModelBackend().get_user(mona.pk)) == sorted([team.pk, south.pk])


def test_a_signed_in_manager_page_reads_their_teams_once(client, mona):
    client.force_login(mona)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("reviews:forecast")).status_code == 200
    managed = [q for q in queries.captured_queries if "recovery_reviews_user_managed_teams" in q["sql"]]
    assert len(managed) == 1


def test_the_team_menu_lists_what_djangos_lists_with_one_plain_query(mona, team):
    TeamFactory(name="South")
    mona.managed_teams.add(TeamFactory(name="East"))
    ours = ModelChoiceField(queryset=teams_for_user(mona).order_by("name"), empty_label="All my teams")
    djangos = forms.ModelChoiceField(
        queryset=teams_for_user(mona).order_by("name"), empty_label="All my teams"
    )
    with CaptureQueriesContext(connection) as queries:
        choices = [(str(value), label) for value, label in ours.choices]
    assert choices == [(str(value), label) for value, label in djangos.choices]
    assert [label for _, label in choices] == ["All my teams", "East", team.name]
    assert len(queries) == 1
    assert not queries.captured_queries[0]["sql"].startswith("DECLARE")
