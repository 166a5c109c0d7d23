"""Forms of the composite pages."""

from django import forms

from recovery_reviews.access import teams_for_user
from recovery_reviews.forms import ModelChoiceField, Select
from recovery_reviews.models import Role
from reviews.status import STATUS_LABELS


class CaseloadFilterForm(forms.Form):
    """The caseload's filters. Whose patients ("mine") is chosen by the page's toggle, My caseload or Whole team,
    and carried by the form in a hidden field: a keyworker opens on their own caseload, everyone else on the team
    (docs/design.md, Users and their jobs); `mine=` asks for the team whatever the role:
    docs/clinical-safety/hazard-log.md, H-042: A keyworker's own caseload hides the team's urgent patients."""

    q = forms.CharField(label="Name or NHS number", required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *STATUS_LABELS.items()], required=False, widget=Select
    )
    team = ModelChoiceField(queryset=None, required=False, empty_label="All my teams", widget=Select)
    mine = forms.BooleanField(label="Only my caseload", required=False)
    week = forms.BooleanField(label="Due this week", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for_user(user)
        self.mine_by_default = user.role == Role.KEYWORKER

    def clean(self):
        cleaned = super().clean()
        if "mine" not in self.data:  # not chosen: the role's default
            cleaned["mine"] = self.mine_by_default
        return cleaned
