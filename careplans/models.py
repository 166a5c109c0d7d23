"""Recovery care plans: goals in the four core domains (§2.10) with actions, owners, target dates and progress;
goals increasingly self-managed by the patient as recovery progresses (§2.12)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from patients.models import CoreDomain, TreatmentEpisode


class CarePlan(models.Model):
    episode = models.OneToOneField(TreatmentEpisode, on_delete=models.CASCADE, related_name="care_plan")
    agreed_on = models.DateField(help_text="When the plan was first agreed with the patient.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Care plan for {self.episode.patient}"

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class GoalProgress(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SOME_PROGRESS = "some_progress", "Some progress"
    GOOD_PROGRESS = "good_progress", "Good progress"
    ACHIEVED = "achieved", "Achieved"
    NO_LONGER_RELEVANT = "no_longer_relevant", "No longer relevant"


class Goal(models.Model):
    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="goals")
    domain = models.CharField(max_length=24, choices=CoreDomain.choices)
    description = models.TextField()
    target_date = models.DateField(null=True, blank=True)
    progress = models.CharField(max_length=24, choices=GoalProgress.choices, default=GoalProgress.NOT_STARTED)
    self_managed = models.BooleanField(
        default=False, help_text="The patient manages this goal themselves (§2.12)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain", "created_at"]
        constraints = [models.CheckConstraint(name="goal_has_description", condition=~Q(description=""))]

    def __str__(self):
        return self.description[:80]

    def get_additional_data(self):
        return {"patient_id": self.care_plan.episode.patient_id}


class ActionOwner(models.TextChoices):
    PATIENT = "patient", "Patient"
    KEYWORKER = "keyworker", "Keyworker"
    PRESCRIBER = "prescriber", "Prescriber"
    OTHER = "other", "Someone else"


class GoalAction(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField()
    owner = models.CharField(max_length=16, choices=ActionOwner.choices)
    owner_name = models.CharField(
        max_length=100, blank=True, default="", help_text="Who, when 'someone else'."
    )
    target_date = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ["completed_on", "target_date"]
        constraints = [
            models.CheckConstraint(name="action_has_description", condition=~Q(description="")),
            models.CheckConstraint(
                name="other_owner_is_named", condition=~Q(owner="other") | ~Q(owner_name="")
            ),
        ]

    def __str__(self):
        return self.description[:80]

    def clean(self):
        super().clean()
        if self.owner == ActionOwner.OTHER and not self.owner_name.strip():
            raise ValidationError({"owner_name": "Name who owns this action."})

    def get_additional_data(self):
        return {"patient_id": self.goal.care_plan.episode.patient_id}
