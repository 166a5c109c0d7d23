"""Every write of the clinical record (docs/conventions.md 3), by topic: registration.py (patients, episodes opened,
care team), treatment.py, evidence.py, corrections.py. Each validates the whole record with full_clean, so bad
input gets the same clear messages whatever the caller, runs in one transaction, and recomputes the episode's next
review (schedule.py) where the change is an input of the scheduling policy (docs/design.md, Review scheduling policy)."""

from patients.services.corrections import EPISODE_DETAILS, PATIENT_DETAILS, details_correct
from patients.services.evidence import (
    drug_test_record,
    pharmacy_report_record,
    prescriber_informed_record,
    record_mark_entered_in_error,
    top_assessment_record,
)
from patients.services.registration import (
    NHS_NUMBER_TAKEN,
    caseload_handover,
    episode_open,
    patient_create,
    patient_move,
    patient_register,
)
from patients.services.treatment import (
    appointment_outcome_record,
    appointment_record,
    circumstance_end,
    circumstance_record,
    dispensing_change_record,
    episode_exit,
    intervention_end,
    intervention_record,
)

__all__ = [
    "EPISODE_DETAILS",
    "NHS_NUMBER_TAKEN",
    "PATIENT_DETAILS",
    "appointment_outcome_record",
    "appointment_record",
    "caseload_handover",
    "circumstance_end",
    "circumstance_record",
    "details_correct",
    "dispensing_change_record",
    "drug_test_record",
    "episode_exit",
    "episode_open",
    "intervention_end",
    "intervention_record",
    "patient_create",
    "patient_move",
    "patient_register",
    "pharmacy_report_record",
    "prescriber_informed_record",
    "record_mark_entered_in_error",
    "top_assessment_record",
]
