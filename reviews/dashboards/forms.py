"""Filters of the managers' pages. They validate what is in the URL and convert it; a value outside the user's
scope (another team's id typed into the address) is an error on the field, never a wider list."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from django import forms

from recovery_reviews.access import teams_for_user
from recovery_reviews.formatting import day
from recovery_reviews.forms import DATE, ModelChoiceField, Select
from recovery_reviews.models import Role, Team, User
from reviews.dashboards.status import DEFAULT_SORT, SORTS
from reviews.status import KIND_LABELS, STATUS_LABELS


class TeamChoiceForm(forms.Form):
    team = ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="All my teams", widget=Select
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["team"].queryset = teams_for_user(user)
        self.fields["team"].error_messages["invalid_choice"] = (
            "That team is not one of yours: choose one from the list."
        )


class ReviewListFilterForm(TeamChoiceForm):
    keyworker = ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Any keyworker")
    status = forms.ChoiceField(choices=[("", "Any status"), *STATUS_LABELS.items()], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *KIND_LABELS.items()], required=False)
    sort = forms.ChoiceField(
        choices=[(key, sort.label) for key, sort in SORTS.items()], required=False, initial=DEFAULT_SORT
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        teams = self.fields["team"].queryset
        chosen = self.data.get("team") if self.is_bound else None
        if chosen and str(chosen).isdigit():
            teams = teams.filter(pk=chosen)
        keyworkers = User.objects.filter(team__in=teams, role=Role.KEYWORKER).order_by(
            "last_name", "first_name"
        )
        field = self.fields["keyworker"]
        field.queryset = keyworkers
        field.error_messages["invalid_choice"] = (
            "That keyworker is not in the team chosen or in one of yours: choose one from the list."
        )
        # The menu lists one team's keyworkers: a manager's teams may hold thousands, so they choose a team first
        # (a keyworker in the address is still checked against all of them).
        self.keyworker_menu = bool(chosen) or user.role != Role.MANAGER
        if not self.keyworker_menu:
            field.widget = forms.HiddenInput()

    def clean_sort(self):
        return self.cleaned_data["sort"] or DEFAULT_SORT


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


class TimelinessFilterForm(TeamChoiceForm):
    quarters = forms.TypedChoiceField(
        label="Quarters of entrants",
        choices=[(4, "Last 4 quarters"), (8, "Last 8 quarters"), (12, "Last 12 quarters")],
        coerce=int,
        required=False,
        empty_value=8,
        initial=8,  # what the page shows when nothing is chosen, so the menu says so
    )


EARLIEST_DAY = date(1900, 1, 1)


class PeriodFilterForm(TeamChoiceForm):
    """A period of dates, by default the last twelve months to today.

    Each date typed must fall between 1 Jan 1900 and a year from today: the period is counted in quarters and
    defaulted a year back, and a day such as 31 Dec 9999 would run past the last date Python holds (a server
    error, not a message)."""

    start = forms.DateField(label="From", widget=DATE, required=False)
    end = forms.DateField(label="To", widget=DATE, required=False)

    def __init__(self, data=None, *args, today: date, **kwargs):
        # Unfiltered, the form is bound to the default period so that the page shows the dates it used.
        super().__init__(data if data is not None else self.default_period(today), *args, **kwargs)
        self.today = today

    @staticmethod
    def default_period(today: date) -> dict:
        """The quarter a year ago to today: four full quarters and the current one."""
        return {
            "start": quarter_start(today - relativedelta(months=12)).isoformat(),
            "end": today.isoformat(),
        }

    def _in_range(self, value: date | None) -> date | None:
        latest = self.today + relativedelta(years=1)
        if value and value < EARLIEST_DAY:
            raise forms.ValidationError(f"Enter a date from {day(EARLIEST_DAY)} on.")
        if value and value > latest:
            raise forms.ValidationError(f"Enter a date no later than {day(latest)}, a year from today.")
        return value

    def clean_start(self):
        return self._in_range(self.cleaned_data.get("start"))

    def clean_end(self):
        return self._in_range(self.cleaned_data.get("end"))

    def clean(self):
        data = super().clean()
        end = data.get("end") or self.today
        start = data.get("start") or quarter_start(end - relativedelta(months=12))
        if start > end:
            self.add_error("start", "The start of the period is after its end: swap the dates.")
        elif start < end - relativedelta(years=5):
            self.add_error("start", "Choose a period of five years or less.")
        data["start"], data["end"] = start, end
        return data


class CapacityForm(forms.Form):
    """A team's senior practitioner capacity, set by its manager (the guidance asks commissioners to resource
    reviews; the forecast compares what falls due against it)."""

    weekly_review_capacity = forms.IntegerField(
        label="Reviews a week",
        min_value=0,
        max_value=500,
        error_messages={
            "required": "Enter how many reviews the team can hold in a week, such as 12.",
            "invalid": "Enter a whole number of reviews a week, such as 12.",
            "min_value": "Capacity cannot be negative: enter 0 or more.",
            "max_value": "That is more than any team can hold: enter at most 500 reviews a week.",
        },
    )
