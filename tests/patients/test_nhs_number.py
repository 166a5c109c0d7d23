"""NHS numbers are optional, and when given are ten digits whose last is the modulus-11 check digit of the
first nine (weights 10 down to 2; 11 becomes 0; 10 means no valid number has those first nine digits)."""

import pytest
from django.core.exceptions import ValidationError
from django.forms import modelform_factory

from patients.models import Patient
from patients.validators import nhs_number_check_digit, normalise_nhs_number, validate_nhs_number
from tests.support.factories import PatientFactory


@pytest.mark.parametrize(
    "number",
    [
        "9434765919",  # the NHS's own example
        "943 476 5919",  # as printed on letters
        "943-476-5919",
        "4010232137",
        "4000000020",  # the sum is a multiple of 11: check digit 11 becomes 0
    ],
)
def test_a_valid_nhs_number_passes(number):
    validate_nhs_number(number)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("9434765918", "check digit is wrong"),
        ("9434765910", "check digit is wrong"),
        ("4010232138", "check digit is wrong"),
        ("4000000021", "check digit is wrong"),
        ("943476591", "has 10 digits"),
        ("94347659190", "has 10 digits"),
        ("", "has 10 digits"),
        ("94347659AB", "has 10 digits"),
        ("943.476.5919", "has 10 digits"),
    ],
)
def test_an_invalid_nhs_number_is_refused_with_its_reason(number, reason):
    with pytest.raises(ValidationError, match=reason):
        validate_nhs_number(number)


@pytest.mark.parametrize("last_digit", "0123456789")
def test_no_number_is_valid_when_the_check_digit_would_be_10(last_digit):
    assert nhs_number_check_digit("943476503") is None
    with pytest.raises(ValidationError, match="check digit is wrong"):
        validate_nhs_number(f"943476503{last_digit}")


@pytest.mark.parametrize(
    ("first_nine", "check_digit"),
    [("943476591", 9), ("401023213", 7), ("400000002", 0), ("943476503", None)],
)
def test_the_check_digit_is_computed_with_weights_10_down_to_2(first_nine, check_digit):
    assert nhs_number_check_digit(first_nine) == check_digit


@pytest.mark.parametrize("typed", ["943 476 5919", "943-476-5919", " 9434765919 "])
def test_spaces_and_hyphens_people_type_are_removed(typed):
    assert normalise_nhs_number(typed) == "9434765919"


@pytest.mark.django_db
def test_a_patient_without_an_nhs_number_is_valid(team, alice):
    patient = PatientFactory.build(team=team, keyworker=alice, nhs_number="")
    patient.full_clean()


@pytest.mark.django_db
def test_a_patient_with_a_wrong_check_digit_is_refused_on_the_nhs_number_field(team, alice):
    patient = PatientFactory.build(team=team, keyworker=alice, nhs_number="9434765918")
    with pytest.raises(ValidationError) as error:
        patient.full_clean()
    assert error.value.message_dict["nhs_number"] == [
        "This NHS number's check digit is wrong: please check it against the patient's records."
    ]


@pytest.mark.django_db
def test_a_patient_typed_with_spaces_is_stored_as_ten_digits(team, alice):
    patient = PatientFactory.build(team=team, keyworker=alice, nhs_number="943 476 5919")
    patient.full_clean()
    assert patient.nhs_number == "9434765919"


@pytest.mark.django_db
def test_a_form_takes_the_number_as_printed_and_stores_ten_digits(team, alice):
    """Patients are registered through a model form (the admin): its input must let people type the spaces."""
    form_class = modelform_factory(
        Patient, fields=["given_name", "family_name", "date_of_birth", "nhs_number"]
    )
    form = form_class(
        {
            "given_name": "Pat",
            "family_name": "Example",
            "date_of_birth": "1985-06-01",
            "nhs_number": "943-476-5919",
        },
        instance=Patient(team=team, keyworker=alice),
    )
    assert 'maxlength="16"' in str(form["nhs_number"])
    assert form.is_valid(), form.errors
    assert form.save().nhs_number == "9434765919"


@pytest.mark.django_db
def test_eleven_digits_get_one_message_that_says_how_many_there_should_be(team, alice):
    patient = PatientFactory.build(team=team, keyworker=alice, nhs_number="943 476 59190")
    with pytest.raises(ValidationError) as error:
        patient.full_clean()
    assert error.value.message_dict["nhs_number"] == [
        "An NHS number has 10 digits (spaces are fine, as in 943 476 5919)."
    ]
