"""Outcomes: how a team's patients in treatment have changed on the TOP between entry and their latest review,
item by item and per core domain (§2.10). Each patient counts once: their treatment-start TOP against their
latest review TOP in the same episode. Unanswered items are left out of that item's figures, never counted as 0.

Read one team at a time: the team's TOPs are one query (a few thousand rows), compared here with the same item
definitions as the patient record and the evidence pack (patients.top_questionnaire.TOP_ITEMS).

Each team's report is kept between requests (reviews.dashboards.kept): valid until a TOP of the team is recorded,
changed or removed, or an episode of the team ends, moves between teams or is removed. Several teams' reports add
up (each patient counts in their episode's team; the totals are sums of whole numbers, exact in floating point).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import F

from patients.models import CoreDomain, TopAssessment
from patients.models.evidence import TopStage
from patients.top_questionnaire import DOMAIN_LABELS, TOP_ITEMS, TopItem
from recovery_reviews.access import scoped
from reviews.dashboards import kept


class _TopAnswers(SimpleNamespace):
    """A TOP's answers without a model instance: a team's thousands of TOPs are read as plain values (building
    model instances took most of the page's time), and TOP_ITEMS read them the same way."""

    days_used = TopAssessment.days_used


def _answer_fields() -> list[str]:
    return [f.attname for f in TopAssessment._meta.concrete_fields if f.attname not in ("recorded_by_id",)]


@dataclass
class ItemOutcome:
    item: TopItem
    pairs: int = 0
    entry_total: float = 0
    latest_total: float = 0
    better: int = 0
    same: int = 0
    worse: int = 0

    @property
    def mean_at_entry(self) -> float | None:
        return self.entry_total / self.pairs if self.pairs else None

    @property
    def mean_latest(self) -> float | None:
        return self.latest_total / self.pairs if self.pairs else None

    def share(self, count: int) -> float | None:
        return count / self.pairs if self.pairs else None

    @property
    def better_share(self):
        return self.share(self.better)

    @property
    def worse_share(self):
        return self.share(self.worse)


@dataclass
class DomainOutcome:
    domain: str
    label: str
    items: list[ItemOutcome] = field(default_factory=list)
    patients: int = 0
    improved: int = 0
    unchanged: int = 0
    deteriorated: int = 0

    def share(self, count: int) -> float | None:
        return count / self.patients if self.patients else None

    @property
    def improved_share(self):
        return self.share(self.improved)

    @property
    def deteriorated_share(self):
        return self.share(self.deteriorated)


@dataclass
class OutcomesReport:
    patients: int
    without_review_top: int
    domains: list[DomainOutcome]


def _empty_domains() -> dict[str, DomainOutcome]:
    domains = {d: DomainOutcome(d, DOMAIN_LABELS[d]) for d in CoreDomain.values}
    for item in TOP_ITEMS:
        if item.scale != "amount":  # amounts are in each substance's own unit: not comparable across patients
            domains[item.domain].items.append(ItemOutcome(item))
    return domains


def _team_reports(tops) -> dict[int, OutcomesReport]:
    """Each team's report from its open episodes' TOPs (a queryset of TopAssessment)."""
    tops = tops.filter(episode__exit_date__isnull=True, stage__in=[TopStage.START, TopStage.REVIEW])
    tops = tops.order_by("episode_id", "assessed_on", "pk")
    entry, latest, team_of = {}, {}, {}
    # A manager's teams' TOPs fit in memory; a server-side cursor (iterator) made PostgreSQL materialise a WITH HOLD
    # cursor and cost 60 ms more at 2,000 patients than one plain fetch.
    for values in tops.values(*_answer_fields(), team=F("episode__team_id")):
        team = values.pop("team")
        top = _TopAnswers(**values)
        if top.stage == TopStage.START:
            entry.setdefault(top.episode_id, top)
            team_of[top.episode_id] = team
        elif top.episode_id in entry:
            latest[top.episode_id] = top  # ordered by date: the last one read is the latest
    reports = {}
    for episode in entry:
        report = reports.setdefault(team_of[episode], OutcomesReport(0, 0, list(_empty_domains().values())))
        if episode not in latest:
            report.without_review_top += 1
            continue
        report.patients += 1
        for domain in report.domains:
            _compare(domain, entry[episode], latest[episode])
    return reports


def _add(total: OutcomesReport, report: OutcomesReport) -> None:
    total.patients += report.patients
    total.without_review_top += report.without_review_top
    for mine, theirs in zip(total.domains, report.domains, strict=True):
        for name in ("patients", "improved", "unchanged", "deteriorated"):
            setattr(mine, name, getattr(mine, name) + getattr(theirs, name))
        for a, b in zip(mine.items, theirs.items, strict=True):
            for name in _ITEM_FIGURES:
                setattr(a, name, getattr(a, name) + getattr(b, name))


_ITEM_FIGURES = ("pairs", "entry_total", "latest_total", "better", "same", "worse")
_DOMAIN_FIGURES = ("patients", "improved", "unchanged", "deteriorated")


def _to_json(report: OutcomesReport) -> list:
    return [
        report.patients,
        report.without_review_top,
        [
            [
                [getattr(d, n) for n in _DOMAIN_FIGURES],
                [[getattr(i, n) for n in _ITEM_FIGURES] for i in d.items],
            ]
            for d in report.domains
        ],
    ]


def _from_json(values: list) -> OutcomesReport:
    report = OutcomesReport(values[0], values[1], list(_empty_domains().values()))
    for domain, (figures, items) in zip(report.domains, values[2], strict=True):
        for name, value in zip(_DOMAIN_FIGURES, figures, strict=True):
            setattr(domain, name, value)
        for item, item_figures in zip(domain.items, items, strict=True):
            for name, value in zip(_ITEM_FIGURES, item_figures, strict=True):
                setattr(item, name, value)
    return report


def _combined(reports) -> OutcomesReport:
    total = OutcomesReport(0, 0, list(_empty_domains().values()))
    for report in reports:
        _add(total, report)
    return total


def live_top_outcomes(user, *, team_id: int | None = None) -> OutcomesReport:
    """The report from the TOPs now: the reference the kept figures must equal."""
    tops = scoped(TopAssessment.objects.all(), user)
    if team_id:
        tops = tops.filter(episode__team_id=team_id)
    return _combined(_team_reports(tops).values())


def kept_outcomes(team_ids: list[int]):
    """Each team's kept report by (team, "")."""

    def compute(teams: list[int]) -> dict:
        reports = _team_reports(TopAssessment.objects.filter(episode__team_id__in=teams))
        return {(team, ""): _to_json(reports.get(team) or _combined([])) for team in teams}

    return kept.kept_figures("outcomes", team_ids, [""], compute)


def top_outcomes(user, *, team_id: int | None = None) -> OutcomesReport:
    """One team's outcomes, or (no team given) those of every team in the user's scope together (from the kept
    figures, equal to live_top_outcomes)."""
    team_ids = kept.scope_teams(user)
    if team_ids is None:
        return live_top_outcomes(user, team_id=team_id)
    if team_id:
        team_ids = [team for team in team_ids if team == team_id]
    names, figures = kept_outcomes(team_ids)
    return _combined(_from_json(figures[(team, "")]) for team in names)


def _compare(domain: DomainOutcome, before: TopAssessment, after: TopAssessment) -> None:
    """Add one patient's pair to a domain: each answered item, then the domain as a whole (more items better
    than worse is improved, more worse than better is deteriorated)."""
    better = worse = answered = 0
    for outcome in domain.items:
        was, now = outcome.item.value(before), outcome.item.value(after)
        change = outcome.item.change(was, now)
        if not change:
            continue
        answered += 1
        outcome.pairs += 1
        outcome.entry_total += float(was)
        outcome.latest_total += float(now)
        if change == "better":
            outcome.better += 1
            better += 1
        elif change == "worse":
            outcome.worse += 1
            worse += 1
        else:
            outcome.same += 1
    if answered:
        domain.patients += 1
        if better > worse:
            domain.improved += 1
        elif worse > better:
            domain.deteriorated += 1
        else:
            domain.unchanged += 1
