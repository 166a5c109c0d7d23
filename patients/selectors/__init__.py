"""Reads of the clinical record for pages (docs/conventions.md 3), by topic: caseload.py (finding patients, appointments
to record), evidence.py (the TOP over time, safety events, drug tests and pharmacy reports compiled, §2.9). Every
queryset starts from the access door (patients/access.py) or from an episode it has already handed out."""

from patients.selectors.caseload import (
    appointments_to_record,
    appointments_today,
    patients_with_nothing_due,
    search_filter,
    this_week_filter,
)
from patients.selectors.evidence import (
    MISSED_DOSES,
    UNEXPECTED_RESULT,
    MissedRun,
    SafetyEvent,
    drug_test_compilation,
    missed_runs,
    pharmacy_compilation,
    recent_safety_events,
    safety_event_for_user,
    top_chart_data,
    top_latest_answers,
)

__all__ = [
    "MISSED_DOSES",
    "UNEXPECTED_RESULT",
    "MissedRun",
    "SafetyEvent",
    "appointments_to_record",
    "appointments_today",
    "drug_test_compilation",
    "missed_runs",
    "patients_with_nothing_due",
    "pharmacy_compilation",
    "recent_safety_events",
    "safety_event_for_user",
    "search_filter",
    "this_week_filter",
    "top_chart_data",
    "top_latest_answers",
]
