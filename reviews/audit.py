from recovery_reviews.audit import register
from reviews import models

register(models.StrategicReview, models.UnmetNeed, models.RecoveryCheckUp, models.ElementCheckUp)
