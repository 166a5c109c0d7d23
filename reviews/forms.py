"""Forms of the strategic review (§2) and the recovery check-up (§1.7). They validate and convert; the views hand
the converted values to reviews.services.strategic, which checks the decisions against each other."""

import copy

from django import forms
from django.forms.utils import pretty_name
from django.utils import timezone

from patients.forms import EpisodeOpenForm
from patients.models import DispensingChange, InterventionKind, Medicine
from recovery_reviews.forms import DATE, held_on_checked, not_in_future
from recovery_reviews.models import Role, User
from reviews.findings import SUGGESTIONS
from reviews.models import (
    CheckUpOutcome,
    DomainProgress,
    Finding,
    ParticipantRole,
    Response,
    UnmetNeedCategory,
    UnmetNeedKind,
)
from reviews.services.strategic import NEW_EPISODE

DOMAINS = (
    ("drug_alcohol", "Drug and alcohol use", "including injecting and sharing equipment"),
    ("health", "Physical and psychological health", ""),
    ("offending", "Criminal involvement and offending", ""),
    ("social", "Social functioning", "housing, work, education, family"),
)
EXTENSION_FIELDS = ("clear_continuing_benefit", "no_significant_change_envisaged", "patient_agrees_interval")


def clinical_staff(team_id, *roles):
    return User.objects.filter(
        team_id=team_id, role__in=roles or (Role.KEYWORKER, Role.SENIOR_PRACTITIONER), is_active=True
    )


class ReviewStartForm(forms.Form):
    lead = forms.ModelChoiceField(
        queryset=None,
        empty_label=None,
        help_text="A senior practitioner leads where treatment includes prescribing (§2.5).",
    )
    held_on = forms.DateField(label="Date of the review", widget=DATE)

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.episode = episode
        self.fields["lead"].queryset = clinical_staff(episode.patient.team_id).order_by("-role", "last_name")

    def clean_held_on(self):
        return held_on_checked(self.cleaned_data["held_on"], episode_began=self.episode.entry_date)


def _finding_choices():
    return [(code, label) for code, label in Finding.choices]


class SchedulePreviewForm(forms.Form):
    """The few answers the scheduling policy needs, read from the review form as it is filled in."""

    held_on = forms.DateField(widget=DATE)
    patient_took_part = forms.BooleanField(required=False)
    findings = forms.MultipleChoiceField(choices=Finding.choices, required=False)
    agreed_next_date = forms.DateField(widget=DATE, required=False)
    clear_continuing_benefit = forms.BooleanField(required=False)
    no_significant_change_envisaged = forms.BooleanField(required=False)
    patient_agrees_interval = forms.BooleanField(required=False)

    @property
    def extension_justified(self) -> bool:
        return all(self.cleaned_data.get(name) for name in EXTENSION_FIELDS)


class StrategicReviewForm(forms.Form):
    """Everything decided at the review, completed in one transaction."""

    SHORT_LABELS: dict = {}  # the names the list of errors at the top gives (recovery_reviews.forms.error_summary)

    held_on = forms.DateField(label="Date of the review", widget=DATE)
    patient_took_part = forms.BooleanField(
        required=False,
        label="The patient took part (§2.1)",
        help_text="If not, the review waits for the patient's involvement and the clock does not reset until "
        "then (§2.4).",
    )
    self_report = forms.CharField(
        label="The patient's self-report (§2.8)", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    family_comments = forms.CharField(
        label="Comments from family and significant others (§2.8)",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    overview = forms.CharField(
        label="Step-back overview of the care plan (§2.3)",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Progress since entry and since the last review, the medications and other interventions and "
        "the benefit from each (§2.7, §2.11).",
        error_messages={
            "required": "Write the step-back overview: it is what makes this a strategic review (§2.3)."
        },
    )
    findings = forms.MultipleChoiceField(
        label="Findings",
        choices=_finding_choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=False,
    )
    other_finding = forms.CharField(label="The other finding", required=False)
    responses = forms.MultipleChoiceField(
        label="Responses",
        choices=Response.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=False,
    )
    other_response = forms.CharField(label="The other response", required=False)

    dispensing_take_home = forms.IntegerField(
        label="New take-home doses a week",
        required=False,
        min_value=0,
        max_value=7,
        help_text="Leave empty for no change; 0 means every dose supervised.",
        error_messages={"max_value": "At most 7 a week.", "min_value": "0 to 7."},
    )
    dispensing_reason = forms.ChoiceField(
        label="Why", choices=[("", "—"), *DispensingChange.choices], required=False
    )
    dispensing_note = forms.CharField(
        label="Reason in your words", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    end_interventions = forms.ModelMultipleChoiceField(
        label="End these interventions on the review date",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    new_kind = forms.ChoiceField(
        label="Start an intervention", choices=[("", "—"), *InterventionKind.choices], required=False
    )
    new_medicine = forms.ChoiceField(label="Medicine", choices=[("", "—"), *Medicine.choices], required=False)
    new_daily_dose_mg = forms.DecimalField(
        label="Daily dose (mg)", required=False, min_value=0.01, max_digits=6, decimal_places=2
    )
    new_note = forms.CharField(label="Note", required=False)

    agreed_next_date = forms.DateField(
        widget=DATE,
        required=False,
        label="Next review date agreed with the patient",
        help_text="Checked against the policy below before you save (§1.3-1.5).",
    )
    clear_continuing_benefit = forms.BooleanField(required=False, label="Clear, continuing benefit (§1.5)")
    no_significant_change_envisaged = forms.BooleanField(
        required=False, label="No significant change to treatment envisaged (§1.5)"
    )
    patient_agrees_interval = forms.BooleanField(
        required=False, label="The patient agrees the interval (§1.5)"
    )
    multidisciplinary_reason = forms.CharField(
        label="Why the multidisciplinary team was not involved (§2.2)",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="At a high-risk patient's review: if no doctor, nurse, psychologist, recovery worker, "
        "pharmacist, social worker or other agency took part, say why.",
    )

    def __init__(self, *args, episode, current_interventions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.episode = episode
        for code, label, hint in DOMAINS:
            self.fields[f"{code}_progress"] = forms.ChoiceField(
                label=label, choices=DomainProgress.choices, initial=DomainProgress.NOT_ASSESSED
            )
            self.fields[f"{code}_assessment"] = forms.CharField(
                label=f"Assessment{f' ({hint})' if hint else ''}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Not assessed? Say why it could not be: every core domain is considered (§2.10-2.11).",
            )
            self.SHORT_LABELS = {
                **self.SHORT_LABELS,
                f"{code}_progress": label,
                f"{code}_assessment": f"{label}: assessment",
            }
        ids = [i.pk for i in current_interventions]
        self.fields["end_interventions"].queryset = episode.interventions.filter(pk__in=ids)

    def domain_rows(self):
        for code, label, _hint in DOMAINS:
            yield label, self[f"{code}_progress"], self[f"{code}_assessment"]

    def clean_held_on(self):
        return held_on_checked(self.cleaned_data["held_on"], episode_began=self.episode.entry_date)

    def clean(self):
        data = super().clean()
        held, agreed = data.get("held_on"), data.get("agreed_next_date")
        if held and agreed and agreed <= held:
            self.add_error("agreed_next_date", "The next review date must be after this review.")
        if Finding.OTHER in data.get("findings", []) and not data.get("other_finding", "").strip():
            self.add_error("other_finding", "Describe the other finding.")
        if Response.OTHER in data.get("responses", []) and not data.get("other_response", "").strip():
            self.add_error("other_response", "Describe the other response.")
        if data.get("dispensing_take_home") is not None and not data.get("dispensing_note", "").strip():
            self.add_error("dispensing_note", "Say why the dispensing arrangement changes (App. C 1).")
        if data.get("dispensing_take_home") is None and data.get("dispensing_note", "").strip():
            self.add_error(
                "dispensing_take_home", "Give the new number of take-home doses, or clear the reason."
            )
        if not data.get("new_kind") and (data.get("new_medicine") or data.get("new_daily_dose_mg")):
            self.add_error("new_kind", "Choose the intervention this medicine and dose are for.")
        return data

    def service_arguments(self) -> dict:
        d = self.cleaned_data
        findings = [
            {"code": code, "note": d["other_finding"] if code == Finding.OTHER else ""}
            for code in d["findings"]
        ]
        responses = [
            {"code": code, "note": d["other_response"] if code == Response.OTHER else ""}
            for code in d["responses"]
        ]
        dispensing = None
        if d.get("dispensing_take_home") is not None:
            dispensing = {
                "take_home_doses_per_week": d["dispensing_take_home"],
                "change_reason": d["dispensing_reason"],
                "reason_note": d["dispensing_note"],
            }
        start = None
        if d.get("new_kind"):
            start = {
                "kind": d["new_kind"],
                "medicine": d["new_medicine"],
                "daily_dose_mg": d["new_daily_dose_mg"],
                "note": d["new_note"],
            }
        return {
            "held_on": d["held_on"],
            "patient_took_part": d["patient_took_part"],
            "self_report": d["self_report"],
            "family_comments": d["family_comments"],
            "overview": d["overview"],
            "assessments": {
                f"{code}_{part}": d[f"{code}_{part}"]
                for code, _l, _h in DOMAINS
                for part in ("progress", "assessment")
            },
            "findings": findings,
            "responses": responses,
            "dispensing": dispensing,
            "end_interventions": list(d["end_interventions"]),
            "start_intervention": start,
            "agreed_next_date": d.get("agreed_next_date"),
            "multidisciplinary_reason": d["multidisciplinary_reason"],
            **{name: d[name] for name in EXTENSION_FIELDS},
        }


# Where the service's errors go on this form (everything else goes to the top of the form).
SERVICE_ERROR_FIELDS = {
    "dispensing": "dispensing_take_home",
    "dispensing__take_home_doses_per_week": "dispensing_take_home",
    "dispensing__effective_from": "dispensing_take_home",
    "dispensing__change_reason": "dispensing_reason",
    "dispensing__reason_note": "dispensing_note",
    "end_interventions__ended_on": "end_interventions",
    "start_intervention": "new_kind",
    "start_intervention__kind": "new_kind",
    "start_intervention__started_on": "new_kind",
    "start_intervention__medicine": "new_medicine",
    "start_intervention__daily_dose_mg": "new_daily_dose_mg",
    "start_intervention__note": "new_note",
}


class ParticipantForm(forms.Form):
    name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=[("", "—"), *ParticipantRole.choices], required=False)
    staff = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("name", "").strip() and not data.get("role"):
            self.add_error("role", "Give this participant's role (§2.6).")
        if data.get("role") and not data.get("name", "").strip():
            self.add_error("name", "Give the participant's name.")
        return data


class BaseParticipantFormSet(forms.BaseFormSet):
    took_part = False

    def add_fields(self, form, index):
        """Each row's inputs are labelled with its number, for a screen reader and the error summary."""
        super().add_fields(form, index)
        if index is not None:
            form.fields["name"].label = f"Name of participant {index + 1}"
            form.fields["role"].label = f"Role of participant {index + 1}"

    def clean(self):
        if any(self.errors):
            return
        for form in self.forms:
            if form.cleaned_data.get("role") == ParticipantRole.PATIENT and not self.took_part:
                form.add_error(
                    "role", "The patient is listed here: tick that they took part, or remove them (§2.4)."
                )

    def participants(self, staff_in_team) -> list[dict]:
        known = {u.pk: u for u in staff_in_team}
        return [
            {
                "name": f.cleaned_data["name"].strip(),
                "role": f.cleaned_data["role"],
                "staff": known.get(f.cleaned_data.get("staff")),
            }
            for f in self.forms
            if f.cleaned_data.get("name", "").strip()
        ]


ParticipantFormSet = forms.formset_factory(
    ParticipantForm, formset=BaseParticipantFormSet, extra=3, max_num=20
)


class UnmetNeedForm(forms.Form):
    """An intervention, intensity or setting needed and not to be had (§2.14)."""

    category = forms.ChoiceField(choices=[("", "—"), *UnmetNeedCategory.choices], required=False)
    kind = forms.ChoiceField(label="What", choices=[("", "—"), *UnmetNeedKind.choices], required=False)
    description = forms.CharField(label="Why it could not be had", required=False)

    def clean(self):
        data = super().clean()
        given = [name for name in ("category", "kind", "description") if str(data.get(name, "")).strip()]
        if given and len(given) < 3:
            for name in {"category", "kind", "description"} - set(given):
                self.add_error(name, "Needed for an unmet need.")
        return data


class BaseUnmetNeedFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        """Each row's inputs are labelled with its number, for a screen reader and the error summary."""
        super().add_fields(form, index)
        if index is not None:
            form.fields["category"].label = f"Category of unmet need {index + 1}"
            form.fields["kind"].label = f"What was needed, unmet need {index + 1}"
            form.fields["description"].label = f"Why it could not be had, unmet need {index + 1}"

    def needs(self) -> list[dict]:
        return [
            {k: f.cleaned_data[k] for k in ("category", "kind", "description")}
            for f in self.forms
            if f.cleaned_data.get("kind")
        ]


UnmetNeedFormSet = forms.formset_factory(UnmetNeedForm, formset=BaseUnmetNeedFormSet, extra=2, max_num=10)


class PatientInvolvementForm(forms.Form):
    involved_on = forms.DateField(widget=DATE, label="Date the patient was involved")

    def clean_involved_on(self):
        return not_in_future(self.cleaned_data["involved_on"])


class CheckUpForm(forms.Form):
    """A recovery check-up (§1.7). "Could not be reached" records an attempt: the check-up stays owed. Where the
    patient is not in treatment now (`patient` given), "rapid access back into treatment arranged" also asks what
    opens the new episode, with the fields of the open-episode form (patients.forms.EpisodeOpenForm), named
    new_episode_*: cleaned_data["new_episode"] holds them for reviews.services.strategic.check_up_record, None
    for any other outcome. A blank entry date is the day of the check-up."""

    held_on = forms.DateField(
        widget=DATE, label="Date of the check-up", help_text="Or of the attempt to reach them."
    )
    outcome = forms.ChoiceField(choices=CheckUpOutcome.choices)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, patient=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_episode_fields = []
        if patient is None:
            return
        for name, field in EpisodeOpenForm(patient=patient).fields.items():
            field = copy.deepcopy(field)
            field.required = False
            field.label = field.label or pretty_name(name)  # as the open-episode form names it
            if name == "primary_drug":  # chosen, never defaulted to the first drug of the list
                field.choices = [("", "—"), *field.choices]
            self.fields[NEW_EPISODE + name] = field
            self.new_episode_fields.append(NEW_EPISODE + name)
        entry_date = self.fields[f"{NEW_EPISODE}entry_date"]
        entry_date.help_text = (
            "Leave blank for the day of the check-up. The first strategic review is due within 3 months."
        )

    def clean_held_on(self):
        return held_on_checked(self.cleaned_data["held_on"])

    def clean(self):
        data = super().clean()
        episode = {name.removeprefix(NEW_EPISODE): data.pop(name, None) for name in self.new_episode_fields}
        data["new_episode"] = None
        if not episode:
            return data
        if data.get("outcome") != CheckUpOutcome.RETURNED_TO_TREATMENT:
            for name in self.new_episode_fields:  # not asked for: whatever was typed there is not wrong
                self._errors.pop(name, None)
            return data
        if not episode["primary_drug"]:
            self.add_error(f"{NEW_EPISODE}primary_drug", "Give the new episode's primary problem drug.")
        entry = episode["entry_date"] or data.get("held_on")
        if entry and entry > timezone.localdate():
            self.add_error(f"{NEW_EPISODE}entry_date", "This date is in the future.")
        episode["entry_date"] = entry
        episode["other_substances"] = episode["other_substances"] or []
        episode["co_morbidities"] = episode["co_morbidities"] or ""
        data["new_episode"] = episode
        return data


def finding_labels_with_guidance():
    """Each finding with the reason its suggestion gives, for the form's help beside each box."""
    return {code: SUGGESTIONS[code].why for code in SUGGESTIONS}
