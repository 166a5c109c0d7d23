"""Validators for identifiers that come from outside the service."""

from django.core.exceptions import ValidationError


def nhs_number_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit of an NHS number's first nine digits, or None when no valid one exists.

    Weights 10 down to 2; check digit = 11 - (sum mod 11); 11 becomes 0 and 10 means the number is invalid.
    """
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(value: str) -> str:
    """Strip the spaces and hyphens people type ('943 476 5919') and return the ten digits."""
    return "".join(ch for ch in value if ch not in " -")


def validate_nhs_number(value: str) -> None:
    digits = normalise_nhs_number(value)
    if len(digits) != 10 or not digits.isdigit():
        raise ValidationError(
            "An NHS number has 10 digits (spaces are fine, as in 943 476 5919).", code="nhs_number_length"
        )
    if nhs_number_check_digit(digits[:9]) != int(digits[9]):
        raise ValidationError(
            "This NHS number's check digit is wrong: please check it against the patient's records.",
            code="nhs_number_check_digit",
        )
