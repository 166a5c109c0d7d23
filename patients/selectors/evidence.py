"""The evidence on a patient's record, compiled for pages (docs/conventions.md 3): the TOP over time, safety events,
drug tests and pharmacy reports (§2.9). The compilations work on rows already fetched, so a page reads with a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q
from django.http import Http404

from patients import missed_doses
from patients.models import (
    MISSED_DOSE_SAFETY_RUN,
    NON_PRESCRIBED_OPIOIDS,
    CoreDomain,
    DrugTest,
    DrugTestResult,
    PharmacyReport,
    SafetyEventAcknowledgement,
    TestResult,
    TopAssessment,
)
from patients.top_questionnaire import TOP_ITEMS
from recovery_reviews.access import record_for_user, scoped
from recovery_reviews.compiled_queries import CompiledQuery
from recovery_reviews.formatting import day, day_short

# --- The TOP over time ------------------------------------------------------------------------------------------


# The chart's y axis, said in words (the panel of ratings, 0-20, or of days in the past four weeks).
DAYS_AXIS = {CoreDomain.DRUG_ALCOHOL_USE: "Days used in the last 28 days"}
OTHER_DAYS_AXIS = "Days in the last 28 days"
RATING_AXIS = "Rating 0-20 (20 is best)"


def top_chart_data(tops: list[TopAssessment], *, own_items=frozenset()) -> dict:
    """Series since entry for the TOP chart, one panel per core domain, with its axis said in words. Unanswered
    items are null (a gap in the line), never zero. Yes/no items are not charted: they are listed beside the
    chart. A substance's line is shown when it was ever used or is one of the patient's own (`own_items`, TOP
    prefixes: top_items_for_substances); any other line never above zero starts hidden, one click away."""
    labels = [day(top.assessed_on) for top in tops]
    stages = [top.get_stage_display() for top in tops]
    panels = []
    for domain, domain_label in CoreDomain.choices:
        series = []
        for item in TOP_ITEMS:
            if item.domain != domain or item.scale not in ("days", "rating"):
                continue
            values = [item.value(top) for top in tops]
            if all(v is None for v in values):
                continue
            own = item.key.removesuffix("_days_used") in own_items
            series.append(
                {
                    "label": item.label,
                    "data": values,
                    "hidden": item.scale == "days" and item.better == "lower" and not any(values) and not own,
                }
            )
        ratings = all(s["label"].endswith("(0-20)") for s in series) and series
        panels.append(
            {
                "domain": domain,
                "title": domain_label,
                "max": 20 if ratings else 28,
                "axis": RATING_AXIS if ratings else DAYS_AXIS.get(domain, OTHER_DAYS_AXIS),
                "series": series,
            }
        )
    return {"labels": labels, "stages": stages, "panels": panels}


def top_latest_answers(tops: list[TopAssessment]) -> dict[str, list[tuple[str, str]]]:
    """The yes/no items of the latest TOP, by domain, as shown beside the chart ('not answered' is kept)."""
    if not tops:
        return {}
    latest = tops[-1]
    answers: dict[str, list] = {}
    for item in TOP_ITEMS:
        if item.scale == "yes_no":
            value = item.value(latest)
            shown = "not answered" if value is None else ("yes" if value else "no")
            answers.setdefault(item.domain, []).append((item.label, shown))
    return answers


# --- Safety events ------------------------------------------------------------------------------------------------


# The kinds of safety event, as named in the acknowledgement's URL (recovery_reviews/pages/caseload.py).
MISSED_DOSES, UNEXPECTED_RESULT = "missed-doses", "drug-test-result"


@dataclass(frozen=True)
class SafetyEvent:
    on: date
    patient_id: int
    patient: str
    what: str
    action_needed: str = ""  # what is still to be done, shown first
    kind: str = ""  # MISSED_DOSES (by the pharmacy report that owns the run) or UNEXPECTED_RESULT
    record_id: int | None = None  # the report or the drug test result
    summary: str = ""  # what an acknowledgement holds: the event as said without the prescriber's telling
    # The acknowledgement of the event as it stands (None while not acknowledged), and an earlier one of the same
    # event when it has grown since (a longer run): then it is new again.
    # docs/clinical-safety/hazard-log.md, H-041: An acknowledged safety event is taken as dealt with
    acknowledgement: SafetyEventAcknowledgement | None = None
    earlier_acknowledgement: SafetyEventAcknowledgement | None = None

    @property
    def is_new(self) -> bool:
        return self.acknowledgement is None


# The unexpected results are scoped by their test's own team and keyworker (copies of the episode's, kept equal by
# triggers: DrugTest.team), so a scope's recent tests are read newest first from an index and the walk stops at the
# twentieth result: backwards by date and test for a busy scope (drug_test_recent_order), from the scope's own
# recent tests for a quiet one (drug_test_team_recent, drug_test_keyworker_recent); migrations patients 0015 and
# 0018. Both lists order by date, then by record (a result by its test, then itself), as their indexes are keyed:
# ordered by date alone, the whole newest day would be read first (13,000 drug tests a day at 300,000 patients).
# At 300,000 patients a keyworker's team of 2,000 episodes reads in about 1 ms, every team in under 1 ms.


# What a safety event shows of its report or result and of the patient (the rest of the rows, episodes above all,
# is left unread: forty of them on every caseload page).
REPORT_SHOWN = (
    "pharmacy_name",
    "period_start",
    "period_end",
    "safety_run",
    "safety_run_from",
    "safety_run_told_on",
)
RESULT_SHOWN = ("substance", "result", "expected_because_prescribed")


def PATIENT_SHOWN(path: str) -> tuple[str, ...]:  # noqa: N802 (read as the constants beside it)
    return (f"{path}given_name", f"{path}family_name")


def _recent_reports(user, today: date, days: int):
    return (
        scoped(
            PharmacyReport.objects.filter(
                safety_run__gte=MISSED_DOSE_SAFETY_RUN, period_end__gte=today - timedelta(days=days)
            ),
            user,
        )
        .select_related("episode__patient")
        .only(*REPORT_SHOWN, *PATIENT_SHOWN("episode__patient__"))
        .order_by("-period_end", "-pk")[:20]  # the newest first; of a day, the latest recorded
    )


def _recent_results(user, today: date, days: int):
    return (
        scoped(
            DrugTestResult.objects.filter(
                test__taken_on__gte=today - timedelta(days=days), test__entered_in_error_at__isnull=True
            ),
            user,
            episode_path="test__",  # the test's copy of its episode's team and keyworker
        )
        .filter(_unexpected())
        .select_related("test__episode__patient")
        .only(*RESULT_SHOWN, "test__taken_on", *PATIENT_SHOWN("test__episode__patient__"))
        .order_by("-test__taken_on", "-test_id", "-pk")[:20]
    )


# Read on every caseload page: compiled once per shape of scope (recovery_reviews/compiled_queries.py).
_RECENT_REPORTS = CompiledQuery(_recent_reports)
_RECENT_RESULTS = CompiledQuery(_recent_results)


def recent_safety_events(user, *, today: date, days: int = 28) -> list[SafetyEvent]:
    """Runs of three or more missed doses and unexpected drug test results in the last four weeks. A run is read
    across the episode's reports (docs/design.md rule 4b) and listed once, by the report that owns it (the one
    holding its third missed day), from the safety event that report stores: one indexed read
    (pharmacy_safety_events), whatever the number of patients; the results likewise (see above)."""
    reports = _RECENT_REPORTS.run(shape={"days": days}, user=user, today=today)
    results = _RECENT_RESULTS.run(shape={"days": days}, user=user, today=today)
    acknowledged = _acknowledgements(reports, results)
    events = [
        SafetyEvent(
            r.period_end,
            r.episode.patient_id,
            str(r.episode.patient),
            summary
            + (f": prescriber told on {day_short(r.safety_run_told_on)}" if r.safety_run_told_on else ""),
            "" if r.safety_run_told_on else "Prescriber not yet told: tell them before dosing resumes.",
            MISSED_DOSES,
            r.pk,
            summary,
            *_latest_and_earlier(acknowledged.get((MISSED_DOSES, r.pk), []), summary),
        )
        for r, summary in ((r, run_summary(r)) for r in reports)
    ] + [
        SafetyEvent(
            r.test.taken_on,
            r.test.episode.patient_id,
            str(r.test.episode.patient),
            summary,
            "",
            UNEXPECTED_RESULT,
            r.pk,
            summary,
            *_latest_and_earlier(acknowledged.get((UNEXPECTED_RESULT, r.pk), []), summary),
        )
        for r, summary in ((r, result_summary(r)) for r in results)
    ]
    return sorted(events, key=lambda e: e.on, reverse=True)[:20]


_ACKNOWLEDGEMENTS = CompiledQuery(
    lambda reports, results: (
        SafetyEventAcknowledgement.objects.filter(
            Q(pharmacy_report__in=reports) | Q(drug_test_result__in=results)
        )
        .select_related("acknowledged_by")
        .order_by("acknowledged_at", "pk")
    )
)


def _acknowledgements(reports, results) -> dict[tuple[str, int], list[SafetyEventAcknowledgement]]:
    """The acknowledgements of these events, oldest first, in one read (none when there is no event)."""
    found: dict[tuple[str, int], list[SafetyEventAcknowledgement]] = {}
    if not reports and not results:
        return found
    for ack in _ACKNOWLEDGEMENTS.run(reports=[r.pk for r in reports], results=[r.pk for r in results]):
        key = (
            (MISSED_DOSES, ack.pharmacy_report_id)
            if ack.pharmacy_report_id
            else (UNEXPECTED_RESULT, ack.drug_test_result_id)
        )
        found.setdefault(key, []).append(ack)
    return found


def _latest_and_earlier(acks: list[SafetyEventAcknowledgement], summary: str) -> tuple:
    """The acknowledgement of the event as it now stands, if any; else the latest of it as it was before."""
    current = [ack for ack in acks if ack.what == summary]
    if current:
        return current[-1], None
    return None, (acks[-1] if acks else None)


def safety_event_for_user(user, kind: str, pk: int) -> PharmacyReport | DrugTestResult:
    """A safety event the user may see, by its kind and record: a pharmacy report owning a run of missed doses, or
    an unexpected result of a drug test that stands; a 404 for anything else, in scope or not (patients/access.py)."""
    if kind == MISSED_DOSES:
        reports = PharmacyReport.objects.filter(safety_run__gte=MISSED_DOSE_SAFETY_RUN)
        return record_for_user(user, reports.select_related("episode__patient"), pk)
    if kind == UNEXPECTED_RESULT:
        results = DrugTestResult.objects.filter(_unexpected(), test__entered_in_error_at__isnull=True)
        return record_for_user(
            user, results.select_related("test__episode__patient"), pk, episode_path="test__episode__"
        )
    raise Http404("No such kind of safety event.")


def run_summary(report: PharmacyReport) -> str:
    """'4 consecutive missed doses at Boots', with the run's days when some fall outside this report."""
    first = report.safety_run_from
    last = first + timedelta(days=report.safety_run - 1)
    across = first < report.period_start or last > report.period_end
    return f"{report.safety_run} consecutive missed doses at {report.pharmacy_name}" + (
        f" ({day_short(first)} to {day_short(last)}, across reports)" if across else ""
    )


def _unexpected() -> Q:
    return Q(result=TestResult.POSITIVE, expected_because_prescribed=False) | Q(
        result=TestResult.NEGATIVE, expected_because_prescribed=True
    )


def result_summary(result: DrugTestResult) -> str:
    if result.expected_because_prescribed:
        return f"{result.get_substance_display()} negative although prescribed: is it being taken?"
    return f"{result.get_substance_display()} positive"


# --- Drug tests and pharmacy reports, compiled (§2.9) -----------------------------------------------------------


def drug_test_compilation(
    tests: list[DrugTest], *, since: date | None = None, until: date | None = None
) -> dict:
    """Drug tests (with their results prefetched) compiled for a period: the share of tests negative for
    non-prescribed opioids (stopping problem use), the share of tests where prescribed medication was present
    (compliance), and the unexpected results (to set against self-report)."""
    tests = [
        t for t in tests if (since is None or t.taken_on >= since) and (until is None or t.taken_on <= until)
    ]
    opioid_tested = opioid_negative = prescribed_tested = prescribed_present = 0
    unexpected = []
    for test in tests:
        results = list(test.results.all())
        opioid = [r for r in results if r.substance in NON_PRESCRIBED_OPIOIDS]
        if opioid:
            opioid_tested += 1
            opioid_negative += not any(r.result == TestResult.POSITIVE for r in opioid)
        prescribed = [r for r in results if r.expected_because_prescribed]
        if prescribed:
            prescribed_tested += 1
            prescribed_present += all(r.result == TestResult.POSITIVE for r in prescribed)
        unexpected += [(test, r) for r in results if r.is_unexpected]
    return {
        "tests": len(tests),
        "opioid_tested": opioid_tested,
        "opioid_negative": opioid_negative,
        "opioid_negative_share": opioid_negative / opioid_tested if opioid_tested else None,
        "prescribed_tested": prescribed_tested,
        "prescribed_present": prescribed_present,
        "prescribed_present_share": prescribed_present / prescribed_tested if prescribed_tested else None,
        "unexpected": unexpected,
    }


@dataclass(frozen=True)
class MissedRun:
    """A run of consecutive missed days, read across the reports given (docs/design.md rule 4b), with the report
    that owns it (the one holding its third day when it is a safety event; see patients/missed_doses.py), every
    report it spans, and when the prescriber was told of it (None while not yet)."""

    first: date
    last: date
    length: int
    report: PharmacyReport
    reports: tuple[PharmacyReport, ...] = ()
    told_on: date | None = None

    @property
    def is_safety_event(self) -> bool:
        return self.length >= MISSED_DOSE_SAFETY_RUN

    @property
    def across_reports(self) -> bool:
        return len(self.reports) > 1

    @property
    def source(self) -> str:
        """Where it was reported: 'Boots', or 'Boots and Lloyds, over 2 reports'."""
        names = list(dict.fromkeys(r.pharmacy_name for r in self.reports or (self.report,)))
        named = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
        return f"{named}, over {len(self.reports)} reports" if self.across_reports else named


def missed_runs_across(reports: list[PharmacyReport]) -> list[MissedRun]:
    """Runs of consecutive missed days read across `reports` together (their missed doses prefetched; the
    caller leaves out reports entered in error, which break a run), earliest first, each with its owner and when
    the prescriber was told of it (patients/missed_doses.py)."""
    by_id = {r.pk: r for r in reports}
    told = {r.pk: r.prescriber_informed_on for r in reports}
    runs = missed_doses.missed_dose_runs((m.missed_on, r.pk) for r in reports for m in r.missed_doses.all())
    return [
        MissedRun(
            run.first,
            run.last,
            run.length,
            by_id[run.owner],
            tuple(by_id[pk] for pk in run.reports),
            missed_doses.run_told_on(run, told) if run.is_safety_event else None,
        )
        for run in runs
    ]


def missed_runs(report: PharmacyReport) -> list[MissedRun]:
    """Runs of consecutive missed days within one report alone (its missed doses prefetched)."""
    return missed_runs_across([report])


def episode_safety_events(episode_id: int) -> list[MissedRun]:
    """The safety events of an episode, read across all its reports (entries in error left out), earliest
    first: for the warning as a report is recorded and the prescriber-told page. Two queries."""
    reports = list(
        PharmacyReport.objects.filter(episode_id=episode_id).order_by("pk").prefetch_related("missed_doses")
    )
    return [run for run in missed_runs_across(reports) if run.is_safety_event]


def pharmacy_compilation(
    reports: list[PharmacyReport], *, since: date | None = None, until: date | None = None
) -> dict:
    """Pharmacy attendance for a period (§2.9): supervised doses taken of those due to be supervised (doses due
    less those collected to take home), doses missed, and the runs of missed doses; three or more in a row is
    a safety event (tolerance may be lost). Pass every report of the episode that stands: a run is read across
    them all (docs/design.md rule 4b), and counts for the period when it goes on into it, however long before it
    began, so a run is never cut short by where a report or the period begins."""
    reports = [r for r in reports if until is None or r.period_start <= until]
    runs = [run for run in missed_runs_across(reports) if since is None or run.last >= since]
    reports = [r for r in reports if since is None or r.period_end >= since]
    supervised_due = sum(r.doses_due - r.take_home_doses_collected for r in reports)
    taken = sum(r.supervised_doses_taken for r in reports)
    latest_first = sorted(runs, key=lambda run: run.first, reverse=True)
    return {
        "reports": len(reports),
        "supervised_due": supervised_due,
        "supervised_taken": taken,
        "supervised_share": taken / supervised_due if supervised_due else None,
        "missed": sum(len(r.missed_doses.all()) for r in reports),
        "longest_run": max((run.length for run in runs), default=0),
        "runs": [run for run in latest_first if run.length >= 2],
        "safety_events": [run for run in latest_first if run.is_safety_event],
        "concerns": [r for r in reports if r.concerns],
    }
