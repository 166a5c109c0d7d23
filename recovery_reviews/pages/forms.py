"""Forms of the composite pages."""

from django import forms

from recovery_reviews.access import teams_for_user
from reviews.status import STATUS_LABELS


class CaseloadFilterForm(forms.Form):
    q = forms.CharField(label="Name or NHS number", required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *STATUS_LABELS.items()], required=False)
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All my teams")
    mine = forms.BooleanField(label="Only my caseload", required=False)
    week = forms.BooleanField(label="Due this week", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for_user(user)
