from patients import models
from recovery_reviews.audit import SCHEDULE_FIELDS, register

register(models.Patient)
register(models.TreatmentEpisode, exclude_fields=SCHEDULE_FIELDS)
register(
    models.EpisodeCircumstance,
    models.Intervention,
    models.DispensingArrangement,
    models.Appointment,
    models.TopAssessment,
    models.DrugTest,
    models.PharmacyReport,
)
