"""The care-plan page: goals by domain with actions; adding and updating goals and actions; errors beside the
field; an action marked done in place with htmx; 404 outside scope."""

import re
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from careplans.models import Goal, GoalAction
from tests.support.factories import CarePlanFactory, GoalActionFactory, GoalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = date(2026, 5, 1)


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def error_beside(page: str, field: str) -> str:
    match = re.search(
        rf'id="error_1_id_{field}"[^>]*>\s*(?:<strong>)?(.*?)(?:</strong>)?\s*</', page, flags=re.S
    )
    assert match, f"no message beside {field}"
    return match.group(1)


def test_the_plan_shows_goals_by_domain_with_their_actions(logged_in, episode):
    plan = CarePlanFactory(episode=episode)
    goal = GoalFactory(care_plan=plan, progress="some_progress")
    GoalActionFactory(goal=goal, description="Book the GP")
    GoalFactory(care_plan=plan, domain="social_functioning", description="Find a flat", self_managed=True)
    page = logged_in.get(reverse("careplans:plan", args=[episode.pk])).content.decode()
    drugs = page.split("Drug and alcohol use</h2>")[1].split("</section>")[0]
    assert "Stop using heroin on top of the prescription" in drugs and "Book the GP" in drugs
    assert "Find a flat" in page.split("Social functioning</h2>")[1]
    assert "0 of 2 goals achieved · 1 self-managed · 1 open action" in page
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == 1


def test_a_goal_is_added(logged_in, episode):
    response = logged_in.post(
        reverse("careplans:goal_new", args=[episode.pk]),
        {
            "domain": "health",
            "description": "Sleep better",
            "target_date": "2026-07-01",
            "progress": "not_started",
        },
    )
    assert response.status_code == 302
    assert Goal.objects.get().target_date == date(2026, 7, 1)


def test_a_goal_without_a_description_is_answered_beside_the_field(logged_in, episode):
    response = logged_in.post(
        reverse("careplans:goal_new", args=[episode.pk]),
        {"domain": "health", "description": "   ", "progress": "not_started"},
    )
    assert response.status_code == 200
    assert "Describe the goal, in the patient&#x27;s words" in error_beside(
        response.content.decode(), "description"
    )
    assert not Goal.objects.exists()


def test_a_goals_progress_is_updated(logged_in, episode):
    goal = GoalFactory(care_plan__episode=episode)
    url = reverse("careplans:goal_edit", args=[goal.pk])
    assert 'value="not_started" selected' in logged_in.get(url).content.decode()
    data = {
        "domain": goal.domain,
        "description": goal.description,
        "progress": "achieved",
        "self_managed": "on",
    }
    assert logged_in.post(url, data).status_code == 302
    goal.refresh_from_db()
    assert (goal.progress, goal.self_managed) == ("achieved", True)


def test_an_action_for_someone_else_needs_their_name_beside_the_field(logged_in, episode):
    goal = GoalFactory(care_plan__episode=episode)
    url = reverse("careplans:action_new", args=[goal.pk])
    page = logged_in.post(url, {"description": "Housing visit", "owner": "other"}).content.decode()
    assert "Name who owns this action." in error_beside(page, "owner_name")
    logged_in.post(url, {"description": "Housing visit", "owner": "other", "owner_name": "Housing officer"})
    assert GoalAction.objects.get().owner_name == "Housing officer"


def test_an_action_is_marked_done_in_place_with_htmx(logged_in, episode):
    action = GoalActionFactory(goal__care_plan__episode=episode)
    response = logged_in.post(
        reverse("careplans:action_complete", args=[action.pk]),
        {"completed_on": "2026-05-01"},
        HTTP_HX_REQUEST="true",
    )
    fragment = response.content.decode()
    assert fragment.strip().startswith('<li class="action') and f'id="action-{action.pk}"' in fragment
    assert "done 1 May 2026" in fragment
    again = logged_in.post(
        reverse("careplans:action_complete", args=[action.pk]),
        {"completed_on": "2026-05-01"},
        HTTP_HX_REQUEST="true",
    )
    assert "already completed on 1 May 2026" in again.content.decode()


def test_an_action_is_marked_done_without_javascript(logged_in, episode):
    action = GoalActionFactory(goal__care_plan__episode=episode)
    response = logged_in.post(
        reverse("careplans:action_complete", args=[action.pk]), {"completed_on": "2026-04-30"}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.completed_on == date(2026, 4, 30)


def test_care_plan_pages_are_404s_outside_scope(client, olga, episode):
    goal = GoalFactory(care_plan__episode=episode)
    action = GoalActionFactory(goal=goal)
    client.force_login(olga)
    for url in (
        reverse("careplans:plan", args=[episode.pk]),
        reverse("careplans:goal_new", args=[episode.pk]),
        reverse("careplans:goal_edit", args=[goal.pk]),
        reverse("careplans:action_new", args=[goal.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("careplans:action_complete", args=[action.pk])).status_code == 404
    action.refresh_from_db()
    assert action.completed_on is None


def test_the_plan_page_reads_with_a_fixed_number_of_queries(logged_in, episode, django_assert_num_queries):
    plan = CarePlanFactory(episode=episode)

    def add(n):
        for _ in range(n):
            GoalActionFactory(goal=GoalFactory(care_plan=plan))

    add(2)
    url = reverse("careplans:plan", args=[episode.pk])
    with django_assert_num_queries(7):
        logged_in.get(url)
    add(8)
    with django_assert_num_queries(7):
        logged_in.get(url)
