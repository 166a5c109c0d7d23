"""Reads of the clinical record for pages (CONVENTIONS.md 3). Every queryset starts from the access door."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, QuerySet

from patients.models import (
    NON_PRESCRIBED_OPIOIDS,
    DrugTestResult,
    PharmacyReport,
    TestResult,
    TreatmentEpisode,
)
from recovery_reviews.access import episodes_for_user, scoped
from reviews.status import awaiting_patient_expression, review_status_expression, status_filter


def caseload_for_user(
    user, *, today: date, status: str = "", team_id: int | None = None, search: str = "", mine: bool = False
) -> QuerySet[TreatmentEpisode]:
    """Episodes in the user's scope with something due, soonest target first, each annotated with its status."""
    episodes = (
        episodes_for_user(user)
        .filter(next_review_target__isnull=False)
        .annotate(
            review_status=review_status_expression(today), awaiting_patient=awaiting_patient_expression()
        )
        .select_related("patient", "patient__keyworker", "patient__team")
        .order_by("next_review_target", "patient__family_name", "pk")
    )
    if status:
        episodes = episodes.filter(status_filter(status, today))
    if team_id:
        episodes = episodes.filter(patient__team_id=team_id)
    if mine:
        episodes = episodes.filter(patient__keyworker=user)
    if search:
        digits = "".join(ch for ch in search if ch.isdigit())
        query = Q(patient__family_name__icontains=search) | Q(patient__given_name__icontains=search)
        if len(digits) >= 3:
            query |= Q(patient__nhs_number__startswith=digits)
        episodes = episodes.filter(query)
    return episodes


@dataclass(frozen=True)
class SafetyEvent:
    on: date
    patient_id: int
    patient: str
    what: str


def recent_safety_events(user, *, today: date, days: int = 28) -> list[SafetyEvent]:
    """Runs of three or more missed doses and unexpected drug test results in the last four weeks."""
    since = today - timedelta(days=days)
    reports = (
        scoped(PharmacyReport.objects.filter(missed_dose_run__gte=3, period_end__gte=since), user)
        .select_related("episode__patient")
        .order_by("-period_end")[:20]
    )
    results = (
        scoped(DrugTestResult.objects.filter(test__taken_on__gte=since), user, episode_path="test__episode__")
        .filter(
            Q(result=TestResult.POSITIVE, expected_because_prescribed=False)
            | Q(result=TestResult.NEGATIVE, expected_because_prescribed=True)
        )
        .select_related("test__episode__patient")
        .order_by("-test__taken_on")[:20]
    )
    events = [
        SafetyEvent(
            r.period_end,
            r.episode.patient_id,
            str(r.episode.patient),
            f"{r.missed_dose_run} consecutive missed doses at {r.pharmacy_name}: tell the prescriber before dosing resumes",
        )
        for r in reports
    ] + [
        SafetyEvent(
            r.test.taken_on,
            r.test.episode.patient_id,
            str(r.test.episode.patient),
            f"{r.get_substance_display()} {r.get_result_display().lower()}"
            + (" although prescribed" if r.expected_because_prescribed else ""),
        )
        for r in results
    ]
    return sorted(events, key=lambda e: e.on, reverse=True)[:20]


def drug_test_summary(episode: TreatmentEpisode, *, today: date) -> dict:
    """Drug tests compiled (§2.9): the share of tests negative for non-prescribed opioids over the last three
    months, and whether prescribed medication was present."""
    since = today - timedelta(days=91)
    results = list(
        DrugTestResult.objects.filter(test__episode=episode, test__taken_on__gte=since).values_list(
            "test_id", "substance", "result", "expected_because_prescribed"
        )
    )
    opioid_tests = {t for t, s, _r, _e in results if s in NON_PRESCRIBED_OPIOIDS}
    positive = {t for t, s, r, _e in results if s in NON_PRESCRIBED_OPIOIDS and r == TestResult.POSITIVE}
    prescribed = [r for _t, _s, r, expected in results if expected]
    return {
        "tests": len({t for t, *_ in results}),
        "opioid_negative_share": (len(opioid_tests - positive) / len(opioid_tests)) if opioid_tests else None,
        "prescribed_present_share": (prescribed.count(TestResult.POSITIVE) / len(prescribed))
        if prescribed
        else None,
    }


def pharmacy_summary(episode: TreatmentEpisode, *, today: date) -> dict:
    """Pharmacy attendance (§2.9) over the last three months: supervised doses taken of those due, and runs."""
    reports = list(episode.pharmacy_reports.filter(period_end__gte=today - timedelta(days=91)))
    due = sum(r.doses_due - r.take_home_doses_collected for r in reports)
    taken = sum(r.supervised_doses_taken for r in reports)
    return {
        "reports": len(reports),
        "supervised_share": (taken / due) if due else None,
        "longest_run": max((r.missed_dose_run for r in reports), default=0),
        "safety_events": [r for r in reports if r.is_safety_event],
    }
