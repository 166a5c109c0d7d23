"""Reads of care plans for pages and the evidence pack (docs/conventions.md 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from auditlog.models import LogEntry
from django.db.models import Q
from django.utils import timezone

from careplans.models import Goal, GoalAction, GoalProgress
from patients.models import CoreDomain, TreatmentEpisode
from patients.top_questionnaire import DOMAIN_LABELS
from recovery_reviews.compiled_queries import CompiledQuery


def care_plan_progress(goals: list[Goal]) -> dict:
    """Goals by domain with their actions (prefetched), and how far the plan has come (§2.7, §2.12)."""
    by_domain = {domain: [] for domain, _ in CoreDomain.choices}
    for goal in goals:
        by_domain[goal.domain].append(goal)
    live = [g for g in goals if g.progress != GoalProgress.NO_LONGER_RELEVANT]
    achieved = sum(g.progress == GoalProgress.ACHIEVED for g in live)
    return {
        "goals": goals,
        "by_domain": [(DOMAIN_LABELS[d], d, gs) for d, gs in by_domain.items()],
        "live": len(live),
        "achieved": achieved,
        "achieved_share": achieved / len(live) if live else None,
        "self_managed": sum(g.self_managed for g in live),
        "open_actions": sum(1 for g in goals for a in g.actions.all() if a.completed_on is None),
    }


# Read on every patient page: compiled once (recovery_reviews/compiled_queries.py).
_GOALS = CompiledQuery(
    lambda episode: (
        Goal.objects.filter(care_plan__episode_id=episode)
        .prefetch_related("actions")
        .order_by("domain", "created_at", "pk")
    )
)


def goals_for_episode(episode: TreatmentEpisode) -> list[Goal]:
    return _GOALS.run(episode=episode.pk)


# --- The care plan as it stood on a past day (docs/design.md, The evidence pack as of its date) ------------------

# The fields of a goal whose past value the pack shows, read back from the change log.
_GOAL_FIELDS_SHOWN = ("domain", "description", "progress", "self_managed")


@dataclass(frozen=True)
class GoalAsOf:
    """A goal as it stood at the end of a day: its wording, domain, progress and who managed it then, and the
    actions it had then (open unless completed by then). `known` is False where the goal was changed after that
    day by a write the change log does not hold (the demo's seeding, a bulk import): its fields are then shown
    as they are now, and the page says so."""

    goal: Goal
    domain: str
    description: str
    progress: str
    self_managed: bool
    actions: tuple[GoalAction, ...]
    open_actions: int
    known: bool

    @property
    def pk(self) -> int:
        return self.goal.pk

    def get_progress_display(self) -> str:
        return GoalProgress(self.progress).label

    def get_domain_display(self) -> str:
        return CoreDomain(self.domain).label


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _logged_value(field: str, value):
    return value == "True" if field == "self_managed" else value


def care_plan_as_of(episode: TreatmentEpisode, on: date) -> dict:
    """care_plan_progress of the goals as they stood at the end of `on`: goals created by then, each with the
    values it had then, and the actions it had then. Two queries (the goals with their actions, and the change
    log's entries about them after that day) however long the plan.

    What the data holds: a goal's created_at and updated_at; an action's completed_on (it has no creation time);
    and django-auditlog's entry for every create and change made through the application, with each changed
    field's value before and after (recovery_reviews/audit.py). A goal not updated since `on` stood then as it
    stands now. One updated since: the first logged change after `on` of each field holds the value it had on
    `on`. One updated since with no change logged after `on` was changed outside the application: its past
    values cannot be known, so it is shown as it is now, marked unknown. An action whose creation is logged
    after `on` did not exist then; one completed after `on` was open then."""
    goals = [g for g in goals_for_episode(episode) if timezone.localdate(g.created_at) <= on]
    after = _end_of(on)
    changed = {}  # (model, pk) -> the first logged value after `on` of each field, oldest entry first
    created_after = set()
    actions = [a.pk for g in goals for a in g.actions.all()]
    if goals:
        entries = (
            LogEntry.objects.filter(
                Q(content_type__model="goal", object_id__in=[g.pk for g in goals])
                | Q(content_type__model="goalaction", object_id__in=actions),
                content_type__app_label="careplans",
                timestamp__gte=after,
            )
            .order_by("timestamp", "pk")
            .values_list("content_type__model", "object_id", "action", "changes")
        )
        for model, pk, action, changes in entries:
            if action == LogEntry.Action.CREATE:
                created_after.add((model, pk))
            elif action == LogEntry.Action.UPDATE and model == "goal":
                before = changed.setdefault(pk, {})
                for name, (old, _new) in (changes or {}).items():
                    if name in _GOAL_FIELDS_SHOWN:
                        before.setdefault(name, _logged_value(name, old))
    shown = []
    for goal in goals:
        known = timezone.localdate(goal.updated_at) <= on or goal.pk in changed
        then = {name: getattr(goal, name) for name in _GOAL_FIELDS_SHOWN} | changed.get(goal.pk, {})
        had = tuple(a for a in goal.actions.all() if ("goalaction", a.pk) not in created_after)
        shown.append(
            GoalAsOf(
                goal=goal,
                actions=had,
                open_actions=sum(a.completed_on is None or a.completed_on > on for a in had),
                known=known,
                **then,
            )
        )
    live = [g for g in shown if g.progress != GoalProgress.NO_LONGER_RELEVANT]
    achieved = sum(g.progress == GoalProgress.ACHIEVED for g in live)
    return {
        "as_of": on,
        "goals": shown,
        "live": len(live),
        "achieved": achieved,
        "achieved_share": achieved / len(live) if live else None,
        "self_managed": sum(g.self_managed for g in live),
        "open_actions": sum(g.open_actions for g in shown),
        "progress_unknown": [g for g in shown if not g.known],
    }
