"""Forms validate and convert (CONVENTIONS.md 4): clean_* return domain values; views hand cleaned_data to a
service, which validates the record again as a whole."""

from datetime import date

from django import forms

from recovery_reviews.access import teams_for_user
from reviews.status import STATUS_LABELS


class CaseloadFilterForm(forms.Form):
    q = forms.CharField(label="Name or NHS number", required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *STATUS_LABELS.items()], required=False)
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All my teams")
    mine = forms.BooleanField(label="Only my caseload", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for_user(user)


class MissedDatesField(forms.CharField):
    """Dates of missed doses, one per line or separated by commas, as DD/MM/YYYY or YYYY-MM-DD."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. 05/02/2026, 06/02/2026, 07/02/2026"})

    def to_python(self, value):
        text = super().to_python(value) or ""
        days, bad = [], []
        for token in text.replace(",", "\n").split():
            for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
                try:
                    days.append(date.fromisoformat(token) if fmt == "%Y-%m-%d" else _dmy(token))
                    break
                except ValueError:
                    continue
            else:
                bad.append(token)
        if bad:
            raise forms.ValidationError(
                f"Not a date: {', '.join(bad)}. Write each date as DD/MM/YYYY, separated by commas or new lines."
            )
        return sorted(set(days))


def _dmy(token: str) -> date:
    day, month, year = token.split("/")
    return date(int(year), int(month), int(day))


class PharmacyReportForm(forms.Form):
    pharmacy_name = forms.CharField(max_length=200)
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    doses_due = forms.IntegerField(min_value=0, max_value=400)
    supervised_doses_taken = forms.IntegerField(min_value=0, max_value=400)
    take_home_doses_collected = forms.IntegerField(min_value=0, max_value=400, initial=0)
    missed_dates = MissedDatesField(label="Dates of missed doses", required=False)
    concerns = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
