"""The register of unmet need (§2.14): interventions, intensities and settings that strategic reviews recorded as
needed but not accessible, counted by kind, team and quarter for the team, the provider and commissioners.

The counts carry no patient identifiers; the recent entries shown to the manager (with their descriptions)
stay in the application.

Each team's counts are kept between requests (reviews.dashboards.kept), one figure per quarter of the period (a
quarter cut by the period's start or end is its own key): valid until a need of the team is recorded, changed or
removed, or an episode moves between teams. The recent entries are read live (25 rows by date).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Count
from django.db.models.functions import TruncQuarter

from recovery_reviews.access import scoped
from reviews.dashboards import kept
from reviews.dashboards.forms import quarter_start
from reviews.models import UnmetNeed, UnmetNeedCategory, UnmetNeedKind


@dataclass(frozen=True)
class NeedCount:
    quarter: date
    team_id: int
    team: str
    category: str
    kind: str
    count: int

    @property
    def category_label(self) -> str:
        return UnmetNeedCategory(self.category).label

    @property
    def kind_label(self) -> str:
        return UnmetNeedKind(self.kind).label


def _needs(user, *, start: date, end: date, team_id: int | None):
    needs = scoped(UnmetNeed.objects.filter(recorded_on__range=(start, end)), user)
    if team_id:
        needs = needs.filter(episode__team_id=team_id)
    return needs


def live_unmet_need_counts(user, *, start: date, end: date, team_id: int | None = None) -> list[NeedCount]:
    """The counts from the needs now: the reference the kept figures must equal."""
    rows = (
        _needs(user, start=start, end=end, team_id=team_id)
        .annotate(quarter=TruncQuarter("recorded_on"))
        .values("quarter", "episode__team_id", "episode__team__name", "category", "kind")
        .annotate(n=Count("pk"))
        .order_by("quarter", "episode__team__name", "category", "kind")
    )
    return [
        NeedCount(
            quarter=row["quarter"],
            team_id=row["episode__team_id"],
            team=row["episode__team__name"],
            category=row["category"],
            kind=row["kind"],
            count=row["n"],
        )
        for row in rows
    ]


def _segments(start: date, end: date) -> list[tuple[date, str]]:
    """Each quarter the period touches, with its key: the part of the quarter inside the period."""
    segments, quarter = [], quarter_start(start)
    while quarter <= end:
        last = quarter + relativedelta(months=3, days=-1)
        segments.append((quarter, f"{max(quarter, start).isoformat()}/{min(last, end).isoformat()}"))
        quarter += relativedelta(months=3)
    return segments


def kept_unmet_needs(team_ids: list[int], *, start: date, end: date):
    """Each team's kept counts by (team, segment key): {"category kind": count}."""
    segments = _segments(start, end)
    key_of = dict(segments)

    def compute(teams: list[int]) -> dict:
        figures = {(team, key): {} for team in teams for _, key in segments}
        rows = (
            UnmetNeed.objects.filter(recorded_on__range=(start, end), episode__team_id__in=teams)
            .annotate(quarter=TruncQuarter("recorded_on"))
            .values("quarter", "episode__team_id", "category", "kind")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            key = key_of[row["quarter"]]
            figures[(row["episode__team_id"], key)][f"{row['category']} {row['kind']}"] = row["n"]
        return figures

    return kept.kept_figures("unmet", team_ids, [key for _, key in segments], compute)


def unmet_need_counts(user, *, start: date, end: date, team_id: int | None = None) -> list[NeedCount]:
    """One row per quarter, team, category and kind with at least one need recorded in the period (from the kept
    figures, equal to live_unmet_need_counts)."""
    team_ids = kept.scope_teams(user)
    if team_ids is None:
        return live_unmet_need_counts(user, start=start, end=end, team_id=team_id)
    if team_id:
        team_ids = [team for team in team_ids if team == team_id]
    names, figures = kept_unmet_needs(team_ids, start=start, end=end)
    teams = sorted(names, key=lambda team: (names[team], team))
    counts = []
    # In the live order: quarter, team name, category, kind ("category kind" sorts as the pair: a space sorts
    # before any letter or underscore of the codes).
    for quarter, key in _segments(start, end):
        for team in teams:
            for category_kind, n in sorted(figures[(team, key)].items()):
                category, kind = category_kind.split(" ")
                counts.append(NeedCount(quarter, team, names[team], category, kind, n))
    return counts


@dataclass(frozen=True)
class NeedRow:
    category: str
    kind: str
    label: str
    by_quarter: list[int]
    total: int

    @property
    def category_label(self) -> str:
        return UnmetNeedCategory(self.category).label


@dataclass
class NeedRegister:
    quarters: list[date]
    rows: list[NeedRow]  # one per category and kind with any need recorded, in the categories' order
    teams: list[tuple[int, str, int]]  # (id, name, count)
    total: int


def unmet_need_register(counts: list[NeedCount], *, start: date, end: date) -> NeedRegister:
    """The counts arranged for the page: each kind by quarter, and each team's total."""
    quarters, day = [], quarter_start(start)
    while day <= end:
        quarters.append(day)
        day += relativedelta(months=3)
    column = {q: i for i, q in enumerate(quarters)}
    cells = defaultdict(lambda: [0] * len(quarters))
    labels, teams = {}, defaultdict(int)
    names = {}
    for row in counts:
        key = (row.category, row.kind)
        if key not in labels:
            labels[key] = row.kind_label
        cells[key][column[row.quarter]] += row.count
        teams[row.team_id] += row.count
        names[row.team_id] = row.team
    order = {c: i for i, c in enumerate(UnmetNeedCategory.values)}
    rows = [
        NeedRow(
            category, kind, labels[(category, kind)], cells[(category, kind)], sum(cells[(category, kind)])
        )
        for category, kind in sorted(labels, key=lambda key: (order[key[0]], labels[key]))
    ]
    return NeedRegister(
        quarters=quarters,
        rows=rows,
        teams=sorted(((t, names[t], n) for t, n in teams.items()), key=lambda item: item[1]),
        total=sum(row.total for row in rows),
    )


def recent_unmet_needs(user, *, start: date, end: date, team_id: int | None = None, limit: int = 25):
    return list(
        _needs(user, start=start, end=end, team_id=team_id)
        .select_related("episode__patient__team", "review")
        .order_by("-recorded_on", "-pk")[:limit]
    )
