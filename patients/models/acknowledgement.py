"""A safety event acknowledged on the caseload (docs/design.md, The keyworker's home): someone who can see the
patient says they have seen a run of missed doses or an unexpected drug test result. It is a note of who saw it and
when, nothing more: it changes no schedule, closes no reminder, does not tell the prescriber, and the event stays on
the patient's record and on the caseload (quiet once acknowledged). It holds what the event said when acknowledged,
so an event that has grown since (a longer run) stands out again:
docs/clinical-safety/hazard-log.md, H-041: An acknowledged safety event is taken as dealt with."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from patients.models.evidence import DrugTestResult, PharmacyReport
from patients.models.record import TreatmentEpisode
from recovery_reviews import formatting


class SafetyEventAcknowledgement(models.Model):
    """One acknowledgement of one safety event: a run of missed doses (by the pharmacy report that owns it) or an
    unexpected drug test result. Written once, never changed."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.CASCADE, related_name="+")
    pharmacy_report = models.ForeignKey(
        PharmacyReport, on_delete=models.CASCADE, null=True, blank=True, related_name="acknowledgements"
    )
    drug_test_result = models.ForeignKey(
        DrugTestResult, on_delete=models.CASCADE, null=True, blank=True, related_name="acknowledgements"
    )
    # What the event said when it was acknowledged ("4 consecutive missed doses at Boots"): a run that has grown
    # since says something else, and is shown as new again.
    what = models.CharField(max_length=300)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.CheckConstraint(
                name="acknowledges_one_safety_event",
                condition=Q(pharmacy_report__isnull=False, drug_test_result__isnull=True)
                | Q(pharmacy_report__isnull=True, drug_test_result__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["pharmacy_report", "what"],
                condition=Q(pharmacy_report__isnull=False),
                name="missed_dose_run_acknowledged_once",
            ),
            models.UniqueConstraint(
                fields=["drug_test_result"],
                condition=Q(drug_test_result__isnull=False),
                name="drug_test_result_acknowledged_once",
            ),
        ]

    def __str__(self):
        return f"Acknowledged by {self.acknowledged_by} at {formatting.day_and_time(self.acknowledged_at)}"

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}
