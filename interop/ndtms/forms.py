"""The NDTMS return's period and team (docs/design.md, Interoperability)."""

import re
from datetime import date

from dateutil.relativedelta import relativedelta
from django import forms
from django.core.exceptions import PermissionDenied

from interop.ndtms.records import Period
from recovery_reviews.access import teams_for_user
from recovery_reviews.forms import DATE, not_in_future
from recovery_reviews.models import Role

FIRST_P_MONTH = date(2020, 4, 1)  # data set P from 1 April 2020 (facts §2.1)
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str, *, today: date) -> Period:
    """'2026-11' as the period 1 to 30 November 2026; a ValueError that says what is wrong otherwise."""
    found = MONTH.match((value or "").strip())
    if not found or not 1 <= int(found[2]) <= 12:
        raise ValueError("Enter the month as year and month, YYYY-MM (for example 2026-11).")
    period = Period.month(int(found[1]), int(found[2]))
    if period.start < FIRST_P_MONTH:
        raise ValueError("Data set P began in April 2020: choose April 2020 or a later month.")
    if period.start > today:
        raise ValueError("That month has not begun yet: choose this month or an earlier one.")
    return period


def managers_only(user) -> None:
    if user.role != Role.MANAGER:
        raise PermissionDenied("Only managers make the NDTMS return.")


class ReturnForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=None, label="Team", empty_label=None, help_text="The team whose return this is."
    )
    month = forms.CharField(
        label="Month",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        help_text="The month the return is for, as YYYY-MM (for example 2026-11).",
        error_messages={"required": "Enter the month the return is for, as YYYY-MM (for example 2026-11)."},
    )

    def __init__(self, data=None, *args, user, today: date, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.today = today
        self.fields["team"].queryset = teams_for_user(user).order_by("name")
        self.fields["team"].error_messages["invalid_choice"] = "Choose one of the teams you manage."
        previous = today.replace(day=1) - relativedelta(months=1)
        self.initial.setdefault("month", f"{previous:%Y-%m}")

    def clean_month(self) -> Period:
        try:
            return parse_month(self.cleaned_data["month"], today=self.today)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


class ConsentForm(forms.Form):
    """The patient's decision about sharing their record with NDTMS, and the day they made it."""

    consented = forms.TypedChoiceField(
        label="Does the patient consent to their record being shared with NDTMS?",
        choices=[("yes", "Yes, they consent"), ("no", "No, they do not consent")],
        coerce=lambda answer: answer == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the patient consents to sharing with NDTMS."},
        help_text="Without consent the return sends only the agency code, the client ID and CONSENT=N.",
    )
    decided_on = forms.DateField(
        label="Date the patient decided",
        widget=DATE,
        error_messages={
            "required": "Give the date the patient decided.",
            "invalid": "Enter the date as day, month and year.",
        },
    )

    def clean_decided_on(self):
        return not_in_future(self.cleaned_data["decided_on"])
