"""Care-plan services: goals in the core domains with actions, owners, target dates and progress (§2.10, §2.12)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from careplans import services
from careplans.models import CarePlan, GoalProgress
from tests.support.factories import GoalActionFactory, GoalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = date(2026, 5, 1)


def test_the_first_goal_creates_the_care_plan(episode, alice):
    goal = services.goal_create(
        episode=episode, domain="health", description="  See the GP about sleep ", by=alice
    )
    assert CarePlan.objects.get(episode=episode).agreed_on == date(2026, 5, 1)
    assert goal.description == "See the GP about sleep"
    second = services.goal_create(
        episode=episode, domain="social_functioning", description="A flat", by=alice
    )
    assert second.care_plan_id == goal.care_plan_id


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"description": "  "}, "description"), ({"domain": "astrology"}, "domain")],
)
def test_a_goal_needs_a_description_and_a_core_domain(episode, alice, changes, field):
    arguments = {"episode": episode, "domain": "health", "description": "Sleep", "by": alice, **changes}
    with pytest.raises(ValidationError) as error:
        services.goal_create(**arguments)
    assert field in error.value.message_dict


def test_a_goal_is_updated_and_becomes_self_managed(episode, alice):
    goal = GoalFactory(care_plan__episode=episode)
    goal = services.goal_update(goal=goal, progress=GoalProgress.GOOD_PROGRESS, self_managed=True, by=alice)
    goal.refresh_from_db()
    assert (goal.progress, goal.self_managed) == ("good_progress", True)
    with pytest.raises(ValidationError, match="Unknown goal fields: care_plan"):
        services.goal_update(goal=goal, care_plan=None, by=alice)


def test_an_action_owned_by_someone_else_names_them(episode, alice):
    goal = GoalFactory(care_plan__episode=episode)
    with pytest.raises(ValidationError) as error:
        services.action_create(goal=goal, description="Housing appointment", owner="other", by=alice)
    assert error.value.message_dict == {"owner_name": ["Name who owns this action."]}
    action = services.action_create(
        goal=goal, description="Housing appointment", owner="other", owner_name="Housing officer", by=alice
    )
    assert action.created_by == alice


def test_an_action_is_completed_once(episode, alice):
    action = GoalActionFactory(goal__care_plan__episode=episode)
    services.action_complete(action=action, completed_on=date(2026, 4, 30), by=alice)
    action.refresh_from_db()
    assert action.completed_on == date(2026, 4, 30)
    with pytest.raises(ValidationError, match="already completed on 30 Apr 2026"):
        services.action_complete(action=action, completed_on=date(2026, 5, 1), by=alice)


@pytest.mark.parametrize(
    ("day", "message"), [(date(2026, 5, 2), "in the future"), (date(2026, 1, 1), "before")]
)
def test_an_action_cannot_be_completed_in_the_future_or_before_the_episode(episode, alice, day, message):
    action = GoalActionFactory(goal__care_plan__episode=episode)
    with pytest.raises(ValidationError, match=message):
        services.action_complete(action=action, completed_on=day, by=alice)


def test_the_care_plan_of_an_ended_episode_is_kept_as_it_was(episode, alice):
    goal = GoalFactory(care_plan__episode=episode)
    episode.exit_date, episode.exit_reason = date(2026, 4, 1), "dropped_out"
    episode.save()
    with pytest.raises(ValidationError, match="has ended"):
        services.goal_create(episode=episode, domain="health", description="Sleep", by=alice)
    with pytest.raises(ValidationError, match="has ended"):
        services.goal_update(goal=goal, progress="achieved", by=alice)
