"""The shared helpers of the core: one way of writing a date in a sentence (as the pages show it, "j M Y"), one
date input, one check of the day a review was held, and service errors put back beside their fields."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import date as date_filter

from recovery_reviews.formatting import day, day_and_time, day_short
from recovery_reviews.forms import DATE, add_service_errors, held_on_checked, not_in_future
from reviews.scheduling import _d

AWKWARD_DAYS = [date(2026, 3, 1), date(2025, 12, 31), date(2028, 2, 29), date(2026, 1, 9), date(1999, 10, 10)]


@pytest.mark.parametrize(
    ("d", "written"),
    [
        (date(2026, 3, 1), "1 Mar 2026"),
        (date(2025, 12, 31), "31 Dec 2025"),
        (date(2028, 2, 29), "29 Feb 2028"),
        (date(2026, 1, 9), "9 Jan 2026"),
    ],
)
def test_a_day_is_written_without_a_leading_zero(d, written):
    assert day(d) == written


def test_a_day_is_what_the_pages_date_filter_writes_every_month():
    """The caseload writes its dates in Python (recovery_reviews/pages/caseload.py and caseload_rows.py) where the
    template's |date (DATE_FORMAT) and |date:"j M" wrote them: the same text, for every month."""
    for month in range(1, 13):
        for d in (date(2026, month, 1), date(2026, month, 9), date(2026, month, 28)):
            assert day(d) == date_filter(d)
            assert day_short(d) == date_filter(d, "j M")


def test_a_short_day_leaves_out_the_year():
    assert day_short(date(2026, 3, 1)) == "1 Mar"
    assert day_short(date(2025, 12, 31)) == "31 Dec"


def test_a_day_of_a_datetime_is_written_like_a_date():
    assert day(datetime(2026, 3, 1, 23, 59)) == "1 Mar 2026"


def test_a_moment_is_written_in_local_time():
    # 13:05 UTC is 14:05 in London in summer, and 13:05 in winter.
    assert day_and_time(datetime(2026, 7, 1, 13, 5, tzinfo=UTC)) == "1 Jul 2026 at 14:05"
    assert day_and_time(datetime(2026, 1, 1, 13, 5, tzinfo=UTC)) == "1 Jan 2026 at 13:05"
    # Late evening UTC on the 31st is already the 1st in London.
    assert day_and_time(datetime(2026, 5, 31, 23, 30, tzinfo=UTC)) == "1 Jun 2026 at 00:30"


@pytest.mark.parametrize("d", AWKWARD_DAYS, ids=str)
def test_the_scheduling_policy_writes_dates_the_same_way(d):
    """reviews.scheduling is pure Python and keeps its own copy; the two must not drift apart."""
    assert _d(d) == day(d)


def test_the_date_input_is_an_html_date_with_an_iso_value():
    html = DATE.render("held_on", date(2026, 3, 1))
    assert 'type="date"' in html
    assert 'value="2026-03-01"' in html


def test_a_date_field_with_the_widget_reads_back_the_iso_value():
    class Form(forms.Form):
        held_on = forms.DateField(widget=DATE)

    form = Form({"held_on": "2026-03-01"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["held_on"] == date(2026, 3, 1)


class _ReviewForm(forms.Form):
    held_on = forms.DateField()
    lead = forms.CharField(required=False)


def _bound_form():
    form = _ReviewForm({"held_on": "2026-03-01"})
    assert form.is_valid()
    return form


def test_a_service_error_goes_beside_its_field_and_an_unknown_fields_at_the_top():
    form = _bound_form()
    add_service_errors(
        form,
        ValidationError({"held_on": "This is after the exit.", "completed_on": "Already completed."}),
    )
    assert form.errors["held_on"] == ["This is after the exit."]
    assert form.non_field_errors() == ["Already completed."]
    assert "completed_on" not in form.errors


def test_a_service_error_is_renamed_to_the_forms_field():
    form = _bound_form()
    add_service_errors(
        form, ValidationError({"review__lead": "Not a senior practitioner."}), rename={"review__lead": "lead"}
    )
    assert form.errors["lead"] == ["Not a senior practitioner."]
    assert not form.non_field_errors()


def test_a_service_error_without_a_field_goes_at_the_top():
    form = _bound_form()
    add_service_errors(form, ValidationError("This episode has ended."))
    assert form.non_field_errors() == ["This episode has ended."]
    assert list(form.errors) == ["__all__"]


@time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=UTC), tick=False)
def test_a_review_held_in_the_future_or_before_the_episode_is_refused():
    began = date(2026, 3, 1)
    assert held_on_checked(date(2026, 5, 1), episode_began=began) == date(2026, 5, 1)
    assert held_on_checked(date(2026, 3, 1), episode_began=began) == date(2026, 3, 1)
    with pytest.raises(ValidationError) as error:
        held_on_checked(date(2026, 5, 2), episode_began=began)
    assert error.value.messages == ["This date is in the future."]
    with pytest.raises(ValidationError) as error:
        held_on_checked(date(2026, 2, 28), episode_began=began)
    assert error.value.messages == ["This is before the episode began on 1 Mar 2026."]
    assert held_on_checked(date(2020, 1, 1)) == date(2020, 1, 1)  # a check-up: no episode to be within
    assert not_in_future(None) is None
