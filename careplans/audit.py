from careplans import models
from recovery_reviews.audit import register

register(models.CarePlan, models.Goal, models.GoalAction)
