"""Self-report set against drug tests, substance by substance, for the evidence pack (§2.9: tests corroborate
self-report; docs/design.md, The evidence pack as of its date). Pure: it reads the TOPs and the tests (their
results prefetched) that the pack has already read, and costs no query.

For each substance of the TOP's section 1: the days used in the past 28 at entry, at the last review and at the
latest TOP, beside the tests for it (patients/top_questionnaire.py TOP_SUBSTANCE_TESTS, the one map between
the two vocabularies) since entry and since the last review. Where they disagree the row says so in words:

- the self-report fell over a period (since the last review, else since entry) while half or more of that
  period's tests for the substance, and at least two, were positive: the tests do not corroborate the fall;
- the latest TOP reports no use in its 28 days while a test in those 28 days was positive;
- the latest TOP reports use while at least two tests in its 28 days were all negative.

The first two say the tests show more use than the patient reported: they contradict any suggestion that eases
supervision or steps the clinician back (App. C 1, 5-6), and the pack names them beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from patients.models import OPIOID_SUBSTITUTES, Substance, TestResult
from patients.top_questionnaire import TOP_SUBSTANCE_LABELS, TOP_SUBSTANCE_TESTS
from recovery_reviews.formatting import day

MOST_TESTS_POSITIVE = (
    0.5  # a share of positive tests at or above which a fall in self-report is not corroborated
)
FEWEST_TESTS = 2  # tests of a substance in a period before their share is weighed against self-report
TOP_WINDOW_DAYS = 28  # the TOP asks about the past four weeks


@dataclass(frozen=True)
class TestTally:
    """A substance's tests in a period: how many tested for it (inconclusive left out), how many positive
    without being prescribed, and which of its test substances were found."""

    tested: int = 0
    positive: int = 0
    found: tuple[str, ...] = ()

    @property
    def share(self) -> float | None:
        return self.positive / self.tested if self.tested else None

    @property
    def found_text(self) -> str:
        return _names(self.found)


@dataclass(frozen=True)
class Disagreement:
    text: str
    tests_show_more: bool  # the tests show more use than reported: it contradicts easing (App. C 1, 5-6)


@dataclass(frozen=True)
class SubstanceEvidence:
    """One substance, self-report beside tests. `prefix` is the TOP's (None for a tested substance the TOP does
    not ask about); `substances` the test substances read for it."""

    prefix: str | None
    label: str
    substances: tuple[str, ...]
    at_entry: int | None
    at_last_review: int | None
    latest: int | None
    tests_since_entry: TestTally
    tests_since_last_review: TestTally
    disagreements: tuple[Disagreement, ...] = ()

    @property
    def tested_for(self) -> str:
        return _names(self.substances)


def _names(substances) -> str:
    """'heroin or fentanyl and synthetic opioids', in the tests' own words, lower case."""
    labels = [Substance(s).label.lower() for s in substances]
    return " or ".join(labels)


def _tally(tests, substances, *, since: date | None = None, until: date | None = None) -> TestTally:
    tested = positive = 0
    found = []
    for test in tests:
        if (since is not None and test.taken_on < since) or (until is not None and test.taken_on > until):
            continue
        results = [
            r for r in test.results.all() if r.substance in substances and r.result != TestResult.INCONCLUSIVE
        ]
        if not results:
            continue
        tested += 1
        hits = [
            r.substance
            for r in results
            if r.result == TestResult.POSITIVE and not r.expected_because_prescribed
        ]
        positive += bool(hits)
        found += [s for s in hits if s not in found]
    return TestTally(tested, positive, tuple(s for s in substances if s in found))


def _days(top, prefix: str) -> int | None:
    return top.days_used(prefix) if top is not None else None


def _fell(row: SubstanceEvidence, *, last_review_top, entry_top) -> Disagreement | None:
    """The self-report fell over a period while most of its tests were positive; since the last review first."""
    periods = []
    if last_review_top is not None:
        periods.append(("since the last review", row.at_last_review, row.tests_since_last_review))
    if entry_top is not None:
        periods.append(("since entry", row.at_entry, row.tests_since_entry))
    for words, before, tally in periods:
        if before is None or row.latest is None or row.latest >= before or tally.tested < FEWEST_TESTS:
            continue
        if tally.share >= MOST_TESTS_POSITIVE:
            return Disagreement(
                f"Self-reported {row.label.lower()} use fell from {before} to {row.latest} days in 28 {words}, "
                f"but {tally.positive} of {tally.tested} drug tests {words} ({tally.share:.0%}) were positive "
                f"for {tally.found_text}: the tests do not corroborate the fall (§2.9).",
                tests_show_more=True,
            )
    return None


def _window(row: SubstanceEvidence, tests, latest_top) -> Disagreement | None:
    """The latest TOP's own 28 days against the tests taken in them."""
    if latest_top is None or row.latest is None:
        return None
    until = latest_top.assessed_on
    since = until - timedelta(days=TOP_WINDOW_DAYS - 1)
    tally = _tally(tests, row.substances, since=since, until=until)
    if row.latest == 0 and tally.positive:
        first = min(
            t.taken_on
            for t in tests
            if since <= t.taken_on <= until
            and any(
                r.substance in row.substances
                and r.result == TestResult.POSITIVE
                and not r.expected_because_prescribed
                for r in t.results.all()
            )
        )
        return Disagreement(
            f"The TOP of {day(until)} reports no {row.label.lower()} use in its 28 days, but "
            f"{tally.positive} of {tally.tested} drug tests in those days (the first on {day(first)}) were "
            f"positive for {tally.found_text} (§2.9).",
            tests_show_more=True,
        )
    if row.latest > 0 and tally.tested >= FEWEST_TESTS and not tally.positive:
        return Disagreement(
            f"The TOP of {day(until)} reports {row.label.lower()} use on {row.latest} days in 28, but none of "
            f"the {tally.tested} drug tests in those days was positive for {row.tested_for} (§2.9).",
            tests_show_more=False,
        )
    return None


def substance_evidence(
    *, tests, entry_top, last_review_top, latest_top, since_last_review: date
) -> list[SubstanceEvidence]:
    """Self-report and tests side by side, one row per TOP substance answered or tested for, then one per other
    substance tested for (the opioid substitutes left out: the pack's compliance rows read them)."""
    rows = []
    for prefix, substances in TOP_SUBSTANCE_TESTS.items():
        row = SubstanceEvidence(
            prefix=prefix,
            label=TOP_SUBSTANCE_LABELS[prefix],
            substances=substances,
            at_entry=_days(entry_top, prefix),
            at_last_review=_days(last_review_top, prefix),
            latest=_days(latest_top, prefix),
            tests_since_entry=_tally(tests, substances),
            tests_since_last_review=_tally(tests, substances, since=since_last_review),
        )
        if row.latest is None and row.at_entry is None and not row.tests_since_entry.tested:
            continue
        found = (
            _fell(row, last_review_top=last_review_top, entry_top=entry_top),
            _window(row, tests, latest_top),
        )
        rows.append(_with(row, found))
    mapped = {s for substances in TOP_SUBSTANCE_TESTS.values() for s in substances}
    tested = {r.substance for t in tests for r in t.results.all()}
    for substance in Substance:
        if substance in mapped or substance in OPIOID_SUBSTITUTES or substance not in tested:
            continue
        row = SubstanceEvidence(
            prefix=None,
            label=substance.label,
            substances=(substance.value,),
            at_entry=None,
            at_last_review=None,
            latest=None,
            tests_since_entry=_tally(tests, (substance.value,)),
            tests_since_last_review=_tally(tests, (substance.value,), since=since_last_review),
        )
        if row.tests_since_entry.tested:
            rows.append(row)
    return rows


def _with(row: SubstanceEvidence, found) -> SubstanceEvidence:
    kept = tuple(d for d in found if d is not None)
    if not kept:
        return row
    return SubstanceEvidence(**{**row.__dict__, "disagreements": kept})
