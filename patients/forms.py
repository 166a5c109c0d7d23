"""Forms validate and convert (CONVENTIONS.md 4): clean_* return domain values; views hand cleaned_data to a
service, which validates the record again as a whole. Messages say what is wrong and how to put it right, and
sit beside the field they are about."""

from datetime import date, datetime

from django import forms
from django.utils import timezone

from patients.models import (
    OPIOID_SUBSTITUTES,
    TOP_DAYS_28,
    TOP_RATINGS,
    TOP_SUBSTANCES,
    TOP_WEEKS,
    TOP_YES_NO,
    AppointmentStatus,
    Circumstance,
    DispensingChange,
    ExitReason,
    InterventionKind,
    Medicine,
    Substance,
    TestMethod,
    TestResult,
    TopAssessment,
    TopStage,
)
from patients.validators import normalise_nhs_number, validate_nhs_number
from recovery_reviews.access import teams_for_user
from recovery_reviews.models import Role, Team, User
from reviews.status import STATUS_LABELS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the ISO value a date input needs


def _day(day) -> str:
    """15 Jan 2026: the way dates are written across the application."""
    return f"{day.day} {day:%b %Y}"


def date_field(label=None, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=DATE, **kwargs)


class EpisodeForm(forms.Form):
    """A form about one episode: knows its dates, so it can refuse dates outside the episode."""

    def __init__(self, *args, episode, **kwargs):
        self.episode = episode
        super().__init__(*args, **kwargs)

    def _check_date(self, name: str, *, future_ok: bool = False):
        day = self.cleaned_data.get(name)
        if day is None:
            return day
        if day < self.episode.entry_date:
            raise forms.ValidationError(
                f"This is before the episode began on {_day(self.episode.entry_date)}."
            )
        if not future_ok and day > timezone.localdate():
            raise forms.ValidationError("This date is in the future.")
        return day


class CellFieldsMixin:
    """For forms laid out as a grid (the TOP, a test's results): Bootstrap classes on every widget, marked
    invalid, and described by its message, whenever an error is added to it (by the field, the form or a
    service), so that the message sits in the cell beside the input."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_fields()

    def style_fields(self):
        for field in self.fields.values():
            widget = field.widget
            if getattr(widget, "styled", False):
                continue
            widget.styled = True
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        names = [field] if field else list(getattr(error, "error_dict", {}))
        for name in names:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-describedby"] = f"error_1_{self[name].auto_id}"


# --- Caseload -------------------------------------------------------------------------------------------------


class CaseloadFilterForm(forms.Form):
    q = forms.CharField(label="Name or NHS number", required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *STATUS_LABELS.items()], required=False)
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All my teams")
    mine = forms.BooleanField(label="Only my caseload", required=False)
    week = forms.BooleanField(label="Due this week", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for_user(user)


# --- Appointment ----------------------------------------------------------------------------------------------


class AppointmentForm(EpisodeForm):
    """A keyworker contact; an attended one carries its ongoing-review note (§1.1)."""

    keyworker = forms.ModelChoiceField(queryset=None, empty_label=None)
    on = date_field("Date")
    at = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    status = forms.ChoiceField(choices=AppointmentStatus.choices, initial=AppointmentStatus.ATTENDED)
    review_note = forms.CharField(
        label="Ongoing review note (§1.1)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was reviewed at this contact, progress on the care plan, and any change agreed.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        team = self.episode.patient.team_id
        self.fields["keyworker"].queryset = User.objects.filter(
            team_id=team, role__in=[Role.KEYWORKER, Role.SENIOR_PRACTITIONER], is_active=True
        )

    def clean_on(self):
        return self._check_date("on", future_ok=True)

    def clean(self):
        data = super().clean()
        if data.get("on") and data.get("at"):
            data["starts_at"] = timezone.make_aware(datetime.combine(data["on"], data["at"]))
            if data["starts_at"] > timezone.now() and data.get("status") in (
                AppointmentStatus.ATTENDED,
                AppointmentStatus.MISSED,
            ):
                self.add_error("status", "An appointment in the future can only be booked or cancelled.")
        if data.get("status") == AppointmentStatus.ATTENDED and not data.get("review_note", "").strip():
            self.add_error("review_note", "An attended appointment needs its ongoing-review note (§1.1).")
        return data

    def service_arguments(self) -> dict:
        d = self.cleaned_data
        return {
            "keyworker": d["keyworker"],
            "starts_at": d["starts_at"],
            "status": d["status"],
            "review_note": d["review_note"],
        }


# --- Treatment Outcomes Profile -------------------------------------------------------------------------------

YES_NO_CHOICES = [("", "Not answered"), ("yes", "Yes"), ("no", "No")]


def _week_field(label):
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=7,
        error_messages={
            "min_value": "Days in a week: 0 to 7.",
            "max_value": "Days in a week: 0 to 7.",
            "invalid": "A whole number of days, 0 to 7.",
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": 7, "placeholder": "–", "inputmode": "numeric"}),
    )


def _bounded(label, top, help_text=""):
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=top,
        help_text=help_text,
        error_messages={
            "min_value": f"0 to {top}.",
            "max_value": f"0 to {top}.",
            "invalid": f"A whole number, 0 to {top}.",
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": top, "placeholder": "not answered"}),
    )


def _yes_no(label):
    return forms.TypedChoiceField(
        label=label,
        required=False,
        choices=YES_NO_CHOICES,
        coerce=lambda v: v == "yes",
        empty_value=None,
    )


def _model_label(name: str) -> str:
    return TopAssessment._meta.get_field(name).verbose_name


class TopAssessmentForm(CellFieldsMixin, EpisodeForm):
    """Every item of the Treatment Outcomes Profile, by section. An empty box is 'not answered', which is kept
    apart from 0 all the way to the database and the charts."""

    assessed_on = date_field("Date of the assessment")
    stage = forms.ChoiceField(choices=TopStage.choices)
    other_substance_name = forms.CharField(
        label="Other problem substance (name)", required=False, max_length=100
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for prefix, label, unit in TOP_SUBSTANCES:
            for week in TOP_WEEKS:
                self.fields[f"{prefix}_week{week}"] = _week_field(f"{label}, week {week}")
            self.fields[f"{prefix}_amount"] = forms.DecimalField(
                label=f"{label}: average {unit} on a using day",
                required=False,
                min_value=0,
                max_value=999,
                max_digits=6,
                decimal_places=1,
                error_messages={"max_value": "At most 999 a day: check the amount."},
                widget=forms.NumberInput(attrs={"min": 0, "step": "0.1", "placeholder": "–"}),
            )
        for name in TOP_DAYS_28:
            self.fields[name] = _bounded(_model_label(name), 28)
        for name in TOP_RATINGS:
            self.fields[name] = _bounded(_model_label(name), 20, "0 (poor) to 20 (good).")
        for name in TOP_YES_NO:
            self.fields[name] = _yes_no(_model_label(name))
        self.style_fields()

    # Names for the template, section by section.
    substances = TOP_SUBSTANCES
    weeks = TOP_WEEKS

    def substance_rows(self):
        for prefix, label, unit in TOP_SUBSTANCES:
            yield {
                "prefix": prefix,
                "label": label,
                "unit": unit,
                "weeks": [self[f"{prefix}_week{w}"] for w in TOP_WEEKS],
                "amount": self[f"{prefix}_amount"],
            }

    def section(self, *names):
        return [self[name] for name in names]

    def injecting(self):
        return self.section("injecting_days", "shared_needle", "shared_paraphernalia")

    def crime(self):
        return self.section(
            "shoplifting_days",
            "drug_selling_days",
            "theft_from_vehicle",
            "theft_other_property",
            "fraud_forgery_handling",
            "assault_violence",
        )

    def health(self):
        return self.section(
            "psychological_health",
            "physical_health",
            "quality_of_life",
            "paid_work_days",
            "education_days",
            "acute_housing_problem",
            "eviction_risk",
        )

    def clean_assessed_on(self):
        return self._check_date("assessed_on")

    def item_names(self) -> list[str]:
        return [n for n in self.fields if n not in ("assessed_on", "stage", "other_substance_name")]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if all(data.get(name) is None for name in self.item_names()):
            raise forms.ValidationError(
                "Nothing is answered. Record the answers the patient gave; leave a box empty only when that "
                "question was not answered."
            )
        for prefix, _label, _unit in TOP_SUBSTANCES:
            weeks = [data.get(f"{prefix}_week{w}") for w in TOP_WEEKS]
            amount = data.get(f"{prefix}_amount")
            if amount and all(w == 0 for w in weeks):
                self.add_error(
                    f"{prefix}_amount",
                    "No days of use in the four weeks, so there is no amount on a using day: leave it empty.",
                )
        other_used = any(data.get(f"other_week{w}") for w in TOP_WEEKS) or data.get("other_amount")
        if other_used and not data.get("other_substance_name", "").strip():
            self.add_error("other_substance_name", "Name the other problem substance whose use is recorded.")
        if data.get("injecting_days") == 0:
            for name in ("shared_needle", "shared_paraphernalia"):
                if data.get(name):
                    self.add_error(
                        name, "No days of injecting are recorded, so this cannot be yes: check both answers."
                    )
        return data

    def answers(self) -> dict:
        d = self.cleaned_data
        answers = {name: d.get(name) for name in self.item_names()}
        answers["other_substance_name"] = d.get("other_substance_name", "").strip()
        return answers


# --- Drug tests -----------------------------------------------------------------------------------------------


class DrugTestForm(EpisodeForm):
    taken_on = date_field("Date the sample was taken")
    method = forms.ChoiceField(choices=TestMethod.choices, initial=TestMethod.ORAL_FLUID)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_taken_on(self):
        return self._check_date("taken_on")


class DrugTestResultForm(CellFieldsMixin, forms.Form):
    """One substance of the sample. A row without a result is not part of the test."""

    substance = forms.ChoiceField(choices=[("", "—"), *Substance.choices], required=False)
    result = forms.ChoiceField(choices=[("", "Not tested"), *TestResult.choices], required=False)
    expected_because_prescribed = forms.BooleanField(label="Prescribed", required=False)

    def clean(self):
        data = super().clean()
        if data.get("result") and not data.get("substance"):
            self.add_error("substance", "Choose the substance this result is for.")
        if data.get("expected_because_prescribed") and not data.get("result"):
            self.add_error("result", "Give the result, or untick 'prescribed'.")
        return data


class BaseResultFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = {}
        for form in self.forms:
            substance, result = form.cleaned_data.get("substance"), form.cleaned_data.get("result")
            if not result:
                continue
            if substance in seen:
                form.add_error("substance", "This substance already has a result in this test.")
            seen[substance] = form
        if not seen:
            raise forms.ValidationError("Give the result for at least one substance.")

    def results(self) -> list[dict]:
        return [
            {
                "substance": f.cleaned_data["substance"],
                "result": f.cleaned_data["result"],
                "expected_because_prescribed": f.cleaned_data["expected_because_prescribed"],
            }
            for f in self.forms
            if f.cleaned_data.get("result")
        ]


DrugTestResultFormSet = forms.formset_factory(
    DrugTestResultForm, formset=BaseResultFormSet, extra=0, max_num=20
)

# The panel most services test for; the keyworker can change any row or add one.
DEFAULT_PANEL = (
    Substance.HEROIN,
    Substance.METHADONE,
    Substance.BUPRENORPHINE,
    Substance.COCAINE,
    Substance.BENZODIAZEPINES,
    Substance.CANNABIS,
    Substance.AMPHETAMINES,
)


def result_rows_initial(prescribed: set[str]) -> list[dict]:
    """One row per substance of the usual panel; prescribed medicines are ticked as expected to be present."""
    return [{"substance": s, "expected_because_prescribed": s in prescribed} for s in DEFAULT_PANEL]


def prescribed_substances(interventions, on: date) -> set[str]:
    return {i.medicine for i in interventions if i.kind == InterventionKind.OST and i.is_current(on)} & {
        str(s) for s in OPIOID_SUBSTITUTES
    }


# --- Pharmacy reports -----------------------------------------------------------------------------------------


def _parse_day(token: str) -> date:
    if "/" in token:
        day, month, year = token.split("/")
        year = int(year)
        return date(year + 2000 if year < 100 else year, int(month), int(day))
    return date.fromisoformat(token)


class MissedDatesField(forms.CharField):
    """Dates of missed doses, one per line or separated by commas, as DD/MM/YYYY or YYYY-MM-DD."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. 05/02/2026, 06/02/2026, 07/02/2026"})

    def to_python(self, value):
        text = super().to_python(value) or ""
        days, bad = [], []
        for token in text.replace(",", " ").replace(";", " ").split():
            try:
                days.append(_parse_day(token))
            except ValueError:
                bad.append(token)
        if bad:
            raise forms.ValidationError(
                f"Not a date: {', '.join(bad)}. Write each date as DD/MM/YYYY, separated by commas or new lines."
            )
        return sorted(set(days))


class PharmacyReportForm(EpisodeForm):
    pharmacy_name = forms.CharField(max_length=200)
    period_start = date_field("First day of the period")
    period_end = date_field("Last day of the period")
    doses_due = forms.IntegerField(min_value=0, max_value=400)
    supervised_doses_taken = forms.IntegerField(min_value=0, max_value=400, label="Supervised doses taken")
    take_home_doses_collected = forms.IntegerField(
        min_value=0, max_value=400, initial=0, label="Doses collected to take home"
    )
    missed_dates = MissedDatesField(
        label="Dates of missed doses",
        required=False,
        help_text="Three or more in a row is a safety event: tolerance may be lost.",
    )
    concerns = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    prescriber_informed_on = date_field(
        "Prescriber told on",
        required=False,
        help_text="After three or more missed doses in a row: when the pharmacist or you told the prescriber.",
    )

    def clean_period_start(self):
        return self._check_date("period_start")

    def clean_prescriber_informed_on(self):
        day = self.cleaned_data.get("prescriber_informed_on")
        if day and day > timezone.localdate():
            raise forms.ValidationError("This date is in the future.")
        return day

    def clean(self):
        data = super().clean()
        start, end, missed = data.get("period_start"), data.get("period_end"), data.get("missed_dates")
        if start and end and end < start:
            self.add_error("period_end", "The period cannot end before it starts.")
        elif start and end and missed:
            outside = [d for d in missed if not start <= d <= end]
            if outside:
                self.add_error(
                    "missed_dates",
                    "Missed doses must fall within the report's period "
                    f"({start:%d/%m/%Y} to {end:%d/%m/%Y}): {', '.join(f'{d:%d/%m/%Y}' for d in outside)} "
                    + ("does not." if len(outside) == 1 else "do not."),
                )
        counts = [data.get(k) for k in ("doses_due", "supervised_doses_taken", "take_home_doses_collected")]
        if None not in counts and "missed_dates" not in self.errors:
            due, taken, collected = counts
            if taken + collected > due:
                self.add_error(
                    "supervised_doses_taken", "Doses taken and collected cannot be more than the doses due."
                )
            elif taken + collected + len(missed or []) > due:
                self.add_error(
                    "missed_dates",
                    f"{len(missed)} missed, {taken} taken and {collected} collected is more than the {due} doses due.",
                )
        return data


# --- Changes of treatment -------------------------------------------------------------------------------------


class DispensingChangeForm(EpisodeForm):
    """A new dispensing arrangement with its reason (App. C 1); the old ones stay as history."""

    effective_from = date_field("From")
    take_home_doses_per_week = forms.IntegerField(
        label="Take-home doses a week",
        min_value=0,
        max_value=7,
        help_text="0 means every dose is taken under supervision.",
        error_messages={"max_value": "At most 7 a week.", "min_value": "0 to 7."},
    )
    change_reason = forms.ChoiceField(label="Why", choices=DispensingChange.choices)
    reason_note = forms.CharField(
        label="Reason in your words",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The evidence for the change: adherence, stability, tests, pharmacy reports.",
    )

    def clean_effective_from(self):
        return self._check_date("effective_from", future_ok=True)


class CircumstanceForm(EpisodeForm):
    """A circumstance that calls for earlier review (§1.6)."""

    code = forms.ChoiceField(label="Circumstance", choices=Circumstance.choices)
    started_on = date_field("Since")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_started_on(self):
        return self._check_date("started_on")


class EndForm(forms.Form):
    """The end of something that had a start: a circumstance or an intervention."""

    ended_on = date_field("Ended on")

    def __init__(self, *args, started_on: date, **kwargs):
        self.started_on = started_on
        super().__init__(*args, **kwargs)

    def clean_ended_on(self):
        day = self.cleaned_data["ended_on"]
        if day < self.started_on:
            raise forms.ValidationError(f"This is before it started on {_day(self.started_on)}.")
        if day > timezone.localdate():
            raise forms.ValidationError("This date is in the future.")
        return day


class InterventionForm(EpisodeForm):
    kind = forms.ChoiceField(choices=InterventionKind.choices)
    medicine = forms.ChoiceField(choices=[("", "—"), *Medicine.choices], required=False)
    daily_dose_mg = forms.DecimalField(
        label="Daily dose (mg)", required=False, min_value=0.01, max_digits=6, decimal_places=2
    )
    started_on = date_field("Started on")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_started_on(self):
        return self._check_date("started_on", future_ok=True)


class EpisodeExitForm(EpisodeForm):
    exit_date = date_field("Date treatment ended")
    exit_reason = forms.ChoiceField(choices=[("", "—"), *ExitReason.choices])

    def clean_exit_date(self):
        return self._check_date("exit_date")


class _EpisodeStartFields(forms.Form):
    """What starts a treatment episode, and with it the review schedule (§1.3)."""

    entry_date = date_field(
        "Entered treatment on", help_text="The first strategic review is due within 3 months."
    )
    primary_drug = forms.ChoiceField(label="Primary problem drug", choices=Substance.choices)
    other_substances = forms.MultipleChoiceField(
        label="Other problem substances (§2.10)",
        choices=Substance.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    co_morbidities = forms.CharField(
        label="Co-morbidities (§2.10)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    lead_practitioner = forms.ModelChoiceField(
        queryset=None, required=False, help_text="The senior practitioner who leads strategic reviews (§2.5)."
    )

    def clean_entry_date(self):
        day = self.cleaned_data["entry_date"]
        if day > timezone.localdate():
            raise forms.ValidationError("This date is in the future.")
        return day


class EpisodeOpenForm(_EpisodeStartFields):
    """A new treatment episode for a patient whose last one has ended."""

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_practitioner"].queryset = User.objects.filter(
            team_id=patient.team_id, role=Role.SENIOR_PRACTITIONER, is_active=True
        )


class _StaffChoiceField(forms.ModelChoiceField):
    """Staff named with their team when the person choosing works across teams, and marked when they have left."""

    def __init__(self, *args, with_team: bool = False, **kwargs):
        self.with_team = with_team
        super().__init__(*args, **kwargs)

    def label_from_instance(self, user):
        left = "" if user.is_active else "no longer active"
        if self.with_team:
            return f"{user} ({user.team}{', ' + left if left else ''})"
        return f"{user} ({left})" if left else str(user)


class _PatientFields(forms.Form):
    """Who the patient is, as registered and as corrected."""

    given_name = forms.CharField(
        label="Given name", max_length=100, error_messages={"required": "Give the patient's given name."}
    )
    family_name = forms.CharField(
        label="Family name", max_length=100, error_messages={"required": "Give the patient's family name."}
    )
    date_of_birth = date_field("Date of birth")
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=16,
        required=False,
        validators=[validate_nhs_number],
        help_text="Optional but strongly advised: it is how a second registration of the same person is caught. "
        "Spaces are fine, as in 943 476 5919.",
    )

    def clean_date_of_birth(self):
        day = self.cleaned_data["date_of_birth"]
        if day > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if day.year < 1900:
            raise forms.ValidationError("Check the year: a date of birth before 1900 cannot be right.")
        return day

    def clean_nhs_number(self):
        return normalise_nhs_number(self.cleaned_data["nhs_number"])


class PatientRegisterForm(_PatientFields, _EpisodeStartFields):
    """Someone entering treatment with the service: who they are, who looks after them, and the episode that
    starts their review schedule. Saved together, or not at all."""

    team = forms.ModelChoiceField(queryset=None, empty_label=None)
    keyworker = _StaffChoiceField(
        queryset=None, error_messages={"required": "Choose the patient's keyworker."}
    )
    different_person = forms.BooleanField(
        label="This is a different person from the patient already registered with the same name and date of birth",
        required=False,
    )

    field_order = [
        "given_name",
        "family_name",
        "date_of_birth",
        "nhs_number",
        "team",
        "keyworker",
        "lead_practitioner",
        "entry_date",
        "primary_drug",
        "other_substances",
        "co_morbidities",
        "different_person",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = teams_for_user(user)
        team_ids = [team.pk for team in teams]
        several = len(team_ids) > 1
        staff = User.objects.filter(team_id__in=team_ids, is_active=True).select_related("team")
        self.fields["team"].queryset = teams
        self.fields["keyworker"] = _StaffChoiceField(
            queryset=staff.filter(role=Role.KEYWORKER),
            with_team=several,
            error_messages=self.fields["keyworker"].error_messages,
        )
        self.fields["lead_practitioner"] = _StaffChoiceField(
            queryset=staff.filter(role=Role.SENIOR_PRACTITIONER),
            with_team=several,
            required=False,
            label="Lead practitioner",
            help_text=self.fields["lead_practitioner"].help_text,
        )
        if user.role == Role.KEYWORKER:
            self.fields["keyworker"].initial = user.pk
        if user.team_id in team_ids:
            self.fields["team"].initial = user.team_id
        if not self.data.get("different_person"):
            self.fields["different_person"].widget = forms.HiddenInput()

    def ask_about_a_namesake(self) -> None:
        """Show the confirmation, which stays hidden until a namesake has been found."""
        self.fields["different_person"].widget = forms.CheckboxInput()

    def clean(self):
        data = super().clean()
        team = data.get("team")
        for name in ("keyworker", "lead_practitioner"):
            person = data.get(name)
            if team and person and person.team_id != team.pk:
                self.add_error(
                    name,
                    f"{person} works in {person.team}: choose someone in {team}, or choose {person.team}.",
                )
        born, entered = data.get("date_of_birth"), data.get("entry_date")
        if born and entered and entered < born:
            self.add_error("entry_date", "This is before the patient's date of birth: check both dates.")
        return data


class PatientMoveForm(forms.Form):
    """A new keyworker, lead practitioner or team for a patient, with the reason."""

    team = forms.ModelChoiceField(queryset=None, empty_label=None)
    keyworker = _StaffChoiceField(queryset=None)
    lead_practitioner = _StaffChoiceField(
        queryset=None,
        required=False,
        empty_label="(as it is)",
        label="Lead practitioner",
        help_text="The senior practitioner who leads this patient's strategic reviews (§2.5).",
    )
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why: the next keyworker and any later review will want to know."},
        help_text="For example: the keyworker has left; the patient has moved to the South area.",
    )

    def __init__(self, *args, user, patient, episode, **kwargs):
        super().__init__(*args, **kwargs)
        teams = teams_for_user(user) if user.role == Role.MANAGER else Team.objects.filter(pk=patient.team_id)
        team_ids = list(teams.values_list("pk", flat=True))
        several = len(team_ids) > 1
        staff = User.objects.filter(team_id__in=team_ids, is_active=True).select_related("team")
        self.fields["team"].queryset = teams
        self.fields["keyworker"].queryset = staff.filter(role=Role.KEYWORKER)
        self.fields["keyworker"].with_team = several
        if episode is None:
            del self.fields["lead_practitioner"]  # no open episode: no strategic reviews to lead
        else:
            self.fields["lead_practitioner"].queryset = staff.filter(role=Role.SENIOR_PRACTITIONER)
            self.fields["lead_practitioner"].with_team = several
        if not several:
            self.fields["team"].disabled = True  # a senior practitioner moves patients within their team
        self.initial.setdefault("team", patient.team_id)
        self.initial.setdefault("keyworker", patient.keyworker_id)
        if episode is not None:
            self.initial.setdefault("lead_practitioner", episode.lead_practitioner_id)


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(
        label="What was wrong",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what was wrong, for example: recorded against the wrong patient."},
        help_text="For example: recorded against the wrong patient; the pharmacy sent a corrected report.",
    )


class DetailsCorrectionForm(_PatientFields, _EpisodeStartFields):
    """The patient's details and their episode's, to correct; each change is kept with the reason."""

    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why, for example: the date of entry was mistyped at registration."},
        help_text="Kept with each change, on the timeline.",
    )

    field_order = [
        "given_name",
        "family_name",
        "date_of_birth",
        "nhs_number",
        "entry_date",
        "primary_drug",
        "other_substances",
        "co_morbidities",
        "reason",
    ]

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["lead_practitioner"]  # changed with the care team, not as a correction
        if episode is None:
            for name in ("entry_date", "primary_drug", "other_substances", "co_morbidities"):
                del self.fields[name]
        else:
            self.fields["entry_date"].help_text = "Correcting it moves the first strategic review (§1.3)."


class PrescriberInformedForm(forms.Form):
    informed_on = date_field(
        "The prescriber was told on", error_messages={"required": "Give the date the prescriber was told."}
    )


class CaseloadHandoverForm(forms.Form):
    """Every patient of one keyworker in a team, to another keyworker of that team."""

    from_keyworker = _StaffChoiceField(queryset=None, label="From", with_team=True)
    to_keyworker = _StaffChoiceField(queryset=None, label="To", with_team=True)
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why: the next keyworker and any later review will want to know."},
        help_text="Kept on each patient's timeline. For example: Tom has left the service.",
    )

    def __init__(self, *args, team_ids, **kwargs):
        super().__init__(*args, **kwargs)
        keyworkers = (
            User.objects.filter(role=Role.KEYWORKER, team_id__in=team_ids)
            .select_related("team")
            .order_by("team__name", "last_name", "first_name")
        )
        self.fields["from_keyworker"].queryset = keyworkers
        self.fields["to_keyworker"].queryset = keyworkers.filter(is_active=True)

    def clean(self):
        data = super().clean()
        giver, taker = data.get("from_keyworker"), data.get("to_keyworker")
        if giver and taker and giver.team_id != taker.team_id:
            self.add_error(
                "to_keyworker", f"{taker} works in {taker.team}: choose a keyworker in {giver.team}."
            )
        return data


class AppointmentOutcomeForm(forms.Form):
    status = forms.ChoiceField(
        label="What happened",
        choices=[(v, label) for v, label in AppointmentStatus.choices if v != AppointmentStatus.BOOKED],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what happened: attended, missed or cancelled."},
    )
    review_note = forms.CharField(
        label="Ongoing review note (§1.1)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For an attended appointment: what was reviewed, progress on the care plan, any change agreed.",
    )

    def clean(self):
        data = super().clean()
        if data.get("status") == AppointmentStatus.ATTENDED and not data.get("review_note", "").strip():
            self.add_error("review_note", "An attended appointment needs its ongoing-review note (§1.1).")
        return data
