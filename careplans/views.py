"""The care plan: goals by core domain with their actions and progress (§2.10, §2.12). Every view asks the
access door, logs the view of the record, and writes through careplans.services."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from careplans import services
from careplans.forms import ActionCompleteForm, ActionForm, GoalForm
from careplans.models import Goal, GoalAction
from careplans.selectors import care_plan_progress, goals_for_episode
from patients.access import episode_for_user
from recovery_reviews.access import record_for_user
from recovery_reviews.audit import record_access
from recovery_reviews.forms import add_service_errors

GOAL_PATH = "care_plan__episode__"
ACTION_PATH = "goal__care_plan__episode__"


def _plan_url(episode) -> str:
    from django.urls import reverse

    return reverse("careplans:plan", args=[episode.pk])


def _plan_page(request, episode, goal_form=None, status=200):
    record_access(request, episode.patient)
    return render(
        request,
        "careplans/plan.html",
        {
            "episode": episode,
            "plan": care_plan_progress(goals_for_episode(episode)),
            "goal_form": goal_form or GoalForm(),
            "today": timezone.localdate(),
        },
        status=status,
    )


def plan(request, episode_pk):
    return _plan_page(request, episode_for_user(request.user, episode_pk))


def goal_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_create(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Goal added to the care plan.")
            return redirect(_plan_url(episode))
    return _plan_page(request, episode, goal_form=form)


def goal_edit(request, pk):
    goal = record_for_user(
        request.user, Goal.objects.select_related("care_plan__episode__patient"), pk, episode_path=GOAL_PATH
    )
    episode = goal.care_plan.episode
    initial = {name: getattr(goal, name) for name in services.GOAL_FIELDS}
    form = GoalForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if v != initial[k]}
        try:
            if changes:
                services.goal_update(goal=goal, by=request.user, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Goal updated." if changes else "Nothing changed.")
            return redirect(_plan_url(episode))
    record_access(request, episode.patient)
    return render(request, "careplans/goal_form.html", {"form": form, "goal": goal, "episode": episode})


def action_new(request, pk):
    goal = record_for_user(
        request.user, Goal.objects.select_related("care_plan__episode__patient"), pk, episode_path=GOAL_PATH
    )
    episode = goal.care_plan.episode
    form = ActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_create(goal=goal, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Action added.")
            return redirect(_plan_url(episode))
    record_access(request, episode.patient)
    return render(request, "careplans/action_form.html", {"form": form, "goal": goal, "episode": episode})


@require_POST
def action_complete(request, pk):
    """Mark an action done; with htmx the action's line is swapped in place, without it the page reloads."""
    action = record_for_user(
        request.user,
        GoalAction.objects.select_related("goal__care_plan__episode__patient"),
        pk,
        episode_path=ACTION_PATH,
    )
    episode = action.goal.care_plan.episode
    form = ActionCompleteForm(request.POST or {"completed_on": timezone.localdate()})
    error = ""
    if form.is_valid():
        try:
            action = services.action_complete(action=action, by=request.user, **form.cleaned_data)
        except ValidationError as e:
            error = " ".join(e.messages)
    else:
        error = " ".join(form.errors.get("completed_on", ["Give the date the action was completed."]))
    if request.htmx:
        return render(
            request,
            "careplans/_action.html",
            {"action": action, "episode": episode, "error": error, "today": timezone.localdate()},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Action completed.")
    return redirect(_plan_url(episode))
