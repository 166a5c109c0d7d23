"""The patient's record: header (episode, interventions and doses, dispensing, next review with reasons and
status), TOP chart since entry per core domain, drug tests and pharmacy attendance compiled, care-plan goals,
the timeline; a fixed number of queries however long the record."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from careplans.models import GoalProgress
from patients import services
from patients.models import CareTeamChange, RecordCorrection, TreatmentEpisode
from patients.models import TestResult as Result
from reviews.models import ReviewStatus
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import (
    AppointmentFactory,
    CarePlanFactory,
    CircumstanceFactory,
    DispensingArrangementFactory,
    DrugTestFactory,
    DrugTestResultFactory,
    EpisodeFactory,
    GoalActionFactory,
    GoalFactory,
    InterventionFactory,
    PharmacyReportFactory,
    StrategicReviewFactory,
    TopAssessmentFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 5, 1)


def page_of(client, record_of, **params) -> str:
    return client.get(reverse("patients:detail", args=[record_of.patient_id]), params).content.decode()


def section(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"')[1].split("</section>")[0]


def test_the_header_shows_treatment_doses_dispensing_and_the_next_review_with_its_reasons(
    client, alice, episode
):
    InterventionFactory(episode=episode, daily_dose_mg=60)
    DispensingArrangementFactory(episode=episode)
    DispensingArrangementFactory(
        episode=episode,
        effective_from=date(2026, 4, 1),
        take_home_doses_per_week=2,
        change_reason="introduce_take_home",
        reason_note="Stable for three months.",
    )
    CircumstanceFactory(episode=episode, code="complex_needs")
    episode_schedule_refresh(episode)
    client.force_login(alice)
    page = page_of(client, episode)
    assert "Methadone (oral) 60 mg daily" in section(page, "interventions")
    dispensing = page.split('data-testid="dispensing"')[1].split("</div>")[0]
    assert "2 take-home dose(s) a week" in dispensing and "Stable for three months." in dispensing
    next_review = section(page, "next-review")
    assert 'data-testid="next-review-target">15 Apr 2026' in next_review
    assert 'data-testid="next-review-deadline">15 Apr 2026' in next_review  # complex needs (§1.6)
    assert "Earlier review: complex or co-morbid needs recorded (§1.6)" in next_review
    assert "status-overdue" in next_review
    assert "Complex, co-morbid or problematic condition" in section(page, "treatment")


def test_a_review_held_without_the_patient_is_shown_as_awaiting_them(client, alice, sam, episode):
    StrategicReviewFactory(episode=episode, lead=sam, status=ReviewStatus.AWAITING_PATIENT)
    client.force_login(alice)
    next_review = section(page_of(client, episode), "next-review")
    assert 'data-testid="awaiting-badge"' in next_review
    assert "only once they have been properly involved (§2.4)" in next_review


def test_the_top_chart_has_a_panel_per_core_domain_and_keeps_not_answered_apart_from_zero(
    client, alice, episode
):
    TopAssessmentFactory(
        episode=episode,
        opiates_week1=7, opiates_week2=7, opiates_week3=7, opiates_week4=7,
        psychological_health=6, shoplifting_days=10, paid_work_days=0,
    )  # fmt: skip
    TopAssessmentFactory(
        episode=episode,
        assessed_on=date(2026, 4, 15),
        stage="review",
        opiates_week1=0, opiates_week2=0, opiates_week3=0, opiates_week4=0,
        psychological_health=None, shoplifting_days=0, paid_work_days=4, eviction_risk=True,
    )  # fmt: skip
    client.force_login(alice)
    page = page_of(client, episode)
    data = json.loads(
        re.search(r'<script id="top-chart-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert data["labels"] == ["15 Jan 2026", "15 Apr 2026"]
    panels = {p["domain"]: p for p in data["panels"]}
    assert list(panels) == ["drug_alcohol_use", "health", "offending", "social_functioning"]
    series = {s["label"]: s["data"] for p in data["panels"] for s in p["series"]}
    assert series["Heroin / illicit opioids: days used (of 28)"] == [28, 0]
    assert series["Psychological health (0-20)"] == [6, None]  # not answered is a gap, not a zero
    assert series["Days of paid work (of 28)"] == [0, 4]
    assert panels["health"]["max"] == 20 and panels["offending"]["max"] == 28
    for domain in panels:
        assert f'id="top-chart-{domain}"' in page
    assert 'At risk of eviction: <strong class="text-danger">yes</strong>' in page
    assert "vendor/chart-4.6.1.umd.min.js" in page


def test_drug_tests_are_compiled_over_the_last_three_months(client, alice, episode):
    def test_on(day, **results):
        test = DrugTestFactory(episode=episode, taken_on=day)
        for substance, (result, prescribed) in results.items():
            DrugTestResultFactory(
                test=test, substance=substance, result=result, expected_because_prescribed=prescribed
            )

    test_on(date(2026, 1, 20), heroin=(Result.POSITIVE, False))  # older than three months: left out
    test_on(date(2026, 2, 10), heroin=(Result.POSITIVE, False), methadone=(Result.POSITIVE, True))
    test_on(date(2026, 3, 10), heroin=(Result.NEGATIVE, False), methadone=(Result.POSITIVE, True))
    test_on(date(2026, 4, 10), fentanyl=(Result.NEGATIVE, False), methadone=(Result.NEGATIVE, True))
    test_on(date(2026, 4, 20), cannabis=(Result.POSITIVE, False))  # not tested for opioids
    client.force_login(alice)
    tests = section(page_of(client, episode), "drug-tests")
    assert 'data-testid="opioid-negative"><strong>67%</strong> <span class="text-muted">(2/3)' in tests
    assert 'data-testid="prescribed-present"><strong>67%</strong> <span class="text-muted">(2/3)' in tests
    assert "text-bg-danger" in tests  # the unexpected results are marked


def test_pharmacy_attendance_shows_the_share_of_supervised_doses_and_runs_of_missed_doses(
    client, alice, episode
):
    services.pharmacy_report_record(
        episode=episode,
        pharmacy_name="Boots",
        period_start=date(2026, 4, 1),
        period_end=date(2026, 4, 14),
        doses_due=14,
        supervised_doses_taken=7,
        take_home_doses_collected=2,
        missed_dates=[
            date(2026, 4, 3),
            date(2026, 4, 4),
            date(2026, 4, 5),
            date(2026, 4, 10),
            date(2026, 4, 11),
        ],
        by=alice,
    )
    client.force_login(alice)
    pharmacy = section(page_of(client, episode), "pharmacy-summary")
    assert 'data-testid="supervised-share"><strong>58%</strong> <span class="text-muted">(7/12)' in pharmacy
    assert 'data-testid="longest-run">3<' in pharmacy
    assert "3 consecutive missed doses, 3 Apr 2026 to 5 Apr 2026 (Boots)" in pharmacy
    assert "2 missed in a row, 10 Apr 2026 to 11 Apr 2026" in pharmacy


def test_care_plan_goals_show_with_their_progress(client, alice, episode):
    plan = CarePlanFactory(episode=episode)
    GoalFactory(care_plan=plan, progress=GoalProgress.ACHIEVED, description="Stop using on top")
    GoalFactory(care_plan=plan, domain="social_functioning", description="Find a flat", self_managed=True)
    client.force_login(alice)
    goals = section(page_of(client, episode), "care-plan")
    assert "1 of 2 goals achieved · 1 self-managed" in goals
    assert "progress-achieved" in goals and "Find a flat" in goals


def test_the_timeline_brings_together_appointments_tests_reports_and_reviews(client, alice, sam, episode):
    AppointmentFactory(
        episode=episode, starts_at=datetime(2026, 4, 2, 10, tzinfo=UTC), review_note="Talked about work."
    )
    TopAssessmentFactory(episode=episode, assessed_on=date(2026, 3, 3), stage="review")
    DrugTestResultFactory(test=DrugTestFactory(episode=episode, taken_on=date(2026, 3, 4)))
    PharmacyReportFactory(episode=episode)
    StrategicReviewFactory(episode=episode, lead=sam, held_on=date(2026, 4, 10))
    client.force_login(alice)
    timeline = section(page_of(client, episode), "timeline")
    titles = re.findall(
        r"<(?:span|a)(?: href=\"[^\"]*\")?>([^<]+)</(?:span|a)>\s*(?:<a class=\"small[^>]*>[^<]*</a>\s*)?(?:<div|</li>)",
        timeline,
    )
    assert titles == [
        f"Strategic review led by {sam}: in progress",
        f"Appointment with {alice}: attended",
        "Oral fluid (saliva) drug test",
        "TOP: review",
        "Pharmacy report, High Street Pharmacy",
        "Entered treatment",
    ]
    assert "Talked about work." in timeline


def test_an_earlier_episode_can_be_shown(client, alice, patient):
    old = EpisodeFactory(
        patient=patient, entry_date=date(2024, 1, 1), exit_date=date(2024, 9, 1), exit_reason="dropped_out"
    )
    EpisodeFactory(patient=patient, entry_date=date(2026, 1, 15))
    client.force_login(alice)
    assert "Entered 15 Jan 2026" in page_of(client, old)
    assert "Entered 1 Jan 2024; ended 1 Sep 2024" in page_of(client, old, episode=old.pk)


def test_a_patient_outside_scope_is_a_404(client, olga, episode):
    client.force_login(olga)
    assert client.get(reverse("patients:detail", args=[episode.patient_id])).status_code == 404


def add_evidence(episode, count, start):
    """`count` of each kind of record, days apart."""
    plan = getattr(episode, "care_plan", None) or CarePlanFactory(episode=episode)
    for i in range(count):
        day = start + timedelta(days=i)
        TopAssessmentFactory(episode=episode, assessed_on=day, stage="review", psychological_health=i % 20)
        test = DrugTestFactory(episode=episode, taken_on=day)
        DrugTestResultFactory(test=test, substance="heroin", result=Result.NEGATIVE)
        DrugTestResultFactory(
            test=test, substance="methadone", result=Result.POSITIVE, expected_because_prescribed=True
        )
        services.pharmacy_report_record(
            episode=episode,
            pharmacy_name="Boots",
            period_start=day,
            period_end=day + timedelta(days=6),
            doses_due=7,
            supervised_doses_taken=5,
            take_home_doses_collected=0,
            missed_dates=[day + timedelta(days=1), day + timedelta(days=2)],
            by=episode.patient.keyworker,
        )
        AppointmentFactory(episode=episode, starts_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC))
        GoalActionFactory(goal=GoalFactory(care_plan=plan))
        InterventionFactory(
            episode=episode, kind="psychosocial", medicine="", daily_dose_mg=None, started_on=day
        )
        DispensingArrangementFactory(episode=episode, effective_from=day)
        CircumstanceFactory(episode=episode, started_on=day, ended_on=day)
        StrategicReviewFactory(episode=episode, held_on=day)
        patient = episode.patient
        CareTeamChange.objects.create(
            patient=patient,
            changed_on=day,
            from_team=patient.team,
            to_team=patient.team,
            from_keyworker=patient.keyworker,
            to_keyworker=patient.keyworker,
            from_lead=episode.lead_practitioner,
            to_lead=episode.lead_practitioner,
            reason=f"Handover {i}",
            recorded_by=patient.keyworker,
        )
        RecordCorrection.objects.create(
            patient=patient,
            episode=episode,
            field="co_morbidities",
            label="Co-morbidities",
            before="",
            after=f"Asthma {i}",
            reason="Left out at registration.",
            corrected_by=patient.keyworker,
        )


def test_patient_page_queries_do_not_grow_with_the_record(client, alice, episode, django_assert_num_queries):
    """Session, user, patient, the access log's insert, episodes; one read per kind of record (two where rows
    hold rows: test results, missed doses, review findings, goal actions), care-team changes with their people
    joined, corrections, the items owed and the check-ups after an element (rule 7b: 23 became 25); the
    navigation's inbox count (the user's team comes with the user)."""
    client.force_login(alice)
    add_evidence(episode, 2, date(2026, 2, 1))
    with django_assert_num_queries(24):
        page = page_of(client, episode)
    assert page.count('class="timeline-entry') > 10
    add_evidence(episode, 8, date(2026, 3, 1))
    with django_assert_num_queries(24):
        page_of(client, episode, timeline="all")
    assert TreatmentEpisode.objects.get(pk=episode.pk).pharmacy_reports.count() == 10
