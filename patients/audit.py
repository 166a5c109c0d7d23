from patients import models
from patients.models.record import SCHEDULE_FIELDS
from recovery_reviews.audit import register

register(models.Patient)
# The episode's team and keyworker follow the patient's (logged on the patient) by trigger.
# Schedule columns are recomputed by the system, not changed by a person: logging them would bury the record's
# real changes under nightly sweeps.
register(models.TreatmentEpisode, exclude_fields=[*SCHEDULE_FIELDS, "team", "keyworker"])
register(
    models.EpisodeCircumstance,
    models.Intervention,
    models.DispensingArrangement,
    models.Appointment,
    models.TopAssessment,
    models.DrugTest,
    models.PharmacyReport,
    models.CareTeamChange,
    models.RecordCorrection,
    models.SafetyEventAcknowledgement,
)
