"""What a manager does, in a real browser: open the dashboard, follow a number to the list behind it, page
through it, and set a team's capacity on the forecast. Dates are relative to today: the browser keeps real time."""

import re
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from recovery_reviews.models import Team
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import EpisodeFactory, PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def caseload(team, alice, olga):
    """Seven overdue in North (deadline six months after entry has passed), three upcoming, one overdue in South."""
    today = date.today()
    overdue_entry = today - relativedelta(months=7)
    for i in range(7):
        _episode(alice, overdue_entry - timedelta(days=i), f"Overdue{i}")
    for i in range(3):
        _episode(alice, today - timedelta(days=10 + i), f"Upcoming{i}")
    _episode(olga, overdue_entry, "Southerner")


def _episode(keyworker, entry, family_name):
    patient = PatientFactory(team=keyworker.team, keyworker=keyworker, family_name=family_name)
    episode = EpisodeFactory(patient=patient, entry_date=entry)
    episode_schedule_refresh(episode)


def test_a_manager_follows_a_number_to_its_list_and_pages_through_it(
    page, login, screenshot, mona, team, caseload, settings, monkeypatch
):
    from reviews.views import dashboard as dashboard_views

    monkeypatch.setattr(dashboard_views, "PAGE_SIZE", 5)
    login(mona)
    page.goto("/")
    page.wait_for_url(re.compile(r"/reviews/dashboard/$"))
    overdue = page.get_by_test_id("count-north-overdue")
    assert overdue.inner_text() == "7"
    assert page.get_by_test_id("count-north-upcoming").inner_text() == "3"
    assert page.locator("canvas[data-chart]").first.is_visible()
    screenshot("manager_dashboard")

    overdue.click()
    page.wait_for_url(re.compile(r"/reviews/list/\?team=\d+&status=overdue$"))
    rows = page.get_by_test_id("list-row")
    assert rows.count() == 5
    first_page = rows.all_inner_texts()
    assert all("Overdue" in row for row in first_page) and "Southerner" not in page.inner_text("main")
    # most overdue first: the earliest entry, Overdue6, leads
    assert first_page[0].startswith("Overdue6")
    screenshot("manager_review_list")

    page.get_by_test_id("next-page").click()
    page.wait_for_load_state()
    assert rows.count() == 2
    assert {r.split(",")[0] for r in rows.all_inner_texts()} == {"Overdue1", "Overdue0"}
    page.get_by_test_id("previous-page").click()
    page.wait_for_load_state()
    assert rows.all_inner_texts() == first_page

    page.select_option("#id_sort", "name")
    page.click("main form[data-testid=list-filters] button[type=submit]")
    page.wait_for_load_state()
    assert rows.all_inner_texts()[0].startswith("Overdue0")


def test_a_manager_sets_capacity_and_sees_bad_input_refused(page, login, screenshot, mona, team, caseload):
    login(mona)
    page.goto("/reviews/forecast/")
    form = page.get_by_test_id(f"capacity-form-{team.pk}")
    form.locator("input[name=weekly_review_capacity]").fill("-4")
    form.locator("button").click()
    page.wait_for_load_state()
    assert "North: capacity not changed. Capacity cannot be negative: enter 0 or more." in page.inner_text(
        "main"
    )
    assert Team.objects.get(pk=team.pk).weekly_review_capacity == 10
    form = page.get_by_test_id(f"capacity-form-{team.pk}")
    form.locator("input[name=weekly_review_capacity]").fill("3")
    form.locator("button").click()
    page.wait_for_load_state()
    assert "North: capacity set to 3 reviews a week." in page.inner_text("main")
    assert (
        page.get_by_test_id("forecast-north").locator("input[name=weekly_review_capacity]").input_value()
        == "3"
    )
    screenshot("manager_forecast")


def test_a_manager_hands_over_the_caseload_of_a_keyworker_who_has_left(
    page, login, screenshot, mona, alice, team
):
    from recovery_reviews.models import Role
    from tests.support.factories import UserFactory

    tom = UserFactory(username="tom", first_name="Tom", last_name="Leaving", role=Role.KEYWORKER, team=team)
    for i in range(4):
        _episode(tom, date.today() - timedelta(days=20 + i), f"Toms{i}")
    tom.is_active = False
    tom.save()

    login(mona)
    page.goto("/reviews/dashboard/")
    assert "Patients whose keyworker has left: North 4." in page.get_by_test_id("keyworker-left").inner_text()
    row = page.locator("[data-testid=keyworker-counts] tr", has_text="Tom Leaving")
    assert "no longer active" in row.inner_text()
    row.get_by_role("link", name="Hand over").click()
    page.wait_for_url(re.compile(r"/patients/handover/\?from=\d+$"))
    page.select_option("#id_to_keyworker", label="Alice Keyworker (North)")
    page.click("[data-testid=handover-form] button[type=submit]")
    assert "Say why" in page.locator("#error_1_id_reason").inner_text()
    page.fill("#id_reason", "Tom has left the service.")
    screenshot("handover_form")
    page.click("[data-testid=handover-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/reviews/dashboard/\?team=\d+$"))
    assert "4 patients handed over from Tom Leaving to Alice Keyworker" in page.inner_text("main")
    assert page.get_by_test_id("keyworker-left").count() == 0
    screenshot("dashboard_after_handover")
