"""The evidence pack for a strategic review's step-back overview (§2.3, §2.7-2.11): progress since entry and
since the last review on every TOP item and core domain, drug tests, pharmacy compliance, care-plan goals,
interventions and medications, the pharmacist's concerns, and self-report beside drug tests substance by substance.
Read with a fixed number of queries; compiled as of the review's date, so a completed review shows what its
reviewers had in front of them (docs/design.md, The evidence pack as of its date)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import OuterRef, Prefetch, Subquery

from careplans.selectors import care_plan_as_of
from patients.models import (
    CoreDomain,
    DrugTestResult,
    Intervention,
    InterventionKind,
    TopAssessment,
    TreatmentEpisode,
)
from patients.selectors import drug_test_compilation, pharmacy_compilation
from patients.top_questionnaire import DOMAIN_LABELS, TOP_ITEMS, TopItem
from recovery_reviews.access import scoped
from recovery_reviews.compiled_queries import CompiledQuery
from recovery_reviews.formatting import day
from reviews.corroboration import SubstanceEvidence, substance_evidence
from reviews.findings import EASING_FINDINGS
from reviews.models import Finding, ReviewStatus, StrategicReview, UnmetNeed
from reviews.services.schedule import policy
from reviews.services.transitions import (
    ELEMENT_KINDS,
    ElementRow,
    Transition,
    element_row,
    treatment_transitions_described,
)

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
    # What in the evidence contradicts it, named beside it: every hint that eases supervision or steps the
    # clinician back (App. C 1, 5-6) carries what the pack holds against it.
    against: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return Finding(self.finding).label


# --- Vigilance after a medication change (App. C 2; docs/design.md rule 3b) -------------------------------------


@dataclass(frozen=True)
class TransitionVigilance:
    """The transitions since the last completed strategic review (since entry where there is none), up to today:
    the review is due within 3 months of each (rule 3b), and App. C 2 asks for vigilance during and after any
    change of medication until it is held. What changed, and when, as the pages say it."""

    months: int
    transitions: tuple[Transition, ...]

    @property
    def label(self) -> str:
        return f"Within {self.months} months of a transition"

    @property
    def changes(self) -> list[str]:
        """'Methadone 60 mg → 20 mg on 3 Feb 2026', earliest first."""
        return [f"{t.what} on {day(t.on)}" for t in self.transitions]

    @property
    def summary(self) -> str:
        return f"{self.label}: " + "; ".join(self.changes)


def transition_vigilance(
    episode: TreatmentEpisode, rows: list[ElementRow], last_review_on: date | None, *, today: date
) -> TransitionVigilance | None:
    """The vigilance after a medication change owed on `today`, from the episode's OST, detox, residential and
    inpatient rows and the date the last strategic review completed with the patient (rule 6): every rule 3b
    transition on or after that review (after entry where there is none) and not after today, read as the
    schedule reads them (reviews.services.schedule.treatment_transitions_described), until the strategic review
    that follows completes. A transition on the day of that review still counts, as it does for the schedule
    (the review may have planned the change). None while there is no such transition, and once the episode has
    ended: strategic reviews stop then, and the recovery check-ups follow (§1.7)."""
    if episode.exit_date is not None and episode.exit_date <= today:
        return None
    since = last_review_on or episode.entry_date
    shown = tuple(t for t in treatment_transitions_described(rows, episode) if since <= t.on <= today)
    return TransitionVigilance(policy().transition_review_months, shown) if shown else None


def episode_transition_vigilance(
    episode: TreatmentEpisode, interventions: list, reviews: list, *, today: date
) -> TransitionVigilance | None:
    """transition_vigilance from rows a page has already read: the episode's interventions of every kind and its
    strategic reviews of every status (the patient's record), so that it costs no query."""
    completed = [r.completed_on for r in reviews if r.status == ReviewStatus.COMPLETED and r.completed_on]
    rows = [element_row(i) for i in interventions if i.kind in ELEMENT_KINDS]
    return transition_vigilance(episode, rows, max(completed, default=None), today=today)


def transition_vigilance_by_episode(
    episodes: list[TreatmentEpisode], *, today: date
) -> dict[int, TransitionVigilance]:
    """transition_vigilance for a page of episodes (the caseload's), with one query whatever their number: the
    episodes' OST, detox, residential and inpatient rows, each with its episode's last completed review. None
    when there are no episodes."""
    return transitions_and_vigilance_by_episode(episodes, today=today)[1]


def _elements_with_last_review(episodes: list[int]):
    last_review = (
        StrategicReview.objects.filter(
            episode_id=OuterRef("episode_id"), status=ReviewStatus.COMPLETED, completed_on__isnull=False
        )
        .order_by("-completed_on")
        .values("completed_on")[:1]
    )
    return (
        Intervention.objects.filter(episode__in=episodes, kind__in=ELEMENT_KINDS)
        .annotate(last_review_on=Subquery(last_review))
        .only("episode", "kind", "medicine", "daily_dose_mg", "started_on", "ended_on")
    )


# Read on every caseload page: compiled once per number of episodes (recovery_reviews/compiled_queries.py).
_ELEMENTS_WITH_LAST_REVIEW = CompiledQuery(_elements_with_last_review)


def transitions_and_vigilance_by_episode(
    episodes: list[TreatmentEpisode], *, today: date
) -> tuple[dict[int, tuple], dict[int, TransitionVigilance]]:
    """Rule 3b's transitions of each of a page's episodes (as reviews.risk_selectors.transitions_by_episode reads
    them, for the risk level) and transition_vigilance, from one read of the rows both are made of: one query
    for the caseload's page instead of two. Nothing is read when there are no episodes."""
    if not episodes:
        return {}, {}
    rows, last_review_on = {}, {}
    for intervention in _ELEMENTS_WITH_LAST_REVIEW.run(episodes=[e.pk for e in episodes]):
        rows.setdefault(intervention.episode_id, []).append(element_row(intervention))
        last_review_on[intervention.episode_id] = intervention.last_review_on
    transitions, found = {}, {}
    for episode in episodes:
        if episode.pk in rows:
            transitions[episode.pk] = treatment_transitions_described(rows[episode.pk], episode)
            vigilance = transition_vigilance(
                episode, rows[episode.pk], last_review_on[episode.pk], today=today
            )
            if vigilance:
                found[episode.pk] = vigilance
    return transitions, found


# --- The evidence pack -----------------------------------------------------------------------------------------


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
    # The pharmacy reports since the last review whose pharmacist raised concerns (§2.9).
    pharmacy_concerns: list = field(default_factory=list)
    substances: list[SubstanceEvidence] = field(default_factory=list)  # self-report beside tests (§2.9)
    hints: list[Hint] = field(default_factory=list)
    vigilance: TransitionVigilance | None = None  # within 3 months of a transition since the last review

    @property
    def since(self) -> date:
        """The start of 'since the last review': its completion date, or entry where there is none."""
        if self.last_review is None:
            return self.episode.entry_date
        return self.last_review.completed_on or self.last_review.held_on

    @property
    def disagreements(self) -> list[str]:
        """Where self-report and tests disagree, in words (§2.9)."""
        return [d.text for row in self.substances for d in row.disagreements]

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
        care_plan=care_plan_as_of(episode, as_of),
        interventions=list(
            episode.interventions.filter(started_on__lte=as_of).order_by("-started_on", "-pk")
        ),
        dispensing=list(
            episode.dispensing_arrangements.filter(effective_from__lte=as_of).order_by(
                "-effective_from", "-recorded_at"
            )
        ),
        circumstances=[c for c in episode.circumstances.order_by("-started_on") if c.is_current(as_of)],
        unmet_needs=list(
            UnmetNeed.objects.filter(episode=episode, recorded_on__lte=as_of).order_by("-recorded_on")
        ),
        pharmacy_concerns=[r for r in reports if r.concerns.strip() and r.period_end >= since],
        substances=substance_evidence(
            tests=tests,
            entry_top=entry_top,
            last_review_top=last_review_top,
            latest_top=latest_top,
            since_last_review=since,
        ),
    )
    pack.hints = hints(pack)
    pack.vigilance = transition_vigilance(
        episode,
        [element_row(i) for i in pack.interventions if i.kind in ELEMENT_KINDS],
        last_review.completed_on if last_review else None,
        today=as_of,
    )
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


def contradictions(pack: EvidencePack) -> tuple[str, ...]:
    """What in the pack stands against easing supervision or the clinician stepping back (App. C 1, 5-6), in
    words: drug tests that show more use than the self-report (§2.9), missed-dose runs or poor supervised
    adherence since the last review (App. C 1), and the pharmacist's concerns since then (§2.9)."""
    pharmacy = pack.pharmacy_since_last_review
    against = [d.text for row in pack.substances for d in row.disagreements if d.tests_show_more]
    if pharmacy["safety_events"]:
        against.append(f"Missed doses since the last review: {_runs_text(pharmacy['safety_events'])}.")
    share = pharmacy["supervised_share"]
    if share is not None and share < POOR_ADHERENCE:
        against.append(f"Only {share:.0%} of supervised doses taken since the last review.")
    for report in pack.pharmacy_concerns:
        against.append(
            f"The pharmacist's concerns ({report.pharmacy_name}, {day(report.period_start)} to "
            f"{day(report.period_end)}): {report.concerns.strip()}"
        )
    return tuple(against)


def hints(pack: EvidencePack) -> list[Hint]:
    """Findings the evidence since the last review points to (App. C), each with the evidence that points there.
    Conservative: a hint needs the evidence to be there (reports, tests, two TOPs), and says what it saw. One
    that eases supervision or steps the clinician back (reviews/findings.py EASING_FINDINGS) names whatever in
    the pack contradicts it (`contradictions`)."""
    found = _hints(pack)
    against = contradictions(pack)
    return [Hint(h.finding, h.why, against) if h.finding in EASING_FINDINGS else h for h in found]


def _hints(pack: EvidencePack) -> list[Hint]:
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


def _led_unfinished(user, limit: int):
    return (
        scoped(
            StrategicReview.objects.filter(
                lead_id=user.pk, status__in=[ReviewStatus.DRAFT, ReviewStatus.AWAITING_PATIENT]
            ).exclude(  # strategic reviews stop when the episode ends (§1.7); a draft is left to discard
                status=ReviewStatus.AWAITING_PATIENT, episode__exit_date__isnull=False
            ),
            user,
        )
        .select_related("episode__patient")
        .order_by("held_on", "pk")[:limit]
    )


# Read on every caseload page: compiled once per shape of scope (recovery_reviews/compiled_queries.py).
_LED_UNFINISHED = CompiledQuery(_led_unfinished)


def reviews_to_finish(user, *, limit: int = 15) -> list[StrategicReview]:
    """Strategic reviews the user leads that are not complete: started and not finished, or held without the
    patient and waiting on their involvement (§2.4). Until then the clock does not reset."""
    return _LED_UNFINISHED.run(shape={"limit": limit}, user=user)
