"""The course of treatment: appointments and their outcome (§1.1), changes of dispensing (App. C 1), circumstances
that call for earlier review (§1.6), interventions, the end of either, and an episode's end and a new one."""

from datetime import date, datetime

from django import forms
from django.utils import timezone

from patients.forms.base import EpisodeForm, date_field
from patients.models import (
    AppointmentStatus,
    Circumstance,
    DispensingChange,
    ExitReason,
    InterventionKind,
    Medicine,
    Substance,
)
from patients.models.leaving import RelapseRisk, exit_safety_check_errors
from recovery_reviews import formatting
from recovery_reviews.models import Role, User

# --- Appointments ---------------------------------------------------------------------------------------------


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
            raise forms.ValidationError(f"This is before it started on {formatting.day(self.started_on)}.")
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


YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no_field(label: str, help_text: str) -> forms.TypedChoiceField:
    """A yes/no answer with nothing chosen at first, so that it is answered rather than taken as given."""
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda answer: answer == "yes",
        empty_value=None,
        required=False,  # required unless the exit reason says otherwise: see clean()
        widget=forms.RadioSelect,
        help_text=help_text,
    )


NOT_ASKED_AFTER = (
    "Not needed when the person died, or was transferred to another service or to custody (that service takes "
    "over)."
)


class EpisodeExitForm(EpisodeForm):
    """Leaving treatment as a safety check (Intro, App. B): there is a brief raised risk of death just after
    treatment ends, so before the episode ends the relapse risk is judged and the risk of death, and the skills to
    reduce it, are discussed with the patient. A "no" says why. The names are the episode's fields, so that the
    service's errors come back beside them."""

    exit_date = date_field("Date treatment ended")
    exit_reason = forms.ChoiceField(choices=[("", "—"), *ExitReason.choices])
    exit_relapse_risk = forms.ChoiceField(
        label="Relapse risk",
        choices=RelapseRisk.choices,
        required=False,  # required unless the person died: see clean()
        widget=forms.RadioSelect,
        help_text="Your judgement now, from dose, adherence, recent use and support. Not needed when the "
        "person died.",
    )
    exit_risk_of_death_discussed = _yes_no_field(
        "The risk of death after leaving treatment (lost tolerance, overdose) was discussed with the patient",
        NOT_ASKED_AFTER,
    )
    exit_harm_reduction_discussed = _yes_no_field(
        "The skills to reduce it (naloxone, not using alone, reduced tolerance) were discussed",
        NOT_ASKED_AFTER,
    )
    exit_discussion_note = forms.CharField(
        label="Why not, or anything to add",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when either answer is no: say why, and what was done instead.",
    )

    def clean_exit_date(self):
        return self._check_date("exit_date")

    def clean_exit_discussion_note(self):
        return self.cleaned_data["exit_discussion_note"].strip()

    def clean(self):
        data = super().clean()
        errors = exit_safety_check_errors(
            exit_reason=data.get("exit_reason", ""),
            relapse_risk=data.get("exit_relapse_risk", ""),
            risk_of_death_discussed=data.get("exit_risk_of_death_discussed"),
            harm_reduction_discussed=data.get("exit_harm_reduction_discussed"),
            note=data.get("exit_discussion_note", ""),
        )
        for name, message in errors.items():
            if name not in self.errors:
                self.add_error(name, message)
        return data

    SHORT_LABELS = {
        "exit_date": "Date treatment ended",
        "exit_reason": "Exit reason",
        "exit_relapse_risk": "Relapse risk",
        "exit_risk_of_death_discussed": "Risk of death discussed",
        "exit_harm_reduction_discussed": "Skills to reduce it discussed",
        "exit_discussion_note": "Why not",
    }


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
