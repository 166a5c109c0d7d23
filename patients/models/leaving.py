"""Leaving treatment as a safety check. There is a brief raised risk of death just after treatment ends, which
calls for careful assessment of the risk of relapse before departure, and for the patient's understanding of the
risk and the skills to reduce it (Intro, App. B). The episode records, once and with its exit, the relapse risk
and whether the risk of death after leaving treatment (lost tolerance, overdose) and the skills to reduce it
(naloxone, not using alone, reduced tolerance) were discussed, with the reason for a "no"."""

from django.db import models
from django.db.models import Q

# Exits after which there is nobody to have the conversation with, or another service takes the patient on: the
# person died, or was transferred to another service or to custody. Codes of ExitReason (patients.models.record);
# the same three owe no recovery check-ups (docs/design.md rule 7 amended; a test keeps them equal to
# reviews.scheduling.NO_CHECK_UP_EXITS).
DIED = "died"
EXITS_WITHOUT_DISCUSSION = (DIED, "transferred", "transferred_custody")


class RelapseRisk(models.TextChoices):
    """The clinician's judgement, at exit, of the risk of relapse (App. B: the risk factors for relapse that may
    still be addressed before departure from treatment)."""

    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


def exit_safety_check_errors(
    *,
    exit_reason: str,
    relapse_risk: str,
    risk_of_death_discussed: bool | None,
    harm_reduction_discussed: bool | None,
    note: str,
) -> dict[str, str]:
    """What a new exit must record, keyed by the episode's field names: the relapse risk (not asked when the
    person died); whether the risk of death and the skills to reduce it were discussed (not asked when the person
    died or another service takes over); and why not, for a "no".

    Exits recorded before the check was asked have none of it, so the database cannot require it of every exit:
    the exit form and the exit service (patients.services.treatment.episode_exit) ask it of every new one."""
    errors = {}
    if not relapse_risk and exit_reason != DIED:
        errors["exit_relapse_risk"] = "Choose the relapse risk at exit: low, moderate or high."
    if exit_reason not in EXITS_WITHOUT_DISCUSSION:
        if risk_of_death_discussed is None:
            errors["exit_risk_of_death_discussed"] = (
                "Say whether the risk of death after leaving treatment (lost tolerance, overdose) was discussed "
                "with the patient."
            )
        if harm_reduction_discussed is None:
            errors["exit_harm_reduction_discussed"] = (
                "Say whether the skills to reduce that risk (naloxone, not using alone, reduced tolerance) were "
                "discussed."
            )
    if message := why_not_missing(risk_of_death_discussed, harm_reduction_discussed, note):
        errors["exit_discussion_note"] = message
    return errors


def why_not_missing(
    risk_of_death_discussed: bool | None, harm_reduction_discussed: bool | None, note: str
) -> str:
    """The message when a "no" has no note saying why; empty when nothing is missing."""
    if (note or "").strip():
        return ""
    if risk_of_death_discussed is False and harm_reduction_discussed is False:
        return "Say why neither the risk of death after leaving treatment nor the skills to reduce it were discussed."
    if risk_of_death_discussed is False:
        return "Say why the risk of death after leaving treatment was not discussed."
    if harm_reduction_discussed is False:
        return "Say why the skills to reduce the risk of death were not discussed."
    return ""


def exit_safety_check_constraints() -> list[models.CheckConstraint]:
    """What the database holds of the check: nothing of it without an exit, a known relapse risk, and a note
    whenever an answer is no. (That a new exit has it at all is asked by the form and the service.)"""
    return [
        models.CheckConstraint(
            name="episode_exit_check_only_with_exit",
            condition=Q(exit_date__isnull=False)
            | Q(
                exit_relapse_risk="",
                exit_risk_of_death_discussed__isnull=True,
                exit_harm_reduction_discussed__isnull=True,
                exit_discussion_note="",
            ),
        ),
        models.CheckConstraint(
            name="episode_exit_relapse_risk_known",
            condition=Q(exit_relapse_risk="") | Q(exit_relapse_risk__in=RelapseRisk.values),
        ),
        models.CheckConstraint(
            name="episode_exit_no_discussion_says_why",
            condition=~Q(exit_discussion_note="")
            | (
                (Q(exit_risk_of_death_discussed__isnull=True) | Q(exit_risk_of_death_discussed=True))
                & (Q(exit_harm_reduction_discussed__isnull=True) | Q(exit_harm_reduction_discussed=True))
            ),
        ),
    ]


class ExitSafetyCheck(models.Model):
    """The safety check recorded with an episode's exit (TreatmentEpisode). Empty on exits recorded before it
    was asked; never changed once the exit is recorded."""

    exit_relapse_risk = models.CharField(
        "relapse risk at exit",
        max_length=16,
        choices=RelapseRisk.choices,
        blank=True,
        default="",
        db_default="",
    )
    exit_risk_of_death_discussed = models.BooleanField(
        "risk of death after leaving treatment discussed", null=True, blank=True
    )
    exit_harm_reduction_discussed = models.BooleanField(
        "skills to reduce the risk of death discussed", null=True, blank=True
    )
    exit_discussion_note = models.TextField(
        "about the discussion at exit", blank=True, default="", db_default=""
    )

    class Meta:
        abstract = True

    def exit_check_errors(self) -> dict[str, str]:
        """For the episode's clean(): the check only with an exit, and a note for a "no"."""
        errors = {}
        if not self.exit_date and self.has_exit_check:
            errors["exit_date"] = (
                "The relapse risk and the discussion at exit are recorded with the exit date."
            )
        if message := why_not_missing(
            self.exit_risk_of_death_discussed, self.exit_harm_reduction_discussed, self.exit_discussion_note
        ):
            errors["exit_discussion_note"] = message
        return errors

    @property
    def has_exit_check(self) -> bool:
        """Whether any of the check was recorded (exits recorded before it was asked have none)."""
        return bool(
            self.exit_relapse_risk
            or self.exit_risk_of_death_discussed is not None
            or self.exit_harm_reduction_discussed is not None
            or self.exit_discussion_note
        )
