"""The organisation: teams and the staff who work in them, each with one role."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # Strategic reviews a team's senior practitioners can hold in a week: the guidance asks commissioners to
    # resource reviews (Introduction), and the workload forecast compares what falls due against it.
    weekly_review_capacity = models.PositiveSmallIntegerField(default=10)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    KEYWORKER = "keyworker", "Keyworker"
    SENIOR_PRACTITIONER = "senior_practitioner", "Senior practitioner"
    MANAGER = "manager", "Manager"
    SUPPORT = "support", "Support staff"
    # Sees who has seen each patient's record (the access log), never the record itself.
    INFORMATION_GOVERNANCE = "information_governance", "Information governance"


class User(AbstractUser):
    """A member of staff. Keyworkers and senior practitioners belong to one team; managers manage teams."""

    role = models.CharField(max_length=24, choices=Role.choices, default=Role.KEYWORKER)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="members")
    managed_teams = models.ManyToManyField(Team, blank=True, related_name="managers")
    email_reminders = models.BooleanField(
        default=True, help_text="Send review reminders by email as well as to the in-app inbox."
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                name="clinical_staff_have_a_team",
                condition=~Q(role__in=["keyworker", "senior_practitioner"]) | Q(team__isnull=False),
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def clean(self):
        super().clean()
        if self.role in (Role.KEYWORKER, Role.SENIOR_PRACTITIONER) and self.team_id is None:
            raise ValidationError({"team": "Keyworkers and senior practitioners must belong to a team."})

    @property
    def is_keyworker(self) -> bool:
        return self.role == Role.KEYWORKER

    @property
    def is_senior_practitioner(self) -> bool:
        return self.role == Role.SENIOR_PRACTITIONER

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER
