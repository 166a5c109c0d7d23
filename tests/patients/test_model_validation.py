"""Ranges and date orders are enforced twice (docs/conventions.md 9): model validation gives a clear message for
forms, and a database constraint refuses the same value whatever path tries to store it (a queryset update, a
save without full_clean). The same tests run on SQLite and on PostgreSQL, whichever DATABASE_URL names.

Each rule is one row: the record, the bad values, the field the message is attached to and a fragment of it.
Rules kept only in validation (they need the clock, another table, or a judgement of plausibility) are listed
separately, so that it is plain which rules the database holds.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from patients.models import TOP_DAYS_28, TOP_RATINGS, TOP_SUBSTANCES, TOP_WEEKS, TopAssessment
from recovery_reviews.models import Role
from tests.support.factories import (
    AppointmentFactory,
    CircumstanceFactory,
    DispensingArrangementFactory,
    DrugTestResultFactory,
    EpisodeFactory,
    GoalActionFactory,
    GoalFactory,
    InterventionFactory,
    PatientFactory,
    PharmacyReportFactory,
    RecoveryCheckUpFactory,
    StrategicReviewFactory,
    TopAssessmentFactory,
    UnmetNeedFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MAX_7 = "less than or equal to 7."
MAX_28 = "less than or equal to 28."
MAX_20 = "less than or equal to 20."
MIN_0 = "greater than or equal to 0."
BLANK = "This field cannot be blank."


@dataclass(frozen=True)
class Rule:
    id: str
    make: Any  # a factory: builds a valid, saved record
    bad: dict
    field: str  # where full_clean attaches the message ("__all__" for a constraint's own message)
    message: str  # a fragment of that message


def _top_rules():
    weeks = [f"{prefix}_week{week}" for prefix, _label, _unit in TOP_SUBSTANCES for week in TOP_WEEKS]
    amounts = [f"{prefix}_amount" for prefix, _label, _unit in TOP_SUBSTANCES]
    # The real form: seven substances, four weeks each, five day counts and three ratings.
    assert (len(weeks), len(amounts), len(TOP_DAYS_28), len(TOP_RATINGS)) == (28, 7, 5, 3)
    rules = [Rule(f"top-{name}-8", TopAssessmentFactory, {name: 8}, name, MAX_7) for name in weeks]
    rules += [Rule(f"top-{name}-29", TopAssessmentFactory, {name: 29}, name, MAX_28) for name in TOP_DAYS_28]
    rules += [Rule(f"top-{name}-21", TopAssessmentFactory, {name: 21}, name, MAX_20) for name in TOP_RATINGS]
    rules += [
        Rule(
            f"top-{name}-1000",
            TopAssessmentFactory,
            {name: Decimal("1000")},
            name,
            "less than or equal to 999",
        )
        for name in amounts
    ]
    rules += [
        Rule("top-negative-rating", TopAssessmentFactory, {"physical_health": -1}, "physical_health", MIN_0),
        Rule("top-negative-days", TopAssessmentFactory, {"education_days": -1}, "education_days", MIN_0),
        Rule("top-negative-week", TopAssessmentFactory, {"crack_week2": -1}, "crack_week2", MIN_0),
        Rule(
            "top-negative-amount",
            TopAssessmentFactory,
            {"cannabis_amount": Decimal("-1")},
            NON_FIELD_ERRORS,
            "top_cannabis_amount_range",
        ),
    ]
    return rules


def _ost(**kwargs):
    return InterventionFactory(**kwargs)


def _psychosocial(**kwargs):
    return InterventionFactory(kind="psychosocial", medicine="", daily_dose_mg=None, **kwargs)


def _completed_review(**kwargs):
    return StrategicReviewFactory(
        status="completed", patient_took_part=True, completed_on=date(2026, 4, 10), **kwargs
    )


def _keyworker(**kwargs):
    return UserFactory(role=Role.KEYWORKER, **kwargs)


DATABASE_RULES = [
    *_top_rules(),
    # Treatment episodes: exit after entry, with a reason, and the stored schedule in order.
    Rule(
        "episode-exit-before-entry",
        EpisodeFactory,
        {"exit_date": date(2025, 12, 31), "exit_reason": "dropped_out"},
        "exit_date",
        "cannot be before the entry date",
    ),
    Rule(
        "episode-exit-without-reason",
        EpisodeFactory,
        {"exit_date": date(2026, 6, 1)},
        "exit_reason",
        "Give the reason",
    ),
    Rule(
        "episode-reason-without-exit",
        EpisodeFactory,
        {"exit_reason": "died"},
        "exit_date",
        "Give the exit date",
    ),
    Rule(
        "episode-target-after-deadline",
        EpisodeFactory,
        {"next_review_target": date(2026, 7, 1), "next_review_deadline": date(2026, 6, 1)},
        NON_FIELD_ERRORS,
        "episode_target_not_after_deadline",
    ),
    # Circumstances (§1.6) and interventions run forwards in time.
    Rule(
        "circumstance-ends-before-start",
        CircumstanceFactory,
        {"ended_on": date(2026, 1, 1)},
        "ended_on",
        "cannot end before it started",
    ),
    Rule(
        "intervention-ends-before-start",
        _ost,
        {"ended_on": date(2026, 1, 1)},
        "ended_on",
        "cannot end before it started",
    ),
    # Opioid substitution treatment names its medicine and a plausible daily dose; nothing else has one.
    Rule("ost-without-medicine", _ost, {"medicine": ""}, "medicine", "needs its medicine"),
    Rule(
        "ost-methadone-250mg",
        _ost,
        {"daily_dose_mg": Decimal("250")},
        "daily_dose_mg",
        "less than or equal to 200",
    ),
    Rule(
        "ost-zero-dose",
        _ost,
        {"daily_dose_mg": Decimal("0")},
        "daily_dose_mg",
        "greater than or equal to 0.01",
    ),
    Rule(
        "psychosocial-with-medicine",
        _psychosocial,
        {"medicine": "methadone"},
        "medicine",
        "Only opioid substitution treatment has a medicine",
    ),
    Rule(
        "psychosocial-with-dose",
        _psychosocial,
        {"daily_dose_mg": Decimal("30")},
        "daily_dose_mg",
        "Only opioid substitution treatment has a daily dose",
    ),
    # Dispensing arrangements: at most seven take-home doses a week, and every change gives its reason.
    Rule(
        "dispensing-8-take-home-doses",
        DispensingArrangementFactory,
        {"take_home_doses_per_week": 8},
        "take_home_doses_per_week",
        MAX_7,
    ),
    Rule(
        "dispensing-change-without-reason",
        DispensingArrangementFactory,
        {"reason_note": ""},
        "reason_note",
        BLANK,
    ),
    # An attended appointment carries its ongoing-review note (§1.1).
    Rule(
        "appointment-attended-without-note",
        AppointmentFactory,
        {"review_note": ""},
        "review_note",
        "needs its ongoing-review note",
    ),
    # Pharmacy reports: the period runs forwards, and no more doses were taken than were due.
    Rule(
        "pharmacy-period-ends-before-start",
        PharmacyReportFactory,
        {"period_end": date(2026, 1, 31)},
        "period_end",
        "cannot end before it starts",
    ),
    Rule(
        "pharmacy-more-taken-than-due",
        PharmacyReportFactory,
        {"supervised_doses_taken": 15},
        "supervised_doses_taken",
        "cannot be more than the doses due",
    ),
    Rule(
        "pharmacy-taken-and-collected-more-than-due",
        PharmacyReportFactory,
        {"take_home_doses_collected": 2},
        "supervised_doses_taken",
        "cannot be more than the doses due",
    ),
    Rule("pharmacy-negative-doses-due", PharmacyReportFactory, {"doses_due": -1}, "doses_due", MIN_0),
    # Strategic reviews: dates after the review, completion only with the patient involved (§2.4).
    Rule(
        "review-agreed-next-date-on-the-day",
        StrategicReviewFactory,
        {"agreed_next_date": date(2026, 4, 10)},
        "agreed_next_date",
        "must be after this review",
    ),
    Rule(
        "review-patient-involved-before-held",
        StrategicReviewFactory,
        {"patient_involved_on": date(2026, 4, 9)},
        "patient_involved_on",
        "on or after the review was held",
    ),
    Rule(
        "review-completed-without-patient",
        _completed_review,
        {"patient_took_part": False},
        NON_FIELD_ERRORS,
        "completed_review_involved_patient",
    ),
    Rule(
        "review-completed-without-date",
        _completed_review,
        {"completed_on": None},
        NON_FIELD_ERRORS,
        "completed_review_has_completion_date",
    ),
    Rule(
        "review-completed-before-held",
        _completed_review,
        {"completed_on": date(2026, 4, 9)},
        NON_FIELD_ERRORS,
        "review_completed_not_before_held",
    ),
    # Recovery check-ups (§1.7): four slots, 14 days, 3, 6 and 12 months after exit.
    Rule(
        "check-up-slot-0",
        RecoveryCheckUpFactory,
        {"sequence": 0},
        NON_FIELD_ERRORS,
        "check_up_sequence_1_to_4",
    ),
    Rule(
        "check-up-slot-5",
        RecoveryCheckUpFactory,
        {"sequence": 5},
        NON_FIELD_ERRORS,
        "check_up_sequence_1_to_4",
    ),
    Rule("unmet-need-undescribed", UnmetNeedFactory, {"description": ""}, "description", BLANK),
    # Care plans: goals and actions say what they are; an action owned by "someone else" names them.
    Rule("goal-undescribed", GoalFactory, {"description": ""}, "description", BLANK),
    Rule("action-undescribed", GoalActionFactory, {"description": ""}, "description", BLANK),
    Rule(
        "action-other-owner-unnamed",
        GoalActionFactory,
        {"owner": "other", "owner_name": ""},
        "owner_name",
        "Name who owns this action",
    ),
    # Patients: NHS number ten digits or blank; a date of birth from this world.
    Rule(
        "patient-nhs-number-nine-digits",
        PatientFactory,
        {"nhs_number": "943476591"},
        "nhs_number",
        "has 10 digits",
    ),
    Rule(
        "patient-born-before-1900",
        PatientFactory,
        {"date_of_birth": date(1899, 12, 31)},
        NON_FIELD_ERRORS,
        "date_of_birth_after_1900",
    ),
    # Staff: keyworkers and senior practitioners belong to a team.
    Rule("keyworker-without-team", _keyworker, {"team": None}, "team", "must belong to a team"),
]

VALIDATION_ONLY_RULES = [
    # The clock: a date of birth in the future.
    Rule(
        "patient-born-in-the-future",
        PatientFactory,
        {"date_of_birth": date(2999, 1, 1)},
        "date_of_birth",
        "cannot be in the future",
    ),
    # Plausibility: an extra zero typed into a buprenorphine dose (a methadone dose of 40 mg is ordinary).
    Rule(
        "ost-buprenorphine-40mg",
        _ost,
        {"medicine": "buprenorphine", "daily_dose_mg": Decimal("40")},
        "daily_dose_mg",
        "buprenorphine dose above 32 mg is not plausible",
    ),
    Rule(
        "appointment-attended-with-blank-note",
        AppointmentFactory,
        {"review_note": "   "},
        "review_note",
        "needs its ongoing-review note",
    ),
    Rule(
        "pharmacy-period-over-three-months",
        PharmacyReportFactory,
        {"period_end": date(2026, 6, 1)},
        "period_end",
        "at most three months",
    ),
    Rule(
        "top-other-use-without-a-name",
        TopAssessmentFactory,
        {"other_week1": 3, "other_substance_name": ""},
        "other_substance_name",
        "Name the other problem substance",
    ),
    Rule(
        "episode-unknown-substance",
        EpisodeFactory,
        {"other_substances": ["crack", "moon dust"]},
        "other_substances",
        "Unknown substance codes: moon dust",
    ),
    # Another table: a review before the episode began.
    Rule(
        "review-held-before-entry",
        StrategicReviewFactory,
        {"held_on": date(2026, 1, 1)},
        "held_on",
        "cannot be held before the episode's entry date",
    ),
]


def _apply(instance, values):
    for name, value in values.items():
        setattr(instance, name, value)


def _assert_full_clean_refuses(instance, rule):
    with pytest.raises(ValidationError) as error:
        instance.full_clean()
    messages = error.value.message_dict.get(rule.field, [])
    assert any(rule.message in message for message in messages), error.value.message_dict


@pytest.mark.parametrize("rule", DATABASE_RULES + VALIDATION_ONLY_RULES, ids=lambda r: r.id)
def test_full_clean_refuses_a_broken_rule_with_a_message_on_the_right_field(rule):
    instance = rule.make()
    instance.full_clean()  # valid as made
    _apply(instance, rule.bad)
    _assert_full_clean_refuses(instance, rule)


@pytest.mark.parametrize("rule", DATABASE_RULES, ids=lambda r: r.id)
def test_the_database_refuses_a_queryset_update_that_skips_validation(rule):
    instance = rule.make()
    model = type(instance)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=instance.pk).update(**rule.bad)
    instance.refresh_from_db()
    assert all(
        getattr(instance, name) != value for name, value in rule.bad.items() if value not in ("", None)
    )


@pytest.mark.parametrize("rule", DATABASE_RULES, ids=lambda r: r.id)
def test_the_database_refuses_a_save_that_skips_full_clean(rule):
    instance = rule.make()
    _apply(instance, rule.bad)
    with pytest.raises(IntegrityError), transaction.atomic():
        instance.save()


def test_the_database_refuses_ost_without_a_daily_dose():
    intervention = InterventionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(intervention).objects.filter(pk=intervention.pk).update(daily_dose_mg=None)


def test_full_clean_asks_for_the_daily_dose_of_ost():
    intervention = InterventionFactory()
    intervention.daily_dose_mg = None
    with pytest.raises(ValidationError) as error:
        intervention.full_clean()
    assert error.value.message_dict["daily_dose_mg"] == ["Give the daily dose in mg."]


# --- "Not answered" is not zero, and the edges of every range are allowed -------------------------------------


def test_a_top_with_every_item_not_answered_is_valid():
    top = TopAssessmentFactory()
    top.full_clean()
    assert top.psychological_health is None
    assert top.days_used("opiates") is None


def test_a_top_with_one_week_not_answered_has_no_total_for_that_substance():
    top = TopAssessmentFactory(opiates_week4=7, opiates_week3=7, opiates_week2=None, opiates_week1=0)
    top.full_clean()
    assert top.days_used("opiates") is None


def test_a_top_at_the_top_of_every_range_is_valid_and_totals_28_days():
    weeks = {f"{prefix}_week{w}": 7 for prefix, _l, _u in TOP_SUBSTANCES for w in TOP_WEEKS}
    top = TopAssessmentFactory(
        other_substance_name="Pregabalin",
        alcohol_amount=Decimal("999"),
        **weeks,
        **dict.fromkeys(TOP_DAYS_28, 28),
        **dict.fromkeys(TOP_RATINGS, 20),
    )
    top.full_clean()
    top.refresh_from_db()
    assert top.days_used("opiates") == 28
    assert top.quality_of_life == 20


def test_a_top_of_all_zeros_is_valid_and_different_from_not_answered():
    top = TopAssessmentFactory(
        **{f"cannabis_week{w}": 0 for w in TOP_WEEKS}, **dict.fromkeys(TOP_RATINGS, 0), shared_needle=False
    )
    top.full_clean()
    top.refresh_from_db()
    assert top.days_used("cannabis") == 0
    assert top.days_used("crack") is None
    assert top.shared_needle is False
    assert top.shared_paraphernalia is None


def test_a_top_item_stored_out_of_range_by_create_is_refused():
    episode = EpisodeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        TopAssessment.objects.create(
            episode=episode,
            assessed_on=episode.entry_date,
            stage="start",
            recorded_by=episode.patient.keyworker,
            quality_of_life=21,
        )


def test_a_pharmacy_report_whose_doses_add_up_exactly_is_valid():
    report = PharmacyReportFactory(doses_due=14, supervised_doses_taken=7, take_home_doses_collected=7)
    report.full_clean()


# --- Rules across rows: unique constraints ----------------------------------------------------------------------


def _assert_unique_refused_twice(duplicate, message):
    """full_clean refuses the unsaved duplicate; saving it anyway is refused by the database."""
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert any(message in m for messages in error.value.message_dict.values() for m in messages)
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_patient_has_at_most_one_open_episode(episode):
    second = EpisodeFactory.build(patient=episode.patient, entry_date=date(2026, 3, 1))
    _assert_unique_refused_twice(second, "This patient already has an open treatment episode: end it before")


def test_a_patient_may_have_a_closed_episode_and_an_open_one(patient):
    EpisodeFactory(
        patient=patient, entry_date=date(2024, 1, 1), exit_date=date(2024, 6, 1), exit_reason="died"
    )
    EpisodeFactory(patient=patient, entry_date=date(2026, 1, 15))
    assert patient.episodes.count() == 2


def test_two_patients_cannot_share_an_nhs_number(team, alice):
    PatientFactory(team=team, keyworker=alice, nhs_number="9434765919")
    twin = PatientFactory.build(team=team, keyworker=alice, nhs_number="9434765919")
    _assert_unique_refused_twice(twin, "A patient with this NHS number is already registered.")


def test_many_patients_may_have_no_nhs_number(team, alice):
    PatientFactory(team=team, keyworker=alice, nhs_number="")
    PatientFactory(team=team, keyworker=alice, nhs_number="")
    assert team.patients.filter(nhs_number="").count() == 2


def test_a_drug_test_has_one_result_per_substance():
    result = DrugTestResultFactory()
    duplicate = DrugTestResultFactory.build(test=result.test, substance=result.substance, result="positive")
    _assert_unique_refused_twice(duplicate, "already exists")


def test_a_recovery_check_up_slot_is_held_once():
    check_up = RecoveryCheckUpFactory()
    duplicate = RecoveryCheckUpFactory.build(episode=check_up.episode, sequence=1, held_on=date(2026, 9, 20))
    _assert_unique_refused_twice(duplicate, "already exists")
