"""Patients, their treatment episodes, and what happens in an episode: circumstances, interventions,
dispensing arrangements and keyworker appointments."""

from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import get_script_prefix, reverse

from patients.models.choices import Substance
from patients.models.leaving import ExitSafetyCheck, exit_safety_check_constraints
from patients.validators import normalise_nhs_number, validate_nhs_number
from recovery_reviews import formatting


@lru_cache(maxsize=4096)
def _patient_url(prefix: str, pk: int) -> str:
    """reverse() once per patient and prefix per process: a caseload writes forty to a hundred of these a page."""
    return reverse("patients:detail", args=[pk])


def patient_url(pk: int) -> str:
    """A patient's page, by their id, without reading the patient (Patient.get_absolute_url's)."""
    return _patient_url(get_script_prefix(), pk)


class NHSNumberField(models.CharField):
    """Ten digits, typed as people print them ('943 476 5919' or '943-476-5919'): the spaces and hyphens go in
    to_python, before the length check, so a form, the admin and full_clean all store the ten digits."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # validate_nhs_number says how many digits there should be; the generic length message would repeat it
        self.validators[:] = [v for v in self.validators if not isinstance(v, MaxLengthValidator)]

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_nhs_number(value) if isinstance(value, str) else value

    def formfield(self, **kwargs):
        return super().formfield(**{"max_length": 16, **kwargs})  # room for the spaces people type

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs  # migrations need no custom class


class Patient(models.Model):
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nhs_number = NHSNumberField(
        "NHS number",
        max_length=10,
        blank=True,
        default="",
        validators=[validate_nhs_number],
        help_text="Optional. Ten digits; checked with its modulus-11 check digit.",
    )
    team = models.ForeignKey("recovery_reviews.Team", on_delete=models.PROTECT, related_name="patients")
    keyworker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="caseload",
        limit_choices_to={"role": "keyworker"},
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [models.Index(fields=["family_name", "given_name"])]
        constraints = [
            models.UniqueConstraint(
                fields=["nhs_number"],
                condition=~Q(nhs_number=""),
                name="unique_nhs_number",
                violation_error_message="A patient with this NHS number is already registered.",
            ),
            models.CheckConstraint(
                name="nhs_number_is_ten_digits_or_blank",
                condition=Q(nhs_number="") | Q(nhs_number__regex=r"^[0-9]{10}$"),
            ),
            models.CheckConstraint(
                name="date_of_birth_after_1900", condition=Q(date_of_birth__gte=date(1900, 1, 1))
            ),
        ]

    def __str__(self):
        return f"{self.given_name} {self.family_name}"

    def get_absolute_url(self):
        return patient_url(self.pk)

    def clean(self):
        super().clean()
        if self.date_of_birth and self.date_of_birth > date.today():
            raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})

    @property
    def nhs_number_display(self) -> str:
        n = self.nhs_number
        return f"{n[:3]} {n[3:6]} {n[6:]}" if n else ""

    def get_additional_data(self):
        return {"patient_id": self.pk}


class ExitReason(models.TextChoices):
    COMPLETED_DRUG_FREE = "completed_drug_free", "Treatment completed: drug free"
    COMPLETED_ALCOHOL_FREE = "completed_alcohol_free", "Treatment completed: alcohol free"
    COMPLETED_OCCASIONAL = (
        "completed_occasional",
        "Treatment completed: occasional user (not opiates or crack)",
    )
    TRANSFERRED = "transferred", "Transferred to another service"
    TRANSFERRED_CUSTODY = "transferred_custody", "Transferred to custody"
    DROPPED_OUT = "dropped_out", "Dropped out / left"
    DECLINED = "declined", "Treatment declined"
    DIED = "died", "Died"
    OTHER = "other", "Other"


# The stored next review (TreatmentEpisode below): written by the scheduling adapter, never by a person.
SCHEDULE_FIELDS = (
    "next_review_kind",
    "next_review_target",
    "next_review_deadline",
    "next_review_reasons",
    "first_review_completed_on",
    "schedule_computed_at",
)


class TreatmentEpisode(ExitSafetyCheck):
    """One episode of structured treatment, from entry to exit (with its safety check, ExitSafetyCheck), and the
    next review it calls for.

    The next review's kind, target, deadline and reasons are stored here (recomputed by
    reviews.services.episode_schedule_refresh in the same transaction as the change that caused it) so that
    caseloads and dashboards filter and sort on indexed columns.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    entry_date = models.DateField()
    exit_date = models.DateField(null=True, blank=True)
    exit_reason = models.CharField(max_length=32, choices=ExitReason.choices, blank=True, default="")
    primary_drug = models.CharField(max_length=32, choices=Substance.choices)
    other_substances = models.JSONField(
        default=list, blank=True, help_text="Other problem substances (§2.10)."
    )
    co_morbidities = models.TextField(blank=True, default="", help_text="Co-existing conditions (§2.10).")
    lead_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_episodes",
        limit_choices_to={"role": "senior_practitioner"},
        help_text="The senior practitioner who leads this patient's strategic reviews (§2.5).",
    )

    # The patient's team and keyworker, copied onto the episode so that scoping and the dashboards read one table
    # (at 300,000 patients, joining every episode to its patient cost more than the counting). Kept equal to the
    # patient's by database triggers (migration patients 0004): set on every insert or change of an episode and
    # followed when a patient changes team or keyworker, whatever path makes the change. Never set by hand.
    team = models.ForeignKey(
        "recovery_reviews.Team",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        editable=False,
        db_index=False,
    )
    keyworker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        editable=False,
        db_index=False,
    )

    next_review_kind = models.CharField(max_length=24, blank=True, default="")
    next_review_target = models.DateField(null=True, blank=True)
    next_review_deadline = models.DateField(null=True, blank=True)
    next_review_reasons = models.JSONField(default=list, blank=True)
    # The date the first strategic review with the patient completed (§1.3, §2.4), stored with the schedule by
    # reviews.services.schedule for the first-review timeliness report. Not edited by hand.
    first_review_completed_on = models.DateField(null=True, blank=True, editable=False)
    schedule_computed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-entry_date"]
        indexes = [
            # Status counts and the forecast by team: an index-only read of the scheduled episodes of the teams.
            models.Index(
                fields=["team", "next_review_target", "next_review_deadline", "next_review_kind"],
                name="episode_team_schedule",
                condition=Q(next_review_target__isnull=False),
            ),
            # First-review timeliness by team: entrants of a period with what the report counts.
            models.Index(
                fields=["team", "entry_date", "exit_date", "first_review_completed_on"],
                name="episode_team_entry",
            ),
            # A keyworker's own caseload, wherever the patients' teams are.
            models.Index(fields=["keyworker", "next_review_target"], name="episode_keyworker_target"),
            models.Index(
                fields=["next_review_target"],
                name="episode_open_review_target",
                condition=Q(next_review_target__isnull=False),
            ),
            # No index on next_review_deadline alone (patients 0017): no page's plan used it, and each index on a
            # column the nightly recompute rewrites costs that write on every episode.
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(exit_date__isnull=True),
                name="one_open_episode_per_patient",
                violation_error_message="This patient already has an open treatment episode: end it before "
                "opening another.",
            ),
            models.CheckConstraint(
                name="episode_exit_not_before_entry",
                condition=Q(exit_date__isnull=True) | Q(exit_date__gte=F("entry_date")),
            ),
            models.CheckConstraint(
                name="episode_exit_reason_with_exit",
                condition=(Q(exit_date__isnull=True) & Q(exit_reason=""))
                | (Q(exit_date__isnull=False) & ~Q(exit_reason="")),
            ),
            *exit_safety_check_constraints(),
            models.CheckConstraint(
                name="episode_target_not_after_deadline",
                condition=Q(next_review_target__isnull=True)
                | Q(next_review_deadline__isnull=True)
                | Q(next_review_target__lte=F("next_review_deadline")),
            ),
        ]

    def __str__(self):
        return f"{self.patient} from {formatting.day(self.entry_date)}"

    def save(self, *args, **kwargs):
        # The database sets team and keyworker from the patient (the triggers); copying them here as well keeps
        # this instance true without a query when its patient is already loaded.
        if self.patient_id and TreatmentEpisode.patient.is_cached(self):
            self.team_id, self.keyworker_id = self.patient.team_id, self.patient.keyworker_id
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("patients:detail", args=[self.patient_id])

    def clean(self):
        super().clean()
        errors = {}
        if self.exit_date and self.entry_date and self.exit_date < self.entry_date:
            errors["exit_date"] = "The exit date cannot be before the entry date."
        if self.exit_date and not self.exit_reason:
            errors["exit_reason"] = "Give the reason the episode ended."
        if self.exit_reason and not self.exit_date:
            errors["exit_date"] = "Give the exit date for this exit reason."
        errors = {**self.exit_check_errors(), **errors}
        unknown = [s for s in self.other_substances or [] if s not in Substance.values]
        if unknown:
            errors["other_substances"] = f"Unknown substance codes: {', '.join(map(str, unknown))}."
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.exit_date is None

    def get_additional_data(self):
        return {"patient_id": self.patient_id}


class Circumstance(models.TextChoices):
    """Circumstances in which review is called earlier and more often (§1.6)."""

    SHORT_TERM_TREATMENT = "short_term_treatment", "On treatment of short-term duration"
    COMPLEX_NEEDS = "complex_needs", "Complex, co-morbid or problematic condition"
    NOT_BENEFITING = "not_benefiting", "Treatment not producing the expected benefit"
    TRANSITION = "transition", "Personal transition or change of setting"


class EpisodeCircumstance(models.Model):
    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.CASCADE, related_name="circumstances")
    code = models.CharField(max_length=32, choices=Circumstance.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                name="circumstance_end_not_before_start",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
            ),
        ]

    def __str__(self):
        return self.get_code_display()

    def clean(self):
        super().clean()
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": "A circumstance cannot end before it started."})

    def is_current(self, on: date) -> bool:
        return self.started_on <= on and (self.ended_on is None or self.ended_on >= on)

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class InterventionKind(models.TextChoices):
    OST = "ost", "Opioid substitution treatment"
    DETOX = "detox", "Detoxification"
    RESIDENTIAL = "residential", "Residential rehabilitation"
    INPATIENT = "inpatient", "Inpatient treatment"
    PSYCHOSOCIAL = "psychosocial", "Psychosocial intervention"
    RECOVERY_SUPPORT = "recovery_support", "Recovery support"


class Medicine(models.TextChoices):
    METHADONE = "methadone", "Methadone (oral)"
    BUPRENORPHINE = "buprenorphine", "Buprenorphine (sublingual)"


# Plausible daily doses in mg: a dose outside these is almost always a typing error (an extra zero).
DAILY_DOSE_LIMITS_MG = {Medicine.METHADONE: Decimal("200"), Medicine.BUPRENORPHINE: Decimal("32")}


class Intervention(models.Model):
    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.CASCADE, related_name="interventions")
    kind = models.CharField(max_length=24, choices=InterventionKind.choices)
    medicine = models.CharField(max_length=16, choices=Medicine.choices, blank=True, default="")
    daily_dose_mg = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("200"))],
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                name="intervention_end_not_before_start",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
            ),
            models.CheckConstraint(
                name="ost_has_medicine_and_dose",
                condition=(
                    Q(kind="ost")
                    & ~Q(medicine="")
                    & Q(
                        daily_dose_mg__isnull=False
                    )  # a comparison with NULL is NULL, which a CHECK lets pass
                    & Q(daily_dose_mg__gt=0)
                    & Q(daily_dose_mg__lte=200)
                )
                | (~Q(kind="ost") & Q(medicine="") & Q(daily_dose_mg__isnull=True)),
            ),
        ]

    def __str__(self):
        if self.kind == InterventionKind.OST:
            return f"{self.get_medicine_display()} {Decimal(self.daily_dose_mg).normalize():f} mg daily"
        return self.get_kind_display()

    def clean(self):
        super().clean()
        errors = {}
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            errors["ended_on"] = "An intervention cannot end before it started."
        if self.kind == InterventionKind.OST:
            if not self.medicine:
                errors["medicine"] = (
                    "Opioid substitution treatment needs its medicine: methadone or buprenorphine."
                )
            if self.daily_dose_mg is None:
                errors["daily_dose_mg"] = "Give the daily dose in mg."
            elif self.medicine and self.daily_dose_mg > DAILY_DOSE_LIMITS_MG[self.medicine]:
                limit = DAILY_DOSE_LIMITS_MG[self.medicine]
                errors["daily_dose_mg"] = (
                    f"A daily {self.medicine} dose above {limit} mg is not plausible: check it."
                )
        else:
            if self.medicine:
                errors["medicine"] = "Only opioid substitution treatment has a medicine here."
            if self.daily_dose_mg is not None:
                errors["daily_dose_mg"] = "Only opioid substitution treatment has a daily dose here."
        if errors:
            raise ValidationError(errors)

    def is_current(self, on: date) -> bool:
        return self.started_on <= on and (self.ended_on is None or self.ended_on >= on)

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class DispensingChange(models.TextChoices):
    """Why a dispensing arrangement changed (App. C 1)."""

    START = "start", "Start of treatment"
    INTRODUCE_TAKE_HOME = "introduce_take_home", "Introduce take-home doses (demonstrated stability)"
    EXTEND_TAKE_HOME = "extend_take_home", "Extend take-home doses (continued good adherence)"
    REINSTATE_SUPERVISION = "reinstate_supervision", "Reinstate supervised dosing (deteriorating adherence)"
    REDUCE_TAKE_HOME = "reduce_take_home", "Reduce take-home doses"
    OTHER = "other", "Other"


class DispensingArrangement(models.Model):
    """How an opioid substitute is dispensed from a date on. Never edited: every change is a new row, the earlier
    rows its history. The one in force when the episode ends is closed on the exit date (ended_on, set once)."""

    episode = models.ForeignKey(
        TreatmentEpisode, on_delete=models.CASCADE, related_name="dispensing_arrangements"
    )
    effective_from = models.DateField()
    take_home_doses_per_week = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(7)], help_text="0 means every dose is supervised."
    )
    change_reason = models.CharField(max_length=32, choices=DispensingChange.choices)
    reason_note = models.TextField(help_text="Why the arrangement changed.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField(auto_now_add=True)
    ended_on = models.DateField(
        null=True, blank=True, help_text="Closed on this date because the episode ended."
    )

    class Meta:
        ordering = ["-effective_from", "-recorded_at"]
        get_latest_by = ["effective_from", "recorded_at"]
        constraints = [
            models.CheckConstraint(
                name="take_home_doses_0_to_7", condition=Q(take_home_doses_per_week__lte=7)
            ),
            models.CheckConstraint(name="dispensing_change_has_reason", condition=~Q(reason_note="")),
            models.CheckConstraint(
                name="dispensing_end_not_before_start",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("effective_from")),
            ),
        ]

    def __str__(self):
        if self.take_home_doses_per_week == 0:
            return "Supervised consumption, every dose"
        return f"{self.take_home_doses_per_week} take-home dose(s) a week"

    def clean(self):
        super().clean()
        if self.ended_on and self.effective_from and self.ended_on < self.effective_from:
            raise ValidationError({"ended_on": "A dispensing arrangement cannot end before it started."})

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    ATTENDED = "attended", "Attended"
    MISSED = "missed", "Missed (did not attend)"
    CANCELLED = "cancelled", "Cancelled"


class Appointment(models.Model):
    """A one-to-one keyworker contact; every attended one carries its ongoing-review note (§1.1)."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.CASCADE, related_name="appointments")
    keyworker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    review_note = models.TextField(
        "ongoing review note",
        blank=True,
        default="",
        help_text="What was reviewed at this contact and any change to the care plan (§1.1).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["episode", "-starts_at"]),
            # each keyworker's booked appointments, for the ones whose outcome is still to be recorded
            models.Index(
                fields=["keyworker", "starts_at"], name="appointment_booked", condition=Q(status="booked")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="attended_appointment_has_review_note",
                condition=~Q(status="attended") | ~Q(review_note=""),
            ),
        ]

    def __str__(self):
        return f"Appointment {formatting.day_and_time(self.starts_at)} ({self.get_status_display()})"

    def clean(self):
        super().clean()
        if self.status == AppointmentStatus.ATTENDED and not self.review_note.strip():
            raise ValidationError(
                {"review_note": "An attended appointment needs its ongoing-review note (§1.1)."}
            )

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class CareTeamChange(models.Model):
    """A patient moved to another keyworker, lead practitioner or team, and why. Kept as written: the record of
    who was responsible for the patient when, which a review or an incident inquiry may need."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team_changes")
    changed_on = models.DateField()
    from_team = models.ForeignKey("recovery_reviews.Team", on_delete=models.PROTECT, related_name="+")
    to_team = models.ForeignKey("recovery_reviews.Team", on_delete=models.PROTECT, related_name="+")
    from_keyworker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_keyworker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_on", "-recorded_at"]
        constraints = [
            models.CheckConstraint(name="care_team_change_has_a_reason", condition=~Q(reason="")),
        ]

    def __str__(self):
        return f"{self.patient}: care team changed on {formatting.day(self.changed_on)}"

    def changes(self) -> list[str]:
        """What changed, as sentences for the timeline (the names come with the row's select_related)."""
        said = []
        if self.from_team_id != self.to_team_id:
            said.append(f"moved from {self.from_team} to {self.to_team}")
        if self.from_keyworker_id != self.to_keyworker_id:
            said.append(f"keyworker {self.from_keyworker} → {self.to_keyworker}")
        if self.from_lead_id != self.to_lead_id:
            said.append(f"lead practitioner {self.from_lead or 'none'} → {self.to_lead or 'none'}")
        return said


class RecordCorrection(models.Model):
    """One detail of a patient or an episode corrected (a misspelt name, a mistyped entry date), with what it was,
    what it became, why and by whom. The record is changed in place, so this row is how anyone later sees that it
    was, and the first review's date may have moved with it (§1.3)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="corrections")
    episode = models.ForeignKey(
        TreatmentEpisode, on_delete=models.CASCADE, null=True, blank=True, related_name="corrections"
    )
    field = models.CharField(max_length=40)
    label = models.CharField(max_length=80)
    before = models.TextField(blank=True, default="")
    after = models.TextField(blank=True, default="")
    reason = models.TextField()
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    corrected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-corrected_at"]
        constraints = [models.CheckConstraint(name="correction_has_a_reason", condition=~Q(reason=""))]

    def __str__(self):
        return f"{self.label}: {self.before or '—'} → {self.after or '—'}"
