"""Ranges and date orders are enforced twice: in model validation, with messages for forms, and in database
constraints, so that nothing out of range can be stored by any path."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from patients.models import Appointment, Intervention, PharmacyReport, TopAssessment, TreatmentEpisode
from patients.validators import validate_nhs_number
from reviews.models import StrategicReview
from tests.factories import (
    EpisodeFactory,
    InterventionFactory,
    PharmacyReportFactory,
    StrategicReviewFactory,
    TopAssessmentFactory,
    aware,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "943-476-5919", "4010232137"])
def test_valid_nhs_numbers_pass(number):
    validate_nhs_number(number)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("9434765918", "check digit is wrong"),
        ("943476591", "has 10 digits"),
        ("94347659190", "has 10 digits"),
        ("94347659AB", "has 10 digits"),
        ("1000000010", "check digit is wrong"),  # the first nine give a check digit of 10: no valid number
    ],
)
def test_invalid_nhs_numbers_are_refused_with_a_reason(number, message):
    with pytest.raises(ValidationError, match=message):
        validate_nhs_number(number)


def assert_refused_twice(instance, field, model, **bad_values):
    """full_clean names the field; an UPDATE that bypasses validation is refused by the database."""
    for name, value in bad_values.items():
        setattr(instance, name, value)
    with pytest.raises(ValidationError) as error:
        instance.full_clean()
    assert field in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=instance.pk).update(**bad_values)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"opiates_week1": 8}, "opiates_week1"),
        ({"alcohol_week4": 8}, "alcohol_week4"),
        ({"injecting_days": 29}, "injecting_days"),
        ({"paid_work_days": 29}, "paid_work_days"),
        ({"psychological_health": 21}, "psychological_health"),
        ({"quality_of_life": 21}, "quality_of_life"),
        ({"alcohol_amount": 1000}, "alcohol_amount"),
    ],
)
def test_top_items_out_of_range_are_refused(values, field):
    assert_refused_twice(TopAssessmentFactory(), field, TopAssessment, **values)


def test_top_items_may_be_not_answered(episode):
    top = TopAssessmentFactory(episode=episode, psychological_health=None, opiates_week1=None)
    top.full_clean()
    assert top.days_used("opiates") is None


def test_an_exit_before_entry_is_refused():
    episode = EpisodeFactory()
    assert_refused_twice(
        episode, "exit_date", TreatmentEpisode, exit_date=date(2025, 1, 1), exit_reason="dropped_out"
    )


def test_a_pharmacy_period_that_ends_before_it_starts_is_refused():
    assert_refused_twice(PharmacyReportFactory(), "period_end", PharmacyReport, period_end=date(2026, 1, 20))


def test_more_doses_taken_than_due_is_refused():
    assert_refused_twice(
        PharmacyReportFactory(), "supervised_doses_taken", PharmacyReport, supervised_doses_taken=15
    )


def test_ost_without_a_medicine_is_refused():
    assert_refused_twice(InterventionFactory(), "medicine", Intervention, medicine="")


def test_an_attended_appointment_needs_its_ongoing_review_note(episode, alice):
    appointment = Appointment.objects.create(
        episode=episode, keyworker=alice, starts_at=aware(2026, 2, 2), status="missed"
    )
    assert_refused_twice(appointment, "review_note", Appointment, status="attended")


def test_an_agreed_next_date_on_or_before_the_review_is_refused():
    review = StrategicReviewFactory()
    assert_refused_twice(review, "agreed_next_date", StrategicReview, agreed_next_date=review.held_on)


def test_a_completed_review_must_have_involved_the_patient():
    review = StrategicReviewFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StrategicReview.objects.filter(pk=review.pk).update(status="completed", completed_on=review.held_on)


def test_only_one_open_episode_per_patient(episode):
    with pytest.raises(IntegrityError), transaction.atomic():
        EpisodeFactory(patient=episode.patient)
