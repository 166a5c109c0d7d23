"""The objective evidence a strategic review weighs (§2.9): Treatment Outcomes Profile, drug tests and
pharmacy reports."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from patients import missed_doses
from patients.models.choices import CoreDomain, Substance
from patients.models.record import TreatmentEpisode
from recovery_reviews import formatting

# --- Entered in error --------------------------------------------------------------------------------------


class InEffectManager(models.Manager):
    """Only what stands: an entry marked as entered in error is kept, but no reading of the evidence counts it
    (the compilations, the schedule, the charts, the dashboards all read through this default manager)."""

    def get_queryset(self):
        return super().get_queryset().filter(entered_in_error_at__isnull=True)


class EnteredInError(models.Model):
    """An entry recorded by mistake (the wrong patient, a typing slip) is never deleted or overwritten: it is
    marked, with who, when and why, stays on the timeline struck through, and stops counting as evidence."""

    entered_in_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    entered_in_error_reason = models.TextField(blank=True, default="", db_default="", editable=False)

    objects = InEffectManager()
    with_errors = models.Manager()  # noqa: DJ012 - a second manager, which ruff takes for a field

    class Meta:
        abstract = True
        base_manager_name = "with_errors"  # a result's or a missed dose's parent is always reachable

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None


def entered_in_error_constraint(model: str) -> models.CheckConstraint:
    """Marked with its reason and who marked it, or not marked at all."""
    return models.CheckConstraint(
        name=f"{model}_error_marked_with_reason",
        condition=Q(
            entered_in_error_at__isnull=True, entered_in_error_by__isnull=True, entered_in_error_reason=""
        )
        | (
            Q(entered_in_error_at__isnull=False, entered_in_error_by__isnull=False)
            & ~Q(entered_in_error_reason="")
        ),
    )


# --- Treatment Outcomes Profile ------------------------------------------------------------------------------

# Section 1 substances: (field prefix, label, unit of the average amount on a using day).
TOP_SUBSTANCES = (
    ("alcohol", "Alcohol", "units"),
    ("opiates", "Opiates (illicit)", "grams"),
    ("crack", "Crack", "grams"),
    ("cocaine", "Cocaine", "grams"),
    ("amphetamines", "Amphetamines", "grams"),
    ("cannabis", "Cannabis", "spliffs"),
    ("other", "Other problem substance", "grams"),
)
TOP_WEEKS = (4, 3, 2, 1)  # as the form prints them; week 1 is the most recent
TOP_DAYS_28 = ("injecting_days", "shoplifting_days", "drug_selling_days", "paid_work_days", "education_days")
TOP_RATINGS = ("psychological_health", "physical_health", "quality_of_life")
TOP_YES_NO = (
    "shared_needle",
    "shared_paraphernalia",
    "theft_from_vehicle",
    "theft_other_property",
    "fraud_forgery_handling",
    "assault_violence",
    "acute_housing_problem",
    "eviction_risk",
)
# The four sections of the form map onto the four core domains (docs/design.md, Domain).
TOP_SECTION_DOMAINS = {
    1: CoreDomain.DRUG_ALCOHOL_USE,
    2: CoreDomain.DRUG_ALCOHOL_USE,
    3: CoreDomain.OFFENDING,
    4: CoreDomain.SOCIAL_FUNCTIONING,
}
TOP_MAX_AMOUNT = 999


def _week_days(label):
    return models.PositiveSmallIntegerField(label, null=True, blank=True, validators=[MaxValueValidator(7)])


def _amount(label):
    return models.DecimalField(
        label,
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MaxValueValidator(TOP_MAX_AMOUNT)],
    )


def _days_28(label):
    return models.PositiveSmallIntegerField(label, null=True, blank=True, validators=[MaxValueValidator(28)])


def _rating(label):
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MaxValueValidator(20)], help_text="0 (poor) to 20 (good)."
    )


def _yes_no(label):
    return models.BooleanField(label, null=True, blank=True)


class TopStage(models.TextChoices):
    START = "start", "Treatment start"
    REVIEW = "review", "Review"
    EXIT = "exit", "Treatment exit"
    POST_EXIT = "post_exit", "Post-treatment exit"


def _top_range_constraints():
    """Database constraints for every item of the form: nothing out of range can be stored by any path."""
    constraints = []
    for prefix, _label, _unit in TOP_SUBSTANCES:
        for week in TOP_WEEKS:
            name = f"{prefix}_week{week}"
            constraints.append(
                models.CheckConstraint(
                    name=f"top_{name}_0_7",
                    condition=Q(**{f"{name}__lte": 7}) | Q(**{f"{name}__isnull": True}),
                )
            )
        name = f"{prefix}_amount"
        constraints.append(
            models.CheckConstraint(
                name=f"top_{name}_range",
                condition=Q(**{f"{name}__isnull": True})
                | Q(**{f"{name}__gte": 0, f"{name}__lte": TOP_MAX_AMOUNT}),
            )
        )
    for name in TOP_DAYS_28:
        constraints.append(
            models.CheckConstraint(
                name=f"top_{name}_0_28", condition=Q(**{f"{name}__lte": 28}) | Q(**{f"{name}__isnull": True})
            )
        )
    for name in TOP_RATINGS:
        constraints.append(
            models.CheckConstraint(
                name=f"top_{name}_0_20", condition=Q(**{f"{name}__lte": 20}) | Q(**{f"{name}__isnull": True})
            )
        )
    return constraints


class TopAssessment(EnteredInError):
    """One completed Treatment Outcomes Profile. Every item may be left unanswered (null), which is not zero."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.CASCADE, related_name="top_assessments")
    assessed_on = models.DateField()
    stage = models.CharField(max_length=16, choices=TopStage.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    # Section 1: substance use, days used in each of the past four weeks and the average amount on a using day.
    alcohol_week4, alcohol_week3, alcohol_week2, alcohol_week1 = (
        _week_days(f"Alcohol, week {w}") for w in TOP_WEEKS
    )
    alcohol_amount = _amount("Alcohol, units on a using day")
    opiates_week4, opiates_week3, opiates_week2, opiates_week1 = (
        _week_days(f"Opiates, week {w}") for w in TOP_WEEKS
    )
    opiates_amount = _amount("Opiates, grams on a using day")
    crack_week4, crack_week3, crack_week2, crack_week1 = (_week_days(f"Crack, week {w}") for w in TOP_WEEKS)
    crack_amount = _amount("Crack, grams on a using day")
    cocaine_week4, cocaine_week3, cocaine_week2, cocaine_week1 = (
        _week_days(f"Cocaine, week {w}") for w in TOP_WEEKS
    )
    cocaine_amount = _amount("Cocaine, grams on a using day")
    amphetamines_week4, amphetamines_week3, amphetamines_week2, amphetamines_week1 = (
        _week_days(f"Amphetamines, week {w}") for w in TOP_WEEKS
    )
    amphetamines_amount = _amount("Amphetamines, grams on a using day")
    cannabis_week4, cannabis_week3, cannabis_week2, cannabis_week1 = (
        _week_days(f"Cannabis, week {w}") for w in TOP_WEEKS
    )
    cannabis_amount = _amount("Cannabis, spliffs on a using day")
    other_substance_name = models.CharField("Other problem substance", max_length=100, blank=True, default="")
    other_week4, other_week3, other_week2, other_week1 = (
        _week_days(f"Other substance, week {w}") for w in TOP_WEEKS
    )
    other_amount = _amount("Other substance, amount on a using day")

    # Section 2: injecting risk behaviour.
    injecting_days = _days_28("Days injected (past 4 weeks)")
    shared_needle = _yes_no("Injected with a needle or syringe used by someone else")
    shared_paraphernalia = _yes_no("Injected with a spoon, water or filter used by someone else")

    # Section 3: crime.
    shoplifting_days = _days_28("Days of shoplifting")
    drug_selling_days = _days_28("Days of selling drugs")
    theft_from_vehicle = _yes_no("Theft from or of a vehicle")
    theft_other_property = _yes_no("Other property theft or burglary")
    fraud_forgery_handling = _yes_no("Fraud, forgery or handling stolen goods")
    assault_violence = _yes_no("Committed assault or violence")

    # Section 4: health and social functioning.
    psychological_health = _rating("Psychological health")
    physical_health = _rating("Physical health")
    quality_of_life = _rating("Overall quality of life")
    paid_work_days = _days_28("Days of paid work")
    education_days = _days_28("Days attended college or school")
    acute_housing_problem = _yes_no("Acute housing problem")
    eviction_risk = _yes_no("At risk of eviction")

    class Meta(EnteredInError.Meta):
        ordering = ["-assessed_on"]
        indexes = [models.Index(fields=["episode", "assessed_on"])]
        constraints = [*_top_range_constraints(), entered_in_error_constraint("top")]

    def __str__(self):
        return f"TOP {self.get_stage_display().lower()} {formatting.day(self.assessed_on)}"

    def clean(self):
        super().clean()
        if self.other_substance_name == "" and any(
            getattr(self, f"other_week{w}") not in (None, 0) for w in TOP_WEEKS
        ):
            raise ValidationError(
                {"other_substance_name": "Name the other problem substance whose use is recorded."}
            )

    def days_used(self, prefix: str) -> int | None:
        """Days used in the past 28 (0-28), or None when any week was not answered."""
        weeks = [getattr(self, f"{prefix}_week{w}") for w in TOP_WEEKS]
        return None if any(w is None for w in weeks) else sum(weeks)

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


# --- Drug tests ------------------------------------------------------------------------------------------------


class TestMethod(models.TextChoices):
    URINE = "urine", "Urine"
    ORAL_FLUID = "oral_fluid", "Oral fluid (saliva)"
    BREATH = "breath", "Breath"
    SWEAT = "sweat", "Sweat"
    OTHER = "other", "Other"


class TestResult(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    INCONCLUSIVE = "inconclusive", "Inconclusive / invalid sample"


class DrugTest(EnteredInError):
    """A sample tested for several substances (§2.9: compliance, stopping problem use, corroborating self-report)."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.CASCADE, related_name="drug_tests")
    taken_on = models.DateField()
    method = models.CharField(max_length=16, choices=TestMethod.choices)
    note = models.TextField(blank=True, default="")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    # The episode's team and keyworker, copied so that a team's recent tests are read newest first from an index
    # (the caseload's safety events, patients.selectors.recent_safety_events), not found episode by episode. Kept
    # equal to the episode's by database triggers (migration patients 0015), as the episode's own are kept equal
    # to the patient's: set on every insert or change of a test and followed when the episode's change, whatever
    # path makes the change. Never set by hand.
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

    class Meta(EnteredInError.Meta):
        ordering = ["-taken_on"]
        indexes = [
            models.Index(fields=["episode", "taken_on"]),
            # The tests that stand, by team and by keyworker and then date: a quiet scope's recent tests alone.
            models.Index(
                fields=["team", "taken_on"],
                name="drug_test_team_recent",
                condition=Q(entered_in_error_at=None),
            ),
            models.Index(
                fields=["keyworker", "taken_on"],
                name="drug_test_keyworker_recent",
                condition=Q(entered_in_error_at=None),
            ),
        ]
        constraints = [entered_in_error_constraint("drug_test")]

    def __str__(self):
        return f"{self.get_method_display()} test {formatting.day(self.taken_on)}"

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class DrugTestResult(models.Model):
    test = models.ForeignKey(DrugTest, on_delete=models.CASCADE, related_name="results")
    substance = models.CharField(max_length=32, choices=Substance.choices)
    result = models.CharField(max_length=16, choices=TestResult.choices)
    expected_because_prescribed = models.BooleanField(
        default=False, help_text="The substance is prescribed, so a positive result is expected."
    )

    class Meta:
        ordering = ["substance"]
        constraints = [
            models.UniqueConstraint(fields=["test", "substance"], name="one_result_per_substance_per_test"),
        ]

    def __str__(self):
        return f"{self.get_substance_display()}: {self.get_result_display()}"

    @property
    def is_unexpected(self) -> bool:
        """A positive for something not prescribed, or a negative for a prescribed medicine (non-compliance)."""
        if self.result == TestResult.POSITIVE:
            return not self.expected_because_prescribed
        return self.result == TestResult.NEGATIVE and self.expected_because_prescribed


# --- Pharmacy reports ------------------------------------------------------------------------------------------

# Three or more consecutive missed doses of an opioid substitute: tolerance may be lost and the prescriber must
# be told before dosing resumes (docs/design.md, Domain; App. C 1 deterioration of adherence).
MISSED_DOSE_SAFETY_RUN = missed_doses.SAFETY_RUN


class PharmacyReport(EnteredInError):
    """A dispensing pharmacist's report of one period's doses (§2.9)."""

    episode = models.ForeignKey(TreatmentEpisode, on_delete=models.CASCADE, related_name="pharmacy_reports")
    pharmacy_name = models.CharField(max_length=200)
    period_start = models.DateField()
    period_end = models.DateField()
    doses_due = models.PositiveSmallIntegerField()
    supervised_doses_taken = models.PositiveSmallIntegerField()
    take_home_doses_collected = models.PositiveSmallIntegerField(default=0)
    concerns = models.TextField(blank=True, default="")
    # Longest run of consecutive missed days within this report, as the pharmacist reported them (derived from the
    # missed-dose dates when the report is recorded, patients.services.pharmacy_report_record; never changed).
    missed_dose_run = models.PositiveSmallIntegerField(default=0)
    # The safety event this report owns, read across the episode's reports (docs/design.md rule 4b; the owner is
    # the report holding the run's third missed day, patients/missed_doses.py): the run's length (0 when it owns
    # none), its first missed day, and when the prescriber was told of it (this report's date, or another report
    # of the run's on or after the third day). Derived, never entered: stored again by
    # patients.services.safety_events_refresh whenever a report of the episode is recorded, marked entered in
    # error or its prescriber told, so that safety events are found by an indexed filter (pharmacy_safety_events).
    safety_run = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    safety_run_from = models.DateField(null=True, blank=True, editable=False)
    safety_run_told_on = models.DateField(null=True, blank=True, editable=False)
    # After a safety event the prescriber must be told before dosing resumes (tolerance may be lost): when they
    # were, and who recorded it (empty when the pharmacist's report said so).
    prescriber_informed_on = models.DateField("Prescriber told on", null=True, blank=True)
    prescriber_informed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(EnteredInError.Meta):
        ordering = ["-period_end"]
        indexes = [
            models.Index(fields=["episode", "period_end"]),
            # Keyed by date then id, so that the newest twenty come in order however many share a day (patients
            # 0018).
            models.Index(
                fields=["period_end", "id"], name="pharmacy_safety_events", condition=Q(safety_run__gte=3)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="pharmacy_period_in_order", condition=Q(period_end__gte=F("period_start"))
            ),
            models.CheckConstraint(
                name="pharmacy_doses_taken_within_due",
                condition=Q(supervised_doses_taken__lte=F("doses_due") - F("take_home_doses_collected")),
            ),
            models.CheckConstraint(
                name="pharmacy_prescriber_told_within_or_after_period",
                condition=Q(prescriber_informed_on__isnull=True)
                | Q(prescriber_informed_on__gte=F("period_start")),
            ),
            models.CheckConstraint(
                name="pharmacy_safety_run_owned",
                condition=Q(safety_run=0, safety_run_from__isnull=True, safety_run_told_on__isnull=True)
                | Q(safety_run__gte=3, safety_run_from__isnull=False),
            ),
            entered_in_error_constraint("pharmacy"),
        ]

    def __str__(self):
        return f"{self.pharmacy_name}, {formatting.day_short(self.period_start)} to {formatting.day(self.period_end)}"

    def clean(self):
        super().clean()
        errors = {}
        if self.period_start and self.period_end:
            if self.period_end < self.period_start:
                errors["period_end"] = "The period cannot end before it starts."
            elif self.period_end - self.period_start > timedelta(days=92):
                errors["period_end"] = "A report covers at most three months: split longer periods."
        if (
            self.doses_due is not None
            and self.supervised_doses_taken is not None
            and self.supervised_doses_taken + (self.take_home_doses_collected or 0) > self.doses_due
        ):
            errors["supervised_doses_taken"] = "Doses taken and collected cannot be more than the doses due."
        told = self.prescriber_informed_on
        if told and self.period_start and told < self.period_start:
            errors["prescriber_informed_on"] = (
                f"This is before the report's period began on {formatting.day(self.period_start)}: check the date."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_safety_event(self) -> bool:
        """This report owns a safety event: a run of three or more missed doses, read across the episode's
        reports, whose third day it holds (docs/design.md rule 4b)."""
        return self.safety_run >= MISSED_DOSE_SAFETY_RUN

    @property
    def prescriber_still_to_be_told(self) -> bool:
        """The safety event this report owns is not yet told to the prescriber, on this report or another of
        the run (patients/missed_doses.py)."""
        return self.is_safety_event and self.safety_run_told_on is None

    def get_additional_data(self):
        return {"patient_id": self.episode.patient_id}


class MissedDose(models.Model):
    report = models.ForeignKey(PharmacyReport, on_delete=models.CASCADE, related_name="missed_doses")
    missed_on = models.DateField()

    class Meta:
        ordering = ["missed_on"]
        constraints = [
            models.UniqueConstraint(fields=["report", "missed_on"], name="one_missed_dose_per_day")
        ]

    def __str__(self):
        return f"Missed {formatting.day(self.missed_on)}"


def longest_missed_run(days) -> int:
    """The longest run of consecutive calendar days in `days` (any iterable of dates)."""
    return missed_doses.longest_run(days)
