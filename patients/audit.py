from patients import models
from recovery_reviews.audit import SCHEDULE_FIELDS, register

register(models.Patient)
# The episode's team and keyworker follow the patient's (logged on the patient) by trigger.
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
)
