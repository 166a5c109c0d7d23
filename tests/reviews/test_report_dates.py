"""A report's period is checked before it is used (docs/design.md, Access and audit): a date far in the future or
the past is a clear error on the form, never a server error."""

from datetime import date

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 5, 1)
PAGES = ("reviews:unmet_needs", "reviews:unmet_needs_csv")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"end": "9999-12-31"}, "Enter a date no later than 1 May 2027, a year from today."),
        ({"start": "9999-10-01", "end": "9999-12-31"}, "Enter a date no later than 1 May 2027"),
        ({"end": "0001-01-01"}, "Enter a date from 1 Jan 1900 on."),
        ({"start": "0001-01-01", "end": "0001-06-01"}, "Enter a date from 1 Jan 1900 on."),
        ({"start": "0001-01-01"}, "Enter a date from 1 Jan 1900 on."),
    ],
)
def test_a_date_out_of_range_is_a_clear_error_on_the_form(client, mona, params, message):
    client.force_login(mona)
    for name in PAGES:
        response = client.get(reverse(name), params)
        assert response.status_code == 400
        assert message in response.content.decode()


def test_a_period_ending_within_a_year_from_today_is_shown(client, mona):
    client.force_login(mona)
    response = client.get(reverse("reviews:unmet_needs"), {"start": "2026-04-01", "end": "2027-05-01"})
    assert response.status_code == 200
    assert response.context["period"]["end"] == date(2027, 5, 1)
