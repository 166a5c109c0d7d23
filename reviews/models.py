"""Strategic reviews (§2), their findings and responses (App. C), unmet needs (§2.14), recovery check-ups
(§1.7), and the reminders and inbox that keep them on time."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from patients.models import Intervention, InterventionKind, Medicine, TreatmentEpisode
from recovery_reviews import formatting


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "In progress"
    AWAITING_PATIENT = "awaiting_patient", "Awaiting patient involvement"
    COMPLETED = "completed", "Completed"


class DomainProgress(models.TextChoices):
    IMPROVED = "improved", "Improved"
    MAINTAINED = "maintained", "Benefit maintained"
    NO_CHANGE = "no_change", "No change"
    DETERIORATED = "deteriorated", "Deteriorated"
    NOT_ASSESSED = "not_assessed", "Not assessed"


def _domain_progress(label):
    return models.CharField(
        label, max_length=16, choices=DomainProgress.choices, default=DomainProgress.NOT_ASSESSED
    )


class StrategicReview(models.Model):
    """A step-back overview of the whole care plan (§2.3), led by a senior practitioner where treatment includes
    prescribing (§2.5). It counts as complete only once the patient took part (§2.4)."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.PROTECT, related_name="strategic_reviews")
    held_on = models.DateField()
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_reviews")
    status = models.CharField(max_length=24, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    patient_took_part = models.BooleanField(
        default=False, help_text="The patient took part in the review (§2.1)."
    )
    patient_involved_on = models.DateField(
        null=True,
        blank=True,
        help_text="For a review held without the patient: when the patient's involvement was recorded (§2.4).",
    )
    completed_on = models.DateField(null=True, blank=True)

    self_report = models.TextField("patient's self-report", blank=True, default="")
    family_comments = models.TextField("comments from family and significant others", blank=True, default="")
    overview = models.TextField("step-back overview", blank=True, default="")

    drug_alcohol_progress = _domain_progress("Drug and alcohol use")
    drug_alcohol_assessment = models.TextField(blank=True, default="")
    health_progress = _domain_progress("Physical and psychological health")
    health_assessment = models.TextField(blank=True, default="")
    offending_progress = _domain_progress("Criminal involvement and offending")
    offending_assessment = models.TextField(blank=True, default="")
    social_progress = _domain_progress("Social functioning")
    social_assessment = models.TextField(blank=True, default="")

    agreed_next_date = models.DateField(
        null=True, blank=True, help_text="The next review date agreed with the patient (§1.3-1.5)."
    )
    # §1.5: a longer interval only when clear, continuing benefit, no significant change envisaged, and agreed.
    clear_continuing_benefit = models.BooleanField(default=False)
    no_significant_change_envisaged = models.BooleanField(default=False)
    patient_agrees_interval = models.BooleanField(default=False)
    # §2.2: at the review of a high-risk patient, why nobody beyond the lead, keyworker and patient took part.
    multidisciplinary_reason = models.TextField(
        "why the multidisciplinary team was not involved", blank=True, default=""
    )

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-held_on"]
        indexes = [
            models.Index(fields=["episode", "completed_on"]),
            # The few reviews waiting on the patient (§2.4), read by every status count and list: a small
            # partial index instead of a scan of every review.
            models.Index(
                fields=["episode"], name="review_awaiting_patient", condition=Q(status="awaiting_patient")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="completed_review_has_completion_date",
                condition=~Q(status="completed") | Q(completed_on__isnull=False),
            ),
            models.CheckConstraint(
                name="completed_review_involved_patient",
                condition=~Q(status="completed")
                | Q(patient_took_part=True)
                | Q(patient_involved_on__isnull=False),
            ),
            models.CheckConstraint(
                name="review_completed_not_before_held",
                condition=Q(completed_on__isnull=True) | Q(completed_on__gte=F("held_on")),
            ),
            models.CheckConstraint(
                name="patient_involved_not_before_held",
                condition=Q(patient_involved_on__isnull=True) | Q(patient_involved_on__gte=F("held_on")),
            ),
            models.CheckConstraint(
                name="agreed_next_date_after_held",
                condition=Q(agreed_next_date__isnull=True) | Q(agreed_next_date__gt=F("held_on")),
            ),
        ]

    def __str__(self):
        return f"Strategic review {formatting.day(self.held_on)}"

    def get_absolute_url(self):
        return reverse("reviews:detail", args=[self.pk])

    def clean(self):
        super().clean()
        errors = {}
        if self.patient_involved_on and self.held_on and self.patient_involved_on < self.held_on:
            errors["patient_involved_on"] = (
                "The patient's involvement is recorded on or after the review was held."
            )
        if self.agreed_next_date and self.held_on and self.agreed_next_date <= self.held_on:
            errors["agreed_next_date"] = "The next review date must be after this review."
        if self.held_on and self.episode_id and self.held_on < self.episode.entry_date:
            errors["held_on"] = "A review cannot be held before the episode's entry date."
        if errors:
            raise ValidationError(errors)

    @property
    def extension_justified(self) -> bool:
        """All three §1.5 conditions for a longer interval than six months."""
        return (
            self.clear_continuing_benefit
            and self.no_significant_change_envisaged
            and self.patient_agrees_interval
        )

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class ParticipantRole(models.TextChoices):
    """Who takes part (§2.6)."""

    PATIENT = "patient", "Patient"
    KEYWORKER = "keyworker", "Keyworker"
    SENIOR_PRACTITIONER = "senior_practitioner", "Senior practitioner"
    DOCTOR = "doctor", "Doctor / prescriber"
    NURSE = "nurse", "Nurse"
    PSYCHOLOGIST = "psychologist", "Psychologist"
    RECOVERY_WORKER = "recovery_worker", "Recovery worker"
    FAMILY = "family", "Family member, partner or significant other"
    EMPLOYER = "employer", "Employer"
    PHARMACIST = "pharmacist", "Dispensing pharmacist"
    SOCIAL_WORKER = "social_worker", "Social worker"
    PROBATION = "probation", "Probation officer"
    OTHER_AGENCY = "other_agency", "Worker from another agency"


class ReviewParticipant(models.Model):
    review = models.ForeignKey(StrategicReview, on_delete=models.CASCADE, related_name="participants")
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=24, choices=ParticipantRole.choices)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["role", "name"]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"


class Finding(models.TextChoices):
    """Findings of a review (App. C and the summary table 'Responding to particular findings in a review')."""

    STABLE_ADHERENCE = "stable_adherence", "Demonstrated adherence to and stability on OST"
    CONTINUED_GOOD_ADHERENCE = (
        "continued_good_adherence",
        "Further good continued medication adherence and benefit",
    )
    DETERIORATING_ADHERENCE = "deteriorating_adherence", "Deterioration of adherence to OST"
    BENEFIT_PLATEAU = "benefit_plateau", "Benefit achieved from OST but no further accrual of benefit"
    LESS_BENEFIT_THAN_EXPECTED = "less_benefit_than_expected", "Benefit less than originally anticipated"
    NO_BENEFIT = "no_benefit", "No appearance of benefit being achieved"
    GOOD_PROGRESS = "good_progress", "Good progress"
    OTHER = "other", "Other finding"


class Response(models.TextChoices):
    INTRODUCE_TAKE_HOME = "introduce_take_home", "Introduce option of some take-home doses"
    EXTEND_TAKE_HOME = "extend_take_home", "Extend provision of take-home doses"
    REINSTATE_SUPERVISION = "reinstate_supervision", "Reinstate supervised dosing"
    EARLIER_RE_REVIEW = "earlier_re_review", "Schedule an earlier re-review"
    EXAMINE_PLATEAU = (
        "examine_plateau",
        "Examine whether benefit has plateaued; change medication only cautiously",
    )
    RECOGNISE_PARTIAL_BENEFIT = (
        "recognise_partial_benefit",
        "Recognise partial benefit over the longer period",
    )
    SUPPLEMENTARY_INTERVENTIONS = "supplementary_interventions", "Adjust or add supplementary interventions"
    ALTERNATIVE_TREATMENT = (
        "alternative_treatment",
        "Re-consider interventions; arrange alternative treatment",
    )
    STEP_UP_RECOVERY_SUPPORT = (
        "step_up_recovery_support",
        "Step up recovery support (education, employment, peers)",
    )
    OTHER = "other", "Other response"


class ReviewFinding(models.Model):
    review = models.ForeignKey(StrategicReview, on_delete=models.CASCADE, related_name="findings")
    code = models.CharField(max_length=32, choices=Finding.choices)
    note = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "code"], condition=~Q(code="other"), name="finding_once_per_review"
            ),
            models.CheckConstraint(name="other_finding_described", condition=~Q(code="other") | ~Q(note="")),
        ]

    def __str__(self):
        return self.get_code_display()


class ReviewResponse(models.Model):
    review = models.ForeignKey(StrategicReview, on_delete=models.CASCADE, related_name="responses")
    finding = models.ForeignKey(
        ReviewFinding, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    code = models.CharField(max_length=32, choices=Response.choices)
    note = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(name="other_response_described", condition=~Q(code="other") | ~Q(note="")),
        ]

    def __str__(self):
        return self.get_code_display()


class UnmetNeedCategory(models.TextChoices):
    INTERVENTION = "intervention", "Intervention"
    INTENSITY = "intensity", "Intensity"
    SETTING = "setting", "Setting"


class UnmetNeedKind(models.TextChoices):
    RESIDENTIAL_REHAB = "residential_rehab", "Residential rehabilitation"
    INPATIENT_DETOX = "inpatient_detox", "Inpatient detoxification"
    COMMUNITY_DETOX = "community_detox", "Community detoxification"
    PSYCHOSOCIAL = "psychosocial", "Psychosocial intervention"
    MENTAL_HEALTH = "mental_health", "Mental health treatment"
    HOUSING = "housing", "Stable housing"
    EDUCATION_EMPLOYMENT = "education_employment", "Education, training or employment support"
    FAMILY_SUPPORT = "family_support", "Family or parenting support"
    MUTUAL_AID = "mutual_aid", "Mutual aid / peer recovery support"
    MORE_FREQUENT_KEYWORKING = "more_frequent_keyworking", "More frequent keyworking"
    OTHER = "other", "Other"


class UnmetNeed(models.Model):
    """An intervention, intensity or setting that was needed and could not be had (§2.14), for commissioners."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.PROTECT, related_name="unmet_needs")
    review = models.ForeignKey(
        StrategicReview, on_delete=models.SET_NULL, null=True, blank=True, related_name="unmet_needs"
    )
    category = models.CharField(max_length=16, choices=UnmetNeedCategory.choices)
    kind = models.CharField(max_length=32, choices=UnmetNeedKind.choices)
    description = models.TextField(help_text="What was needed and why it could not be accessed.")
    recorded_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)

    class Meta:
        ordering = ["-recorded_on"]
        indexes = [models.Index(fields=["recorded_on", "kind"])]
        constraints = [models.CheckConstraint(name="unmet_need_described", condition=~Q(description=""))]

    def __str__(self):
        return f"Unmet need: {self.get_kind_display()}"

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class CheckUpOutcome(models.TextChoices):
    STABLE = "stable", "Recovery stable"
    SUPPORT_INCREASED = "support_increased", "Recovery support maintained or increased"
    RELAPSE_RISK = "relapse_risk", "Early signs of relapse risk"
    RETURNED_TO_TREATMENT = "returned_to_treatment", "Rapid access back into treatment arranged"
    NOT_REACHED = "not_reached", "Could not be reached"


class RecoveryCheckUp(models.Model):
    """A pre-scheduled check-up after treatment ends (§1.7): at exit + 14 days, 3, 6 and 12 months.

    A row with the outcome "could not be reached" is an attempt, not a held check-up (docs/design.md rule 7c):
    it is kept, with the day of the attempt in held_on, and the check-up of its sequence stays owed. Any number
    of attempts may precede the one held check-up of a sequence, which closes it (one_held_check_up_per_slot)."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.PROTECT, related_name="check_ups")
    sequence = models.PositiveSmallIntegerField(
        help_text="1: 14 days, 2: 3 months, 3: 6 months, 4: 12 months."
    )
    held_on = models.DateField()
    held_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    outcome = models.CharField(max_length=24, choices=CheckUpOutcome.choices)
    notes = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "sequence"],
                condition=~Q(outcome=CheckUpOutcome.NOT_REACHED),
                name="one_held_check_up_per_slot",
                violation_error_message="A recovery check-up with this number already exists for this episode: "
                "it has been held.",
            ),
            models.CheckConstraint(
                name="check_up_sequence_1_to_4", condition=Q(sequence__gte=1, sequence__lte=4)
            ),
        ]

    def __str__(self):
        if self.is_attempt:
            return f"Recovery check-up {self.sequence}: tried on {formatting.day(self.held_on)}"
        return f"Recovery check-up {self.sequence} on {formatting.day(self.held_on)}"

    @property
    def is_attempt(self) -> bool:
        """An attempt that could not reach the patient: the check-up is still owed (rule 7c)."""
        return self.outcome == CheckUpOutcome.NOT_REACHED

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class ReminderKind(models.TextChoices):
    """What a reminder is about. Each value belongs to one plug-in in reviews/reminders/kinds/, which owns it
    (docs/reminders.md): strategic reviews and check-ups to review_due.py (the value is the owed item's kind,
    OwedItem.kind), runs of missed doses to safety_event.py, spells of disengagement to disengagement.py."""

    STRATEGIC_REVIEW = "strategic_review", "Strategic review"
    RECOVERY_CHECK_UP = "recovery_check_up", "Recovery check-up"
    ELEMENT_CHECK_UP = "element_check_up", "Check-up after an element of treatment"
    SAFETY_EVENT = "safety_event", "Safety event"
    DISENGAGEMENT = "disengagement", "Disengagement"


class ReminderStage(models.TextChoices):
    """Where the thing reminded of stands. Each kind has stages of its own (no two kinds share one)."""

    # A review's or check-up's, rule 8 (review_due.py).
    DUE_SOON = "due_soon", "Due soon"
    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    # A run of missed doses the prescriber has not been recorded as told of, target = the report's last day
    # (safety_event.py).
    SAFETY_EVENT = "safety_event", "Safety event"
    # A spell of disengagement, target = the day it began (disengagement.py).
    DISENGAGEMENT = "disengagement", "Disengagement"


class Reminder(models.Model):
    """One reminder to one person about one due date at one stage, claimed (inserted) before it is sent, so
    that it is sent once whatever the workers, retries and redeliveries do (docs/reminders.md)."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=24, choices=ReminderKind.choices)
    target = models.DateField()
    deadline = models.DateField()
    stage = models.CharField(max_length=16, choices=ReminderStage.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    claimed_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    # A delivery holds a short lease while it sends, so that two workers never send the same reminder at once;
    # a worker that dies mid-send lets the lease lapse and a later sweep delivers it.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            # One episode can owe a strategic review and a check-up after an element on the same day (rule 7b):
            # the kind is part of what a reminder is about.
            models.UniqueConstraint(
                fields=["episode", "kind", "target", "stage", "recipient"], name="reminder_sent_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["delivered_at"], name="reminder_undelivered", condition=Q(delivered_at__isnull=True)
            )
        ]

    def __str__(self):
        return f"{self.get_stage_display()} reminder to {self.recipient} for {self.episode}"


class InboxItem(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox")
    reminder = models.OneToOneField(
        Reminder, on_delete=models.CASCADE, null=True, blank=True, related_name="inbox_item"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.subject


class OwedItem(models.Model):
    """One item an episode owes now: a strategic review, a recovery check-up after exit, or a check-up after an
    element of treatment (docs/design.md, Review scheduling policy; rule 7b), with its own dates and reasons.

    Written by the scheduling adapter (reviews.services.schedule) in the same transaction as the change that
    caused it, every item of the episode at once; the episode's next_review_* columns hold the first of them.
    Lists, counts, the forecast and the reminders read these rows, one per item, so that no item hides another.
    A record the policy cannot schedule is one item of kind "record_error", dated today, until corrected.

    team and keyworker are the episode's, copied so that the dashboards count by team in an index scan; database
    triggers (migration reviews 0007) keep them equal to the episode's, whatever path changes it. Never set by
    hand: the one writer that sets them itself is the recompute's bulk insert, which reads them from the episodes
    in the same statement while the row trigger stands aside for it (reviews 0014; hazard H-048)."""

    # Indexed by owed_episode (episode, target), whose first column serves every read by episode (reviews 0014).
    episode = models.ForeignKey(
        TreatmentEpisode, on_delete=models.CASCADE, related_name="owed_items", db_index=False
    )
    kind = models.CharField(max_length=24)
    target = models.DateField()
    deadline = models.DateField()
    reasons = models.JSONField(default=list)
    element_end = models.DateField(null=True, blank=True)  # a check-up after an element: the day it ended
    team = models.ForeignKey(
        "recovery_reviews.Team", on_delete=models.PROTECT, related_name="+", null=True, db_index=False
    )
    keyworker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, db_index=False
    )

    class Meta:
        ordering = ["target", "deadline", "pk"]
        indexes = [
            # Status counts and the forecast by team: an index-only read (docs/conventions.md 2).
            models.Index(fields=["team", "target", "deadline", "kind"], name="owed_team_schedule"),
            models.Index(fields=["keyworker", "target"], name="owed_keyworker_target"),
            models.Index(fields=["target"], name="owed_target"),
            models.Index(fields=["deadline"], name="owed_deadline"),
            models.Index(fields=["episode", "target"], name="owed_episode"),
        ]
        constraints = [
            models.CheckConstraint(
                name="owed_target_not_after_deadline", condition=Q(target__lte=F("deadline"))
            ),
            models.CheckConstraint(
                name="owed_element_end_with_element_check_up",
                condition=Q(kind="element_check_up", element_end__isnull=False)
                | (~Q(kind="element_check_up") & Q(element_end__isnull=True)),
            ),
        ]

    def __str__(self):
        return f"{self.kind} for {self.episode_id}: {formatting.day(self.target)}"


class ElementCheckUp(models.Model):
    """A check-up after an element of treatment (OST, detox, residential or inpatient) ended while the episode
    stayed open (§1.7, docs/design.md rule 7b). As with recovery check-ups (rule 7c), a row with the outcome
    "could not be reached" is an attempt: it is kept and the check-up stays owed; the one held check-up of an
    element end closes it (one_held_element_check_up)."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.PROTECT, related_name="element_check_ups")
    element_end = models.DateField(help_text="The day the element of treatment ended.")
    held_on = models.DateField()
    held_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=24, choices=CheckUpOutcome.choices)
    notes = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["element_end", "held_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "element_end"],
                condition=~Q(outcome=CheckUpOutcome.NOT_REACHED),
                name="one_held_element_check_up",
                violation_error_message="The check-up after this element of treatment has been held already.",
            ),
            models.CheckConstraint(
                name="element_check_up_after_its_end", condition=Q(held_on__gte=F("element_end"))
            ),
            models.CheckConstraint(
                name="element_check_up_not_back_in_treatment",
                condition=~Q(outcome=CheckUpOutcome.RETURNED_TO_TREATMENT),
                violation_error_message="The patient is still in treatment: record early signs of relapse "
                "instead, and raise it at the next strategic review.",
            ),
        ]

    def __str__(self):
        what = "tried" if self.is_attempt else "held"
        return f"Check-up after the element ended {formatting.day(self.element_end)}: {what} on {formatting.day(self.held_on)}"

    @property
    def is_attempt(self) -> bool:
        return self.outcome == CheckUpOutcome.NOT_REACHED

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class PendingDecisionKind(models.TextChoices):
    DISPENSING = "dispensing", "Change the dispensing arrangement"
    END_INTERVENTION = "end_intervention", "End an intervention"
    START_INTERVENTION = "start_intervention", "Start an intervention"


class PendingDecision(models.Model):
    """A dispensing or intervention change decided at a review held without the patient. Decisions follow the
    patient (§2.4): it is held here, not applied, and takes effect on the day their involvement is recorded,
    through the clinical record's own services (reviews/services/pending.py).
    See docs/design.md, Prescribing decisions. `details` holds those services' arguments; `applied_on` is the
    day it took effect."""

    review = models.ForeignKey(StrategicReview, on_delete=models.CASCADE, related_name="pending_decisions")
    kind = models.CharField(max_length=24, choices=PendingDecisionKind.choices)
    intervention = models.ForeignKey(
        Intervention, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    applied_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                name="pending_decision_ends_a_named_intervention",
                condition=Q(kind="end_intervention", intervention__isnull=False)
                | (~Q(kind="end_intervention") & Q(intervention__isnull=True)),
            ),
        ]

    def __str__(self):
        d = self.details
        if self.kind == PendingDecisionKind.DISPENSING:
            doses = d.get("take_home_doses_per_week")
            what = "every dose supervised" if doses == 0 else f"{doses} take-home dose(s) a week"
            why = d.get("reason_note", "").strip().rstrip(".")
            return f"Dispensing: {what}" + (f" ({why})" if why else "")
        if self.kind == PendingDecisionKind.END_INTERVENTION:
            return f"End {self.intervention}"
        dose = f" {d['daily_dose_mg']} mg daily" if d.get("daily_dose_mg") else ""
        medicine = f" ({Medicine(d['medicine']).label}{dose})" if d.get("medicine") else dose
        return f"Start {InterventionKind(d['kind']).label.lower()}{medicine}"

    def get_additional_data(self):
        return {"patient_id": self.review.episode.patient_id}


# The managers' kept figures (reviews.dashboards.kept): their own module, registered with this app here.
from reviews.kept_models import KeptFigure, KeptGeneration  # noqa: E402, F401

# The kept counts of owed items: their own module, registered with this app here.
from reviews.owed_count_models import (  # noqa: E402, F401
    AwaitingPatientEpisode,
    OwedCount,
    OwedCountByKeyworker,
    OwedCountChange,
    OwedCountRebuild,
)
