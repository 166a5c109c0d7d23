"""What the NDTMS return needs and the clinical record does not hold (docs/design.md, Interoperability): each
team's NDTMS agency code, and each patient's consent to share their record with NDTMS.

Consent is kept here, not on the patient, as a history: every decision is a new row, the latest one stands, and
none is ever changed or deleted. A patient with no decision recorded is read as not consenting, so the return
carries only the identifying keys the format allows without consent (interop/ndtms/fieldmaps/dataset_p.py,
WITHOUT_CONSENT)."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

AGENCY_CODE = RegexValidator(
    r"^[A-Z][A-Z0-9]{2,9}$",
    "An NDTMS agency code is a capital letter and then 2 to 9 capital letters or digits, such as N0852.",
)


class NdtmsAgency(models.Model):
    """The NDTMS agency code a team's return is made under (the AGNCY column and the file's name)."""

    team = models.OneToOneField(
        "recovery_reviews.Team", on_delete=models.PROTECT, related_name="ndtms_agency"
    )
    agency_code = models.CharField("NDTMS agency code", max_length=10, validators=[AGENCY_CODE])

    class Meta:
        app_label = "interop"
        verbose_name = "NDTMS agency code"
        constraints = [
            models.CheckConstraint(
                name="ndtms_agency_code_form", condition=models.Q(agency_code__regex=r"^[A-Z][A-Z0-9]{2,9}$")
            )
        ]

    def __str__(self):
        return f"{self.team}: {self.agency_code}"


class NdtmsConsent(models.Model):
    """One decision of the patient's about sharing their record with NDTMS (the CONSENT column), as recorded."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="ndtms_consents")
    consented = models.BooleanField("consents to share with NDTMS")
    decided_on = models.DateField("date the patient decided")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "interop"
        verbose_name = "NDTMS consent decision"
        ordering = ["patient", "-decided_on", "-recorded_at"]
        indexes = [models.Index(fields=["patient", "decided_on", "recorded_at"], name="ndtms_consent_latest")]

    def __str__(self):
        said = "consents" if self.consented else "does not consent"
        return f"{self.patient} {said} to NDTMS sharing (from {self.decided_on:%d/%m/%Y})"

    def get_additional_data(self):
        return {"patient_id": self.patient_id}
