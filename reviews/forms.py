from django import forms

from reviews.models import DomainProgress, Finding, Response

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the ISO value a date input needs


class StrategicReviewForm(forms.Form):
    held_on = forms.DateField(widget=DATE)
    patient_took_part = forms.BooleanField(
        required=False,
        label="The patient took part (§2.1)",
        help_text="If not, the review waits for the patient's involvement and the clock does not reset (§2.4).",
    )
    self_report = forms.CharField(
        label="Patient's self-report (§2.8)", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    family_comments = forms.CharField(
        label="Comments from family (§2.8)", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    overview = forms.CharField(
        label="Step-back overview of the care plan (§2.3)", widget=forms.Textarea(attrs={"rows": 3})
    )
    drug_alcohol_progress = forms.ChoiceField(label="Drug and alcohol use", choices=DomainProgress.choices)
    health_progress = forms.ChoiceField(
        label="Physical and psychological health", choices=DomainProgress.choices
    )
    offending_progress = forms.ChoiceField(
        label="Criminal involvement and offending", choices=DomainProgress.choices
    )
    social_progress = forms.ChoiceField(label="Social functioning", choices=DomainProgress.choices)
    findings = forms.MultipleChoiceField(
        choices=Finding.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    responses = forms.MultipleChoiceField(
        choices=Response.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    agreed_next_date = forms.DateField(
        widget=DATE, required=False, label="Next review date agreed with the patient"
    )
    clear_continuing_benefit = forms.BooleanField(required=False, label="Clear, continuing benefit (§1.5)")
    no_significant_change_envisaged = forms.BooleanField(
        required=False, label="No significant change envisaged (§1.5)"
    )
    patient_agrees_interval = forms.BooleanField(
        required=False, label="The patient agrees the interval (§1.5)"
    )

    def clean(self):
        data = super().clean()
        held, agreed = data.get("held_on"), data.get("agreed_next_date")
        if held and agreed and agreed <= held:
            self.add_error("agreed_next_date", "The next review date must be after this review.")
        return data


class PatientInvolvementForm(forms.Form):
    involved_on = forms.DateField(widget=DATE, label="Date the patient's involvement was recorded")
