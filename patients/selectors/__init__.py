"""Reads of the clinical record for pages (docs/conventions.md 3), by topic: caseload.py (finding patients, appointments
to record), evidence.py (the TOP over time, safety events, drug tests and pharmacy reports compiled, §2.9). Every
queryset starts from the access door (patients/access.py) or from an episode it has already handed out."""

from patients.selectors.caseload import (
    appointments_to_record,
    patients_with_nothing_due,
    search_filter,
    this_week_filter,
)
from patients.selectors.evidence import (
    MissedRun,
    SafetyEvent,
    drug_test_compilation,
    missed_runs,
    pharmacy_compilation,
    recent_safety_events,
    top_chart_data,
    top_latest_answers,
)

__all__ = [
    "MissedRun",
    "SafetyEvent",
    "appointments_to_record",
    "drug_test_compilation",
    "missed_runs",
    "patients_with_nothing_due",
    "pharmacy_compilation",
    "recent_safety_events",
    "search_filter",
    "this_week_filter",
    "top_chart_data",
    "top_latest_answers",
]
