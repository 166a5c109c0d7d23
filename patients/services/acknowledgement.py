"""Acknowledging a safety event on the caseload (docs/design.md, The keyworker's home). The one write it makes is
the acknowledgement itself (who, when, and what the event said then), logged like every record (patients/audit.py):
no schedule, reminder, prescriber's telling or record of the patient changes, so that an acknowledged event is
never taken as dealt with:
docs/clinical-safety/hazard-log.md, H-041: An acknowledged safety event is taken as dealt with."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from patients.models import DrugTestResult, PharmacyReport, SafetyEventAcknowledgement
from patients.selectors.evidence import result_summary, run_summary
from recovery_reviews.formatting import day_and_time


def safety_event_acknowledge(*, event: PharmacyReport | DrugTestResult, by) -> SafetyEventAcknowledgement:
    """Record that `by` has seen this safety event (the caller has found it through the access door,
    patients.selectors.safety_event_for_user). Once for the event as it stands: a second time is refused with who
    acknowledged it and when; a run that has grown since its acknowledgement is acknowledged again."""
    if isinstance(event, PharmacyReport):
        fields = {"pharmacy_report": event, "episode_id": event.episode_id, "what": run_summary(event)}
        existing = SafetyEventAcknowledgement.objects.filter(pharmacy_report=event, what=fields["what"])
    else:
        fields = {
            "drug_test_result": event,
            "episode_id": event.test.episode_id,
            "what": result_summary(event),
        }
        existing = SafetyEventAcknowledgement.objects.filter(drug_test_result=event)
    earlier = existing.select_related("acknowledged_by").first()
    if earlier is not None:
        raise ValidationError(_already(earlier))
    try:
        with transaction.atomic():
            return SafetyEventAcknowledgement.objects.create(acknowledged_by=by, **fields)
    except IntegrityError:  # acknowledged by someone else in the meantime
        raise ValidationError(_already(existing.select_related("acknowledged_by").first())) from None


def _already(ack: SafetyEventAcknowledgement | None) -> str:
    if ack is None:
        return "Already acknowledged."
    return f"Already acknowledged by {ack.acknowledged_by} on {day_and_time(ack.acknowledged_at)}."
