"""Every write of the care plan (docs/conventions.md 3): goals in the four core domains with actions, owners, target
dates and progress (§2.10), increasingly self-managed by the patient over time (§2.12). Each validates with
full_clean, so bad input gets the same messages whatever the caller, and runs in one transaction."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careplans.models import CarePlan, Goal, GoalAction
from patients.models import TreatmentEpisode
from recovery_reviews.formatting import day

GOAL_FIELDS = ("domain", "description", "target_date", "progress", "self_managed")


def _plan_for(episode: TreatmentEpisode, agreed_on: date) -> CarePlan:
    plan, _ = CarePlan.objects.get_or_create(episode=episode, defaults={"agreed_on": agreed_on})
    return plan


def _check_open(episode: TreatmentEpisode) -> None:
    if episode.exit_date is not None:
        raise ValidationError("This episode has ended: its care plan is kept as it was.")


@transaction.atomic
def goal_create(
    *,
    episode: TreatmentEpisode,
    domain: str,
    description: str,
    by,
    target_date: date | None = None,
    self_managed: bool = False,
    progress: str = "not_started",
) -> Goal:
    """A goal in one core domain; the episode's care plan is created with its first goal."""
    _check_open(episode)
    plan = _plan_for(episode, agreed_on=timezone.localdate())
    goal = Goal(
        care_plan=plan,
        domain=domain,
        description=description.strip(),
        target_date=target_date,
        self_managed=self_managed,
        progress=progress,
    )
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def goal_update(*, goal: Goal, by, **changes) -> Goal:
    """Change a goal's wording, domain, target date, progress or who manages it."""
    unknown = sorted(set(changes) - set(GOAL_FIELDS))
    if unknown:
        raise ValidationError(f"Unknown goal fields: {', '.join(unknown)}.")
    goal = Goal.objects.select_for_update().select_related("care_plan__episode").get(pk=goal.pk)
    _check_open(goal.care_plan.episode)
    for name, value in changes.items():
        setattr(goal, name, value.strip() if isinstance(value, str) else value)
    goal.full_clean()
    goal.save(update_fields=[*changes, "updated_at"])
    return goal


@transaction.atomic
def action_create(
    *,
    goal: Goal,
    description: str,
    owner: str,
    by,
    owner_name: str = "",
    target_date: date | None = None,
) -> GoalAction:
    _check_open(goal.care_plan.episode)
    action = GoalAction(
        goal=goal,
        description=description.strip(),
        owner=owner,
        owner_name=owner_name.strip(),
        target_date=target_date,
        created_by=by,
    )
    action.full_clean()
    action.save()
    return action


@transaction.atomic
def action_complete(*, action: GoalAction, completed_on: date, by) -> GoalAction:
    """Mark an action done, once: a completion already recorded is never overwritten."""
    action = (
        GoalAction.objects.select_for_update().select_related("goal__care_plan__episode").get(pk=action.pk)
    )
    if action.completed_on is not None:
        raise ValidationError(
            {"completed_on": f"This action was already completed on {day(action.completed_on)}."}
        )
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": "An action cannot be completed in the future."})
    episode = action.goal.care_plan.episode
    if completed_on < episode.entry_date:
        raise ValidationError({"completed_on": "This is before the episode began."})
    action.completed_on = completed_on
    action.full_clean()
    action.save(update_fields=["completed_on"])
    return action
