"""Reads of care plans for pages and the evidence pack (docs/conventions.md 3)."""

from __future__ import annotations

from careplans.models import Goal, GoalProgress
from patients.models import CoreDomain, TreatmentEpisode
from patients.top_questionnaire import DOMAIN_LABELS


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


def goals_for_episode(episode: TreatmentEpisode) -> list[Goal]:
    return list(
        Goal.objects.filter(care_plan__episode=episode)
        .prefetch_related("actions")
        .order_by("domain", "created_at", "pk")
    )
