"""Outcomes: how a team's patients in treatment have changed on the TOP between entry and their latest review,
item by item and per core domain (§2.10). Each patient counts once: their treatment-start TOP against their
latest review TOP in the same episode. Unanswered items are left out of that item's figures, never counted as 0.

Read one team at a time: the team's TOPs are one query (a few thousand rows), compared here with the same item
definitions as the patient record and the evidence pack (patients.top_questionnaire.TOP_ITEMS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from patients.models import CoreDomain, TopAssessment
from patients.models.evidence import TopStage
from patients.top_questionnaire import DOMAIN_LABELS, TOP_ITEMS, TopItem
from recovery_reviews.access import scoped


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


def top_outcomes(user, *, team_id: int | None = None) -> OutcomesReport:
    """One team's outcomes, or (no team given) those of every team in the user's scope together."""
    tops = scoped(TopAssessment.objects.all(), user).filter(
        episode__exit_date__isnull=True, stage__in=[TopStage.START, TopStage.REVIEW]
    )
    if team_id:
        tops = tops.filter(episode__team_id=team_id)
    tops = tops.order_by("episode_id", "assessed_on", "pk")
    entry, latest = {}, {}
    # A manager's teams' TOPs fit in memory; a server-side cursor (iterator) made PostgreSQL materialise a WITH HOLD
    # cursor and cost 60 ms more at 2,000 patients than one plain fetch.
    for values in tops.values(*_answer_fields()):
        top = _TopAnswers(**values)
        if top.stage == TopStage.START:
            entry.setdefault(top.episode_id, top)
        elif top.episode_id in entry:
            latest[top.episode_id] = top  # ordered by date: the last one read is the latest
    pairs = [(entry[e], latest[e]) for e in latest]
    domains = {d: DomainOutcome(d, DOMAIN_LABELS[d]) for d in CoreDomain.values}
    for item in TOP_ITEMS:
        if item.scale != "amount":  # amounts are in each substance's own unit: not comparable across patients
            domains[item.domain].items.append(ItemOutcome(item))
    for before, after in pairs:
        for domain in domains.values():
            _compare(domain, before, after)
    return OutcomesReport(
        patients=len(pairs),
        without_review_top=len(entry) - len(pairs),
        domains=list(domains.values()),
    )


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
