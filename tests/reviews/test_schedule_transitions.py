"""The adapter reads the riskiest moments from the record (docs/design.md, rules 3b, 3c, 4b, 7 amended, 7c):
changes of treatment, a review that found no benefit, runs of missed doses across pharmacy reports, exits after
which nothing is owed, and a check-up that found early signs of relapse. Each is recorded through the services
and the stored next review is read back."""

from datetime import date
from decimal import Decimal

import pytest

from patients import services
from patients.models import ExitReason, InterventionKind, Medicine, TreatmentEpisode
from reviews.models import CheckUpOutcome, Finding, OwedItem, ReviewFinding, ReviewStatus
from reviews.services import strategic
from reviews.services.schedule import episode_schedule_refresh
from reviews.services.transitions import ElementRow, treatment_transitions
from tests.support.factories import StrategicReviewFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 3, 20)
ENTRY = date(2026, 1, 15)
FIRST = ("strategic_review", date(2026, 4, 15), date(2026, 7, 15))  # rule 1: entry + 3 and + 6 months


@pytest.fixture
def opened(patient, alice, sam):
    return services.episode_open(
        patient=patient, entry_date=ENTRY, primary_drug="heroin", by=alice, lead_practitioner=sam
    )


@pytest.fixture
def on_methadone(opened, sam):
    return services.intervention_record(  # a prescribing decision, for a senior practitioner (§2.5)
        episode=opened,
        kind=InterventionKind.OST,
        medicine=Medicine.METHADONE,
        daily_dose_mg=Decimal("60"),
        started_on=ENTRY,
        by=sam,
    )


def stored(episode):
    episode = TreatmentEpisode.objects.get(pk=episode.pk)
    return episode.next_review_kind, episode.next_review_target, episode.next_review_deadline


def reasons(episode) -> str:
    return " ".join(TreatmentEpisode.objects.get(pk=episode.pk).next_review_reasons)


def change_dose(on_methadone, sam, *, on: date, medicine=Medicine.METHADONE, mg: str):
    services.intervention_end(intervention=on_methadone, ended_on=on, by=sam)
    return services.intervention_record(
        episode=on_methadone.episode,
        kind=InterventionKind.OST,
        medicine=medicine,
        daily_dose_mg=Decimal(mg),
        started_on=on,
        by=sam,
    )


def report(episode, alice, start, end, missed):
    return services.pharmacy_report_record(
        episode=episode,
        pharmacy_name="Boots",
        period_start=start,
        period_end=end,
        doses_due=(end - start).days + 1,
        supervised_doses_taken=(end - start).days + 1 - len(missed),
        take_home_doses_collected=0,
        missed_dates=missed,
        by=alice,
    )


def test_starting_ost_on_entry_is_the_entry_not_a_transition(on_methadone):
    assert stored(on_methadone.episode) == FIRST


def test_cutting_methadone_from_60_to_20_mg_brings_the_review_within_3_months_of_the_cut(on_methadone, sam):
    # 3 Feb + 3 months = 3 May: the first review's deadline comes forward from 15 Jul to 3 May (rule 3b).
    change_dose(on_methadone, sam, on=date(2026, 2, 3), mg="20")
    assert stored(on_methadone.episode) == ("strategic_review", date(2026, 4, 15), date(2026, 5, 3))
    assert "3 Feb 2026" in reasons(on_methadone.episode)
    assert "§1.6" in reasons(on_methadone.episode)


def test_raising_the_dose_is_not_a_transition(on_methadone, sam):
    change_dose(on_methadone, sam, on=date(2026, 2, 3), mg="80")
    assert stored(on_methadone.episode) == FIRST


def test_a_change_of_medicine_is_a_transition(on_methadone, sam):
    change_dose(on_methadone, sam, on=date(2026, 3, 1), medicine=Medicine.BUPRENORPHINE, mg="16")
    assert stored(on_methadone.episode) == ("strategic_review", date(2026, 4, 15), date(2026, 6, 1))


def test_ending_ost_mid_episode_brings_the_review_within_3_months_beside_a_check_up_in_14_days(
    on_methadone, sam
):
    """Rules 3b and 7b: both items are stored, each with its dates and reasons; the episode's columns hold the
    first (the check-up), and neither hides the other."""
    services.intervention_end(intervention=on_methadone, ended_on=date(2026, 2, 10), by=sam)
    items = list(
        OwedItem.objects.filter(episode=on_methadone.episode)
        .order_by("target")
        .values_list("kind", "target", "deadline", "element_end")
    )
    assert items == [
        ("element_check_up", date(2026, 2, 24), date(2026, 3, 10), date(2026, 2, 10)),
        ("strategic_review", date(2026, 4, 15), date(2026, 5, 10), None),
    ]
    assert stored(on_methadone.episode) == ("element_check_up", date(2026, 2, 24), date(2026, 3, 10))
    check_up, review = OwedItem.objects.filter(episode=on_methadone.episode).order_by("target")
    assert "ended on 10 Feb 2026" in " ".join(check_up.reasons) and "(§1.7)" in " ".join(check_up.reasons)
    assert "(§1.6" in " ".join(review.reasons) or "App. C 2" in " ".join(review.reasons)
    assert check_up.team_id == on_methadone.episode.patient.team_id
    assert check_up.keyworker_id == on_methadone.episode.patient.keyworker_id


def test_a_transition_after_the_last_review_pulls_the_next_review(on_methadone, alice, sam):
    StrategicReviewFactory(
        episode=on_methadone.episode,
        lead=sam,
        held_on=date(2026, 2, 1),
        status=ReviewStatus.COMPLETED,
        completed_on=date(2026, 2, 1),
        patient_took_part=True,
    )
    episode_schedule_refresh(on_methadone.episode)
    assert stored(on_methadone.episode) == ("strategic_review", date(2026, 8, 1), date(2026, 8, 1))
    services.intervention_record(
        episode=on_methadone.episode, kind=InterventionKind.DETOX, started_on=date(2026, 3, 2), by=alice
    )
    assert stored(on_methadone.episode) == ("strategic_review", date(2026, 6, 2), date(2026, 6, 2))


def test_no_appearance_of_benefit_at_the_last_review_brings_the_next_within_3_months(opened, sam):
    review = StrategicReviewFactory(
        episode=opened,
        lead=sam,
        held_on=date(2026, 2, 10),
        status=ReviewStatus.COMPLETED,
        completed_on=date(2026, 2, 10),
        patient_took_part=True,
    )
    episode_schedule_refresh(opened)
    assert stored(opened) == ("strategic_review", date(2026, 8, 10), date(2026, 8, 10))
    ReviewFinding.objects.create(review=review, code=Finding.NO_BENEFIT)
    episode_schedule_refresh(opened)
    assert stored(opened) == ("strategic_review", date(2026, 5, 10), date(2026, 5, 10))
    assert "§1.6" in reasons(opened)


def test_a_finding_of_an_earlier_review_no_longer_counts_after_a_later_one(opened, sam):
    first = StrategicReviewFactory(
        episode=opened,
        lead=sam,
        held_on=date(2026, 1, 20),
        status=ReviewStatus.COMPLETED,
        completed_on=date(2026, 1, 20),
        patient_took_part=True,
    )
    ReviewFinding.objects.create(review=first, code=Finding.LESS_BENEFIT_THAN_EXPECTED)
    StrategicReviewFactory(
        episode=opened,
        lead=sam,
        held_on=date(2026, 3, 1),
        status=ReviewStatus.COMPLETED,
        completed_on=date(2026, 3, 1),
        patient_took_part=True,
    )
    episode_schedule_refresh(opened)
    assert stored(opened) == ("strategic_review", date(2026, 9, 1), date(2026, 9, 1))


def test_a_run_of_missed_doses_over_two_reports_brings_the_review_within_28_days(opened, alice):
    # 13 and 14 Feb in one report, 15 and 16 Feb in the next: four in a row, the third on 15 Feb (rule 4b).
    first = report(opened, alice, date(2026, 2, 1), date(2026, 2, 14), [date(2026, 2, 13), date(2026, 2, 14)])
    second = report(
        opened, alice, date(2026, 2, 15), date(2026, 2, 28), [date(2026, 2, 15), date(2026, 2, 16)]
    )
    assert first.missed_dose_run == second.missed_dose_run == 2
    assert stored(opened) == ("strategic_review", date(2026, 3, 15), date(2026, 3, 15))
    assert "App. C" in reasons(opened)


def test_a_report_entered_in_error_breaks_the_run(opened, alice):
    first = report(opened, alice, date(2026, 2, 1), date(2026, 2, 14), [date(2026, 2, 13), date(2026, 2, 14)])
    report(opened, alice, date(2026, 2, 15), date(2026, 2, 28), [date(2026, 2, 15), date(2026, 2, 16)])
    services.record_mark_entered_in_error(record=first, reason="Another patient's report", by=alice)
    assert stored(opened) == FIRST


def test_missed_days_with_a_gap_across_reports_are_no_run(opened, alice):
    report(opened, alice, date(2026, 2, 1), date(2026, 2, 14), [date(2026, 2, 13), date(2026, 2, 14)])
    report(opened, alice, date(2026, 2, 15), date(2026, 2, 28), [date(2026, 2, 16), date(2026, 2, 17)])
    assert stored(opened) == FIRST


@pytest.mark.parametrize("reason", [ExitReason.DIED, ExitReason.TRANSFERRED, ExitReason.TRANSFERRED_CUSTODY])
def test_after_death_or_transfer_no_check_ups_are_owed(opened, alice, reason):
    services.episode_exit(
        episode=opened, exit_date=date(2026, 3, 1), exit_reason=reason, by=alice, exit_relapse_risk="low"
    )
    assert stored(opened) == ("", None, None)


def test_after_dropping_out_the_check_ups_are_still_owed(opened, alice):
    services.episode_exit(
        episode=opened,
        exit_date=date(2026, 3, 1),
        exit_reason=ExitReason.DROPPED_OUT,
        by=alice,
        exit_relapse_risk="high",
        exit_risk_of_death_discussed=True,
        exit_harm_reduction_discussed=True,
    )
    assert stored(opened) == ("recovery_check_up", date(2026, 3, 15), date(2026, 3, 29))


def test_a_check_up_that_finds_early_signs_of_relapse_brings_the_next_within_14_days(opened, alice):
    services.episode_exit(
        episode=opened,
        exit_date=date(2026, 2, 1),
        exit_reason=ExitReason.COMPLETED_DRUG_FREE,
        by=alice,
        exit_relapse_risk="low",
        exit_risk_of_death_discussed=True,
        exit_harm_reduction_discussed=True,
    )
    strategic.check_up_record(
        episode=opened, held_on=date(2026, 2, 15), outcome=CheckUpOutcome.STABLE, sequence=1, by=alice
    )
    assert stored(opened) == ("recovery_check_up", date(2026, 5, 1), date(2026, 5, 15))  # exit + 3 months
    strategic.check_up_record(
        episode=opened, held_on=date(2026, 3, 10), outcome=CheckUpOutcome.RELAPSE_RISK, sequence=2, by=alice
    )
    assert stored(opened) == ("recovery_check_up", date(2026, 3, 24), date(2026, 3, 24))
    assert "relapse" in reasons(opened)


def row(kind, start, end=None, medicine="", mg=None):
    return ElementRow(kind, medicine, Decimal(mg) if mg else None, start, end)


OST, DETOX = InterventionKind.OST, InterventionKind.DETOX
M, B = Medicine.METHADONE, Medicine.BUPRENORPHINE
D = date


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], ()),
        ([row(OST, D(2026, 1, 15), None, M, "60")], ()),  # started on entry: the entry itself
        ([row(OST, D(2026, 1, 20), None, M, "60")], (D(2026, 1, 20),)),  # started after entry
        (  # a cut the same day: one course, one transition
            [row(OST, D(2026, 1, 15), D(2026, 2, 3), M, "60"), row(OST, D(2026, 2, 3), None, M, "20")],
            (D(2026, 2, 3),),
        ),
        (  # a cut the next day is still one course
            [row(OST, D(2026, 1, 15), D(2026, 2, 2), M, "60"), row(OST, D(2026, 2, 3), None, M, "20")],
            (D(2026, 2, 3),),
        ),
        (  # an increase is not a transition
            [row(OST, D(2026, 1, 15), D(2026, 2, 3), M, "60"), row(OST, D(2026, 2, 3), None, M, "80")],
            (),
        ),
        (  # a change of medicine at the same dose is
            [row(OST, D(2026, 1, 15), D(2026, 2, 3), M, "16"), row(OST, D(2026, 2, 3), None, B, "16")],
            (D(2026, 2, 3),),
        ),
        (  # a gap of more than a day: the course ended and a new one started
            [row(OST, D(2026, 1, 15), D(2026, 2, 3), M, "60"), row(OST, D(2026, 2, 10), None, M, "80")],
            (D(2026, 2, 3), D(2026, 2, 10)),
        ),
        (  # the course ends after a cut: both are transitions
            [
                row(OST, D(2026, 1, 15), D(2026, 2, 3), M, "60"),
                row(OST, D(2026, 2, 3), D(2026, 3, 1), M, "20"),
            ],
            (D(2026, 2, 3), D(2026, 3, 1)),
        ),
        ([row(DETOX, D(2026, 2, 1), D(2026, 2, 21))], (D(2026, 2, 1), D(2026, 2, 21))),
    ],
)
def test_treatment_transitions_read_courses_of_ost_and_other_elements(rows, expected):
    episode = TreatmentEpisode(entry_date=D(2026, 1, 15), exit_date=None)
    assert treatment_transitions(rows, episode) == expected


def test_transitions_after_the_exit_are_not_the_episodes():
    episode = TreatmentEpisode(entry_date=D(2026, 1, 15), exit_date=D(2026, 3, 1))
    assert treatment_transitions([row(DETOX, D(2026, 2, 1), D(2026, 3, 5))], episode) == (D(2026, 2, 1),)
