"""Writes of the clinical record: bad input is refused with a message that says what is wrong, and nothing is
half-written."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from patients import services
from patients.models import DrugTest, MissedDose, PharmacyReport, TopAssessment

pytestmark = pytest.mark.django_db


def report(episode, by, **overrides):
    fields = {
        "episode": episode,
        "pharmacy_name": "Boots",
        "period_start": date(2026, 2, 1),
        "period_end": date(2026, 2, 14),
        "doses_due": 14,
        "supervised_doses_taken": 12,
        "take_home_doses_collected": 0,
        "missed_dates": [],
        "by": by,
    }
    return services.pharmacy_report_record(**{**fields, **overrides})


def test_a_missed_dose_outside_the_period_is_refused_and_nothing_is_saved(episode, alice):
    with pytest.raises(ValidationError) as error:
        report(episode, alice, missed_dates=[date(2026, 2, 3), date(2026, 3, 1)])
    assert ": 1 Mar 2026 " in str(error.value.message_dict["missed_dates"])
    assert not PharmacyReport.objects.exists()
    assert not MissedDose.objects.exists()


def test_more_doses_accounted_for_than_due_is_refused(episode, alice):
    with pytest.raises(ValidationError) as error:
        report(episode, alice, supervised_doses_taken=12, missed_dates=[date(2026, 2, d) for d in (3, 4, 5)])
    assert "more than the 14 doses due" in str(error.value.message_dict["missed_dates"])


def test_the_longest_run_of_missed_doses_is_stored_with_the_report(episode, alice):
    saved = report(
        episode,
        alice,
        supervised_doses_taken=10,
        missed_dates=[date(2026, 2, 3), date(2026, 2, 5), date(2026, 2, 6), date(2026, 2, 7)],
    )
    assert saved.missed_dose_run == 3
    assert saved.is_safety_event
    assert saved.missed_doses.count() == 4


def test_a_drug_test_with_the_same_substance_twice_is_refused(episode, alice):
    results = [
        {"substance": "heroin", "result": "negative", "expected_because_prescribed": False},
        {"substance": "heroin", "result": "positive", "expected_because_prescribed": False},
    ]
    with pytest.raises(ValidationError, match="only one result"):
        services.drug_test_record(
            episode=episode, taken_on=date(2026, 2, 2), method="urine", results=results, by=alice
        )
    assert not DrugTest.objects.exists()


def test_a_drug_test_with_a_bad_result_saves_neither_test_nor_results(episode, alice):
    results = [
        {"substance": "heroin", "result": "negative", "expected_because_prescribed": False},
        {"substance": "methadone", "result": "maybe", "expected_because_prescribed": True},
    ]
    with pytest.raises(ValidationError):
        services.drug_test_record(
            episode=episode, taken_on=date(2026, 2, 2), method="urine", results=results, by=alice
        )
    assert not DrugTest.objects.exists()


def test_a_top_item_out_of_range_is_refused_with_the_field_named(episode, alice):
    with pytest.raises(ValidationError) as error:
        services.top_assessment_record(
            episode=episode,
            assessed_on=date(2026, 2, 2),
            stage="start",
            answers={"opiates_week1": 8},
            by=alice,
        )
    assert "opiates_week1" in error.value.message_dict
    assert not TopAssessment.objects.exists()


def test_a_top_item_left_out_is_not_answered_rather_than_zero(episode, alice):
    saved = services.top_assessment_record(
        episode=episode,
        assessed_on=date(2026, 2, 2),
        stage="start",
        answers={"psychological_health": 0},
        by=alice,
    )
    assert saved.psychological_health == 0
    assert saved.physical_health is None
    assert saved.days_used("opiates") is None


def test_an_ost_intervention_with_an_implausible_dose_is_refused(episode, sam):
    with pytest.raises(ValidationError) as error:
        services.intervention_record(
            episode=episode,
            kind="ost",
            medicine="buprenorphine",
            daily_dose_mg=Decimal("80"),
            started_on=date(2026, 1, 15),
            by=sam,
        )
    assert "not plausible" in str(error.value.message_dict["daily_dose_mg"])


def test_a_second_open_episode_is_refused(episode, patient, alice):
    with pytest.raises(ValidationError, match="already has an open treatment episode"):
        services.episode_open(patient=patient, entry_date=date(2026, 2, 1), primary_drug="heroin", by=alice)


def test_ending_an_episode_twice_is_refused_and_keeps_the_first_exit(episode, alice):
    services.episode_exit(
        episode=episode,
        exit_date=date(2026, 3, 1),
        exit_reason="dropped_out",
        by=alice,
        exit_relapse_risk="high",
        exit_risk_of_death_discussed=True,
        exit_harm_reduction_discussed=True,
    )
    with pytest.raises(ValidationError, match="already ended on 1 Mar 2026"):
        services.episode_exit(episode=episode, exit_date=date(2026, 4, 1), exit_reason="other", by=alice)
    episode.refresh_from_db()
    assert (episode.exit_date, episode.exit_reason) == (date(2026, 3, 1), "dropped_out")


def test_an_intervention_ends_once_and_keeps_its_first_end(episode, sam):
    from tests.support.factories import InterventionFactory

    intervention = InterventionFactory(episode=episode)
    services.intervention_end(intervention=intervention, ended_on=date(2026, 3, 1), by=sam)
    with pytest.raises(ValidationError, match="already ended on 1 Mar 2026"):
        services.intervention_end(intervention=intervention, ended_on=date(2026, 4, 1), by=sam)
    intervention.refresh_from_db()
    assert intervention.ended_on == date(2026, 3, 1)
