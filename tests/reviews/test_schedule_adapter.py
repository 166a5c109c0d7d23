"""The scheduling adapter: record events through the services and watch the stored dates move.

These run on whichever database DATABASE_URL names; CI runs them on PostgreSQL.
"""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients import services
from patients.models import Circumstance, ExitReason, TreatmentEpisode
from reviews.models import Finding, RecoveryCheckUp, ReviewFinding, ReviewStatus
from reviews.services.schedule import RECORD_ERROR_KIND, episode_schedule_refresh, episodes_schedule_recompute
from tests.support.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = date(2026, 2, 20)

TODAY = date(2026, 2, 20)


@pytest.fixture
def opened(patient, alice, sam):
    return services.episode_open(
        patient=patient, entry_date=date(2026, 1, 15), primary_drug="heroin", by=alice, lead_practitioner=sam
    )


def stored(episode):
    episode = TreatmentEpisode.objects.get(pk=episode.pk)
    return episode.next_review_kind, episode.next_review_target, episode.next_review_deadline


def test_opening_an_episode_stores_the_first_review_within_three_months(opened):
    assert stored(opened) == ("strategic_review", date(2026, 4, 15), date(2026, 7, 15))
    reasons = TreatmentEpisode.objects.get(pk=opened.pk).next_review_reasons
    assert any("§1.3" in reason for reason in reasons)


def test_three_consecutive_missed_doses_bring_the_review_within_28_days(opened, alice):
    services.pharmacy_report_record(
        episode=opened,
        pharmacy_name="Boots",
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 14),
        doses_due=14,
        supervised_doses_taken=11,
        take_home_doses_collected=0,
        missed_dates=[date(2026, 2, 5), date(2026, 2, 6), date(2026, 2, 7)],
        by=alice,
    )
    assert stored(opened) == ("strategic_review", date(2026, 3, 7), date(2026, 3, 7))
    assert any("App. C" in r for r in TreatmentEpisode.objects.get(pk=opened.pk).next_review_reasons)


def test_two_missed_doses_apart_do_not_move_the_review(opened, alice):
    report = services.pharmacy_report_record(
        episode=opened,
        pharmacy_name="Boots",
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 14),
        doses_due=14,
        supervised_doses_taken=11,
        take_home_doses_collected=0,
        missed_dates=[date(2026, 2, 5), date(2026, 2, 6), date(2026, 2, 9)],
        by=alice,
    )
    assert report.missed_dose_run == 2
    assert stored(opened) == ("strategic_review", date(2026, 4, 15), date(2026, 7, 15))


def test_a_complex_needs_circumstance_makes_the_first_deadline_three_months(opened, alice):
    circumstance = services.circumstance_record(
        episode=opened, code=Circumstance.COMPLEX_NEEDS, started_on=date(2026, 2, 1), by=alice
    )
    assert stored(opened) == ("strategic_review", date(2026, 4, 15), date(2026, 4, 15))
    services.circumstance_end(circumstance=circumstance, ended_on=date(2026, 2, 19), by=alice)
    assert stored(opened) == ("strategic_review", date(2026, 4, 15), date(2026, 7, 15))


def test_a_review_with_the_patient_resets_the_clock_but_one_awaiting_them_does_not(opened, sam):
    awaiting = StrategicReviewFactory(
        episode=opened, lead=sam, held_on=date(2026, 2, 10), status=ReviewStatus.AWAITING_PATIENT
    )
    episode_schedule_refresh(opened)
    assert stored(opened) == ("strategic_review", date(2026, 4, 15), date(2026, 7, 15))

    awaiting.status, awaiting.patient_involved_on, awaiting.completed_on = (
        ReviewStatus.COMPLETED,
        date(2026, 2, 18),
        date(2026, 2, 18),
    )
    awaiting.save()
    episode_schedule_refresh(opened)
    assert stored(opened) == ("strategic_review", date(2026, 8, 18), date(2026, 8, 18))


def test_the_first_completed_review_is_stored_for_the_timeliness_report(opened, sam):
    """§1.3: the first review with the patient, not one that still awaits them, and never moved by a later one."""
    StrategicReviewFactory(
        episode=opened, lead=sam, held_on=date(2026, 2, 1), status=ReviewStatus.AWAITING_PATIENT
    )
    episode_schedule_refresh(opened)
    assert TreatmentEpisode.objects.get(pk=opened.pk).first_review_completed_on is None
    for day in (date(2026, 2, 10), date(2026, 2, 18)):
        StrategicReviewFactory(
            episode=opened,
            lead=sam,
            held_on=day,
            status=ReviewStatus.COMPLETED,
            patient_took_part=True,
            completed_on=day,
        )
        episode_schedule_refresh(opened)
        assert TreatmentEpisode.objects.get(pk=opened.pk).first_review_completed_on == date(2026, 2, 10)
    TreatmentEpisode.objects.filter(pk=opened.pk).update(first_review_completed_on=None)
    assert episodes_schedule_recompute(today=TODAY).changed == 1  # the nightly safety net restores it
    assert TreatmentEpisode.objects.get(pk=opened.pk).first_review_completed_on == date(2026, 2, 10)


def test_a_deteriorating_adherence_finding_at_a_review_calls_an_earlier_re_review(opened, sam):
    review = StrategicReviewFactory(
        episode=opened,
        lead=sam,
        held_on=date(2026, 2, 10),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=date(2026, 2, 10),
    )
    ReviewFinding.objects.create(review=review, code=Finding.DETERIORATING_ADHERENCE)
    episode_schedule_refresh(opened)
    assert stored(opened) == ("strategic_review", date(2026, 3, 10), date(2026, 3, 10))


def test_exit_turns_strategic_reviews_into_recovery_check_ups(opened, alice):
    services.episode_exit(
        episode=opened,
        exit_date=date(2026, 2, 1),
        exit_reason=ExitReason.COMPLETED_DRUG_FREE,
        by=alice,
        exit_relapse_risk="low",
        exit_risk_of_death_discussed=True,
        exit_harm_reduction_discussed=True,
    )
    assert stored(opened) == ("recovery_check_up", date(2026, 2, 15), date(2026, 3, 1))
    RecoveryCheckUp.objects.create(
        episode=opened, sequence=1, held_on=date(2026, 2, 15), held_by=alice, outcome="stable"
    )
    episode_schedule_refresh(opened)
    assert stored(opened) == ("recovery_check_up", date(2026, 5, 1), date(2026, 5, 15))


def test_an_inconsistent_record_is_flagged_for_correction_not_dropped(opened, sam):
    StrategicReviewFactory(
        episode=opened,
        lead=sam,
        held_on=date(2026, 2, 10),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=date(2026, 2, 10),
    )
    TreatmentEpisode.objects.filter(pk=opened.pk).update(entry_date=date(2026, 2, 12))
    opened.refresh_from_db()
    episode_schedule_refresh(opened)
    kind, target, deadline = stored(opened)
    assert (kind, target, deadline) == (RECORD_ERROR_KIND, TODAY, TODAY)
    assert "needs correcting" in TreatmentEpisode.objects.get(pk=opened.pk).next_review_reasons[0]


def test_recompute_restores_stale_dates_and_reports_how_many_changed(team, alice, sam):
    episodes = [
        EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice), entry_date=date(2026, 1, d))
        for d in (5, 6, 7)
    ]
    first = episodes_schedule_recompute(today=TODAY)
    assert (first.episodes, first.changed, first.errors) == (3, 3, 0)
    assert stored(episodes[0]) == ("strategic_review", date(2026, 4, 5), date(2026, 7, 5))

    TreatmentEpisode.objects.filter(pk=episodes[1].pk).update(
        next_review_target=date(2030, 1, 1), next_review_deadline=date(2030, 1, 1)
    )
    second = episodes_schedule_recompute(today=TODAY)
    assert (second.episodes, second.changed) == (3, 1)
    assert stored(episodes[1]) == ("strategic_review", date(2026, 4, 6), date(2026, 7, 6))
    assert episodes_schedule_recompute(today=TODAY).changed == 0


def _recompute_queries(count, team, alice, sam):
    for i in range(count):
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=alice), entry_date=date(2025, 6, 1 + i % 28)
        )
        StrategicReviewFactory(
            episode=episode,
            lead=sam,
            held_on=date(2025, 9, 1),
            status=ReviewStatus.COMPLETED,
            patient_took_part=True,
            completed_on=date(2025, 9, 1),
        )
    TreatmentEpisode.objects.update(next_review_target=None, next_review_deadline=None, next_review_kind="")
    with CaptureQueriesContext(connection) as queries:
        result = episodes_schedule_recompute(today=TODAY)
    assert result.changed == TreatmentEpisode.objects.count()
    return len(queries)


@pytest.mark.postgres
def test_recompute_reads_with_the_same_number_of_queries_for_3_or_30_episodes(team, alice, sam):
    few = _recompute_queries(3, team, alice, sam)
    assert _recompute_queries(27, team, alice, sam) == few
