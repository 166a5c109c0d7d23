"""Care-plan forms: validate and convert (docs/conventions.md 4); the views hand cleaned_data to careplans.services."""

from django import forms
from django.utils import timezone

from careplans.models import ActionOwner, GoalProgress
from patients.models import CoreDomain
from recovery_reviews.forms import DATE


class GoalForm(forms.Form):
    domain = forms.ChoiceField(label="Core domain (§2.10)", choices=CoreDomain.choices)
    description = forms.CharField(
        label="Goal",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="In the patient's words where possible.",
        error_messages={"required": "Describe the goal, in the patient's words where possible."},
    )
    target_date = forms.DateField(label="Target date", widget=DATE, required=False)
    progress = forms.ChoiceField(choices=GoalProgress.choices, initial=GoalProgress.NOT_STARTED)
    self_managed = forms.BooleanField(
        label="Managed by the patient",
        required=False,
        help_text="Goals become more self-managed over time (§2.12).",
    )


class ActionForm(forms.Form):
    description = forms.CharField(
        label="Action",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Describe the action: what will be done, and by whom."},
    )
    owner = forms.ChoiceField(label="Who", choices=ActionOwner.choices, initial=ActionOwner.PATIENT)
    owner_name = forms.CharField(label="Name, when someone else", required=False, max_length=100)
    target_date = forms.DateField(label="By", widget=DATE, required=False)

    def clean(self):
        data = super().clean()
        if data.get("owner") == ActionOwner.OTHER and not data.get("owner_name", "").strip():
            self.add_error("owner_name", "Name who owns this action.")
        return data


class ActionCompleteForm(forms.Form):
    completed_on = forms.DateField(widget=DATE)

    def clean_completed_on(self):
        day = self.cleaned_data["completed_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("An action cannot be completed in the future.")
        return day
