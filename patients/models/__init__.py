from patients.models.choices import NON_PRESCRIBED_OPIOIDS, OPIOID_SUBSTITUTES, CoreDomain, Substance
from patients.models.evidence import (
    MISSED_DOSE_SAFETY_RUN,
    TOP_DAYS_28,
    TOP_RATINGS,
    TOP_SUBSTANCES,
    TOP_WEEKS,
    TOP_YES_NO,
    DrugTest,
    DrugTestResult,
    MissedDose,
    PharmacyReport,
    TestMethod,
    TestResult,
    TopAssessment,
    TopStage,
    longest_missed_run,
)
from patients.models.record import (
    Appointment,
    AppointmentStatus,
    Circumstance,
    DispensingArrangement,
    DispensingChange,
    EpisodeCircumstance,
    ExitReason,
    Intervention,
    InterventionKind,
    Medicine,
    Patient,
    TreatmentEpisode,
)

__all__ = [
    "NON_PRESCRIBED_OPIOIDS", "OPIOID_SUBSTITUTES", "CoreDomain", "Substance", "MISSED_DOSE_SAFETY_RUN",
    "TOP_DAYS_28", "TOP_RATINGS", "TOP_SUBSTANCES", "TOP_WEEKS", "TOP_YES_NO", "DrugTest", "DrugTestResult",
    "MissedDose", "PharmacyReport", "TestMethod", "TestResult", "TopAssessment", "TopStage", "longest_missed_run",
    "Appointment", "AppointmentStatus", "Circumstance", "DispensingArrangement", "DispensingChange",
    "EpisodeCircumstance", "ExitReason", "Intervention", "InterventionKind", "Medicine", "Patient", "TreatmentEpisode",
]
