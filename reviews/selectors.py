"""The evidence pack for a strategic review's step-back overview (§2.3, §2.7-2.11): progress since entry and
since the last review on every TOP item and core domain, drug tests, pharmacy compliance, care-plan goals,
interventions and medications. Read with a fixed number of queries; compiled as of the review's date, so a
completed review shows what its reviewers had in front of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Prefetch

from careplans.selectors import care_plan_progress, goals_for_episode
from patients.models import CoreDomain, DrugTestResult, InterventionKind, TopAssessment, TreatmentEpisode
from patients.selectors import drug_test_compilation, pharmacy_compilation
from patients.top_questionnaire import DOMAIN_LABELS, TOP_ITEMS, TopItem
from recovery_reviews.access import scoped
from recovery_reviews.formatting import day
from reviews.models import Finding, ReviewStatus, StrategicReview, UnmetNeed

GOOD_ADHERENCE = 0.95  # share of supervised doses taken that reads as good adherence for a hint
POOR_ADHERENCE = 0.80


@dataclass(frozen=True)
class ItemProgress:
    item: TopItem
    at_entry: object
    at_last_review: object
    now: object

    @property
    def since_entry(self) -> str:
        return self.item.change(self.at_entry, self.now)

    @property
    def since_last_review(self) -> str:
        return self.item.change(self.at_last_review, self.now)


@dataclass
class DomainSummary:
    domain: str
    label: str
    items: list[ItemProgress]

    def _count(self, attr: str, change: str) -> int:
        return sum(getattr(i, attr) == change for i in self.items)

    @property
    def better_since_entry(self) -> int:
        return self._count("since_entry", "better")

    @property
    def worse_since_entry(self) -> int:
        return self._count("since_entry", "worse")

    @property
    def better_since_last_review(self) -> int:
        return self._count("since_last_review", "better")

    @property
    def worse_since_last_review(self) -> int:
        return self._count("since_last_review", "worse")


@dataclass(frozen=True)
class Hint:
    """What the evidence suggests the reviewers consider; never ticked for them."""

    finding: str
    why: str

    @property
    def label(self) -> str:
        return Finding(self.finding).label


@dataclass
class EvidencePack:
    episode: TreatmentEpisode
    as_of: date
    last_review: StrategicReview | None
    entry_top: TopAssessment | None
    last_review_top: TopAssessment | None
    latest_top: TopAssessment | None
    domains: list[DomainSummary]
    tests_since_entry: dict
    tests_since_last_review: dict
    pharmacy_since_entry: dict
    pharmacy_since_last_review: dict
    care_plan: dict
    interventions: list
    dispensing: list
    circumstances: list
    unmet_needs: list
    hints: list[Hint] = field(default_factory=list)

    @property
    def since(self) -> date:
        """The start of 'since the last review': its completion date, or entry where there is none."""
        if self.last_review is None:
            return self.episode.entry_date
        return self.last_review.completed_on or self.last_review.held_on

    @property
    def current_interventions(self):
        return [i for i in self.interventions if i.ended_on is None or i.ended_on >= self.as_of]

    @property
    def current_dispensing(self):
        return next((d for d in self.dispensing if d.effective_from <= self.as_of), None)

    @property
    def on_ost(self) -> bool:
        return any(i.kind == InterventionKind.OST for i in self.current_interventions)


def evidence_pack(
    episode: TreatmentEpisode, *, as_of: date, review: StrategicReview | None = None
) -> EvidencePack:
    """Everything the step-back overview weighs, as of `as_of`. `review` is the review being held (left out of
    'the last review')."""
    previous = [
        r
        for r in StrategicReview.objects.filter(episode=episode, status=ReviewStatus.COMPLETED)
        .prefetch_related("findings", "responses")
        .order_by("-completed_on", "-pk")
        if (review is None or r.pk != review.pk) and r.completed_on <= as_of
    ]
    last_review = previous[0] if previous else None
    tops = list(episode.top_assessments.filter(assessed_on__lte=as_of).order_by("assessed_on", "pk"))
    entry_top = tops[0] if tops else None
    latest_top = tops[-1] if tops else None
    last_review_top = None
    if last_review is not None:
        before = [t for t in tops if t.assessed_on <= last_review.held_on]
        last_review_top = before[-1] if before else None
    tests = list(
        episode.drug_tests.filter(taken_on__lte=as_of)
        .order_by("-taken_on", "-pk")
        .prefetch_related(Prefetch("results", queryset=DrugTestResult.objects.order_by("substance")))
    )
    reports = list(
        episode.pharmacy_reports.filter(period_start__lte=as_of)
        .order_by("-period_end", "-pk")
        .prefetch_related("missed_doses")
    )
    since = (last_review.completed_on or last_review.held_on) if last_review else episode.entry_date
    pack = EvidencePack(
        episode=episode,
        as_of=as_of,
        last_review=last_review,
        entry_top=entry_top,
        last_review_top=last_review_top,
        latest_top=latest_top,
        domains=_domains(entry_top, last_review_top, latest_top),
        tests_since_entry=drug_test_compilation(tests),
        tests_since_last_review=drug_test_compilation(tests, since=since),
        pharmacy_since_entry=pharmacy_compilation(reports),
        pharmacy_since_last_review=pharmacy_compilation(reports, since=since),
        care_plan=care_plan_progress(goals_for_episode(episode)),
        interventions=list(
            episode.interventions.filter(started_on__lte=as_of).order_by("-started_on", "-pk")
        ),
        dispensing=list(episode.dispensing_arrangements.order_by("-effective_from", "-recorded_at")),
        circumstances=[c for c in episode.circumstances.order_by("-started_on") if c.is_current(as_of)],
        unmet_needs=list(UnmetNeed.objects.filter(episode=episode).order_by("-recorded_on")),
    )
    pack.hints = hints(pack)
    return pack


def _domains(entry, last_review, latest) -> list[DomainSummary]:
    def value(top, item):
        return item.value(top) if top is not None else None

    summaries = []
    for domain, _ in CoreDomain.choices:
        items = [
            ItemProgress(item, value(entry, item), value(last_review, item), value(latest, item))
            for item in TOP_ITEMS
            if item.domain == domain
        ]
        summaries.append(DomainSummary(domain, DOMAIN_LABELS[domain], items))
    return summaries


def _runs_text(runs) -> str:
    return "; ".join(f"{r.length} in a row from {day(r.first)}" for r in runs)


def hints(pack: EvidencePack) -> list[Hint]:
    """Findings the evidence since the last review points to (App. C), each with the evidence that points there.
    Conservative: a hint needs the evidence to be there (reports, tests, two TOPs), and says what it saw."""
    found = []
    pharmacy, tests = pack.pharmacy_since_last_review, pack.tests_since_last_review
    share = pharmacy["supervised_share"]
    if pharmacy["safety_events"]:
        found.append(
            Hint(
                Finding.DETERIORATING_ADHERENCE,
                f"Missed doses since the last review: {_runs_text(pharmacy['safety_events'])} (App. C 1).",
            )
        )
    elif share is not None and share < POOR_ADHERENCE:
        found.append(
            Hint(
                Finding.DETERIORATING_ADHERENCE,
                f"Only {share:.0%} of supervised doses taken since the last review.",
            )
        )
    clean_tests = tests["tests"] > 0 and not tests["unexpected"]
    if (
        pack.on_ost
        and share is not None
        and share >= GOOD_ADHERENCE
        and not pharmacy["safety_events"]
        and clean_tests
    ):
        arrangement = pack.current_dispensing
        evidence = (
            f"{share:.0%} of supervised doses taken and no unexpected test results since the last review"
        )
        if arrangement is None or arrangement.take_home_doses_per_week == 0:
            found.append(Hint(Finding.STABLE_ADHERENCE, f"{evidence}, on supervised consumption (App. C 1)."))
        else:
            found.append(
                Hint(Finding.CONTINUED_GOOD_ADHERENCE, f"{evidence}, with take-home doses (App. C 1).")
            )
    if pack.entry_top is not None and pack.latest_top is not None and pack.latest_top.pk != pack.entry_top.pk:
        better = sum(d.better_since_entry for d in pack.domains)
        worse = sum(d.worse_since_entry for d in pack.domains)
        months = relativedelta(pack.latest_top.assessed_on, pack.entry_top.assessed_on)
        if better >= 3 and worse <= 1:
            found.append(
                Hint(
                    Finding.GOOD_PROGRESS, f"{better} TOP items better since entry, {worse} worse (App. C 5)."
                )
            )
        elif better == 0 and (months.years or months.months >= 3):
            found.append(
                Hint(Finding.NO_BENEFIT, f"No TOP item better since entry; {worse} worse (App. C 4).")
            )
        elif better and pack.last_review_top is not None and pack.last_review_top.pk != pack.latest_top.pk:
            since_review = sum(d.better_since_last_review for d in pack.domains)
            if since_review == 0:
                found.append(
                    Hint(
                        Finding.BENEFIT_PLATEAU,
                        f"{better} TOP items better since entry but none since the last review (App. C 2).",
                    )
                )
    return found


def reviews_to_finish(user, *, limit: int = 15) -> list[StrategicReview]:
    """Strategic reviews the user leads that are not complete: started and not finished, or held without the
    patient and waiting on their involvement (§2.4). Until then the clock does not reset."""
    return list(
        scoped(
            StrategicReview.objects.filter(
                lead=user, status__in=[ReviewStatus.DRAFT, ReviewStatus.AWAITING_PATIENT]
            ).exclude(  # strategic reviews stop when the episode ends (§1.7); a draft is left to discard
                status=ReviewStatus.AWAITING_PATIENT, episode__exit_date__isnull=False
            ),
            user,
        )
        .select_related("episode__patient")
        .order_by("held_on", "pk")[:limit]
    )
