"""Writes of the NDTMS return's own records (docs/conventions.md 3): a patient's consent decision."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interop.ndtms.models import NdtmsConsent
from recovery_reviews.formatting import day


@transaction.atomic
def ndtms_consent_record(*, patient, consented: bool, decided_on: date, by) -> NdtmsConsent:
    """A new decision; the earlier ones stay as its history (never changed). The latest decided stands for every
    return made from now on, whatever month it is for."""
    if decided_on > timezone.localdate():
        raise ValidationError({"decided_on": "This date is in the future: give the day the patient decided."})
    if decided_on < patient.date_of_birth:
        raise ValidationError(
            {
                "decided_on": f"This is before the patient's date of birth, {day(patient.date_of_birth)}: check it."
            }
        )
    return NdtmsConsent.objects.create(
        patient=patient, consented=consented, decided_on=decided_on, recorded_by=by
    )


def ndtms_consent_standing(patient) -> NdtmsConsent | None:
    return patient.ndtms_consents.order_by("-decided_on", "-recorded_at", "-pk").first()
