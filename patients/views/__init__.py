"""The keyworker's pages of the clinical record: a form for each thing recorded, by topic (registration.py,
treatment.py, evidence.py; common.py holds what they share). Every view asks the access door (404 outside scope),
logs each view of a record, and hands a form's cleaned data to a service; a service's validation errors come back
beside the fields they are about. The caseload, the patient's record and leaving treatment compose several apps and
live in the top layer (recovery_reviews/pages/)."""

from patients.views.evidence import (
    drug_test_new,
    entered_in_error,
    pharmacy_report_new,
    prescriber_informed,
    top_new,
)
from patients.views.registration import (
    caseload_handover,
    details_correct,
    episode_open,
    patient_move,
    patient_register,
)
from patients.views.treatment import (
    appointment_new,
    appointment_outcome,
    circumstance_end,
    circumstance_new,
    dispensing_change_new,
    intervention_end,
    intervention_new,
)

__all__ = [
    "appointment_new",
    "appointment_outcome",
    "caseload_handover",
    "circumstance_end",
    "circumstance_new",
    "details_correct",
    "dispensing_change_new",
    "drug_test_new",
    "entered_in_error",
    "episode_open",
    "intervention_end",
    "intervention_new",
    "patient_move",
    "patient_register",
    "pharmacy_report_new",
    "prescriber_informed",
    "top_new",
]
