"""The patient's record, the drug test and the TOP form on a phone (390 px) and a desktop (1366 px): no axe-core
violation, nothing scrolling sideways, the drug test's rows stacked on a phone with targets a thumb can use, and the
TOP chart's table alternative (docs/design.md, Accessible on every device). Screenshots are kept under
var/screenshots/record/ for people to look at. Dates are relative to today: the browser keeps real time."""

from datetime import date, timedelta

import pytest

from patients.models import TestResult as Result
from reviews.services.schedule import episode_schedule_refresh
from tests.browser.accessibility import DESKTOP, PHONE, axe_violations, page_problems, sideways_scroll
from tests.browser.conftest import SCREENSHOTS
from tests.support.factories import (
    CircumstanceFactory,
    DrugTestFactory,
    DrugTestResultFactory,
    InterventionFactory,
    TopAssessmentFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = SCREENSHOTS / "record"


@pytest.fixture
def record(episode):
    """A patient on methadone whose problem drugs are heroin and alcohol, three TOPs, and a recent test that found
    crack: the record a keyworker opens on a visit."""
    today = date.today()
    episode.entry_date = today - timedelta(days=200)
    episode.other_substances = ["alcohol"]
    episode.save()
    InterventionFactory(episode=episode, medicine="methadone", daily_dose_mg=60)
    InterventionFactory(episode=episode, kind="recovery_support", medicine="", daily_dose_mg=None)
    CircumstanceFactory(episode=episode, code="complex_needs", started_on=today - timedelta(days=30))
    for days_ago, opiates, alcohol in ((190, 6, 3), (100, 3, 2), (10, 1, 0)):
        TopAssessmentFactory(
            episode=episode,
            assessed_on=today - timedelta(days=days_ago),
            stage="start" if days_ago == 190 else "review",
            **{f"opiates_week{w}": opiates for w in (1, 2, 3, 4)},
            **{f"alcohol_week{w}": alcohol for w in (1, 2, 3, 4)},
            **{f"crack_week{w}": 0 for w in (1, 2, 3, 4)},
            **{f"cannabis_week{w}": 0 for w in (1, 2, 3, 4)},
            injecting_days=0,
            psychological_health=8 + days_ago % 7,
            physical_health=12,
            quality_of_life=None if days_ago == 100 else 10,
            shoplifting_days=0,
            paid_work_days=0,
        )
    test = DrugTestFactory(episode=episode, taken_on=today - timedelta(days=12))
    DrugTestResultFactory(test=test, substance="crack", result=Result.POSITIVE)
    DrugTestResultFactory(test=test, substance="heroin", result=Result.NEGATIVE)
    DrugTestResultFactory(
        test=test, substance="methadone", result=Result.POSITIVE, expected_because_prescribed=True
    )
    episode_schedule_refresh(episode)
    return episode


def checked(page, name: str) -> None:
    """No axe violation and nothing sideways, at 1366 and 390 px; a screenshot at both, to look at."""
    assert page_problems(page, name, SHOTS) == []


def test_the_patient_page_fits_a_phone_and_says_the_chart_as_a_table(page, login, alice, record):
    login(alice)
    page.goto(f"/patients/{record.patient_id}/")
    page.get_by_test_id("top-chart").wait_for()
    checked(page, "patient")
    # The intervention's end link says what it ends and is a target a thumb can use.
    end = page.get_by_role("link", name="End Recovery support")
    box = end.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    page.set_viewport_size(DESKTOP)
    box = end.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    # The chart is an image with a name; the same figures are in a table, one row per item, a column per TOP.
    canvas = page.locator("#top-chart-drug_alcohol_use")
    assert canvas.get_attribute("role") == "img"
    assert "Heroin / illicit opioids" in canvas.get_attribute("aria-label")
    table_of = page.get_by_test_id("chart-table-drug_alcohol_use")
    table_of.locator("summary").click()
    table = table_of.get_by_role("table")
    assert table.locator("caption").text_content().startswith("Drug and alcohol use")
    assert table.locator("thead th[scope=col]").count() == 4  # the item, then three TOPs
    heroin = table.get_by_role("row", name="Heroin / illicit opioids: days used (of 28)")
    assert heroin.locator("td").all_inner_texts() == ["24", "12", "4"]
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert sideways_scroll(page) == 0
    page.screenshot(path=str(SHOTS / "patient-table-390.png"), full_page=True)


def test_the_drug_test_starts_with_the_patients_substances_and_works_on_a_phone(page, login, alice, record):
    login(alice)
    page.goto(f"/patients/episodes/{record.pk}/drug-tests/new/")
    substances = [page.get_by_label(f"Substance, row {n}", exact=True).input_value() for n in range(1, 7)]
    assert substances == ["methadone", "heroin", "alcohol", "crack", "", ""]
    assert page.get_by_label("Prescribed, row 1", exact=True).is_checked()
    assert not page.get_by_label("Prescribed, row 4", exact=True).is_checked()
    checked(page, "drug-test")
    # On a phone each row stacks: the selects are the row's width, as tall as a thumb, and nothing is cut.
    select = page.get_by_label("Substance, row 2", exact=True)
    box = select.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300
    assert page.get_by_label("Result for row 2", exact=True).bounding_box()["height"] >= 44
    assert page.locator("label[for=id_results-0-expected_because_prescribed]").is_visible()
    # A row added is labelled with its number.
    page.get_by_role("button", name="Add a substance").click()
    assert page.get_by_label("Substance, row 7", exact=True).count() == 1
    # A failed send: the message sits beside its row, and every field still has its own label.
    page.get_by_label("Substance, row 7", exact=True).select_option("heroin")
    page.get_by_label("Result for row 7", exact=True).select_option("positive")
    page.get_by_label("Result for row 2", exact=True).select_option("negative")
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()
    # Methadone was left 'Not tested' while ticked as prescribed: the message sits in its row.
    assert "Give the result" in page.locator("#error_1_id_results-0-result").inner_text()
    assert page.get_by_label("Substance, row 7", exact=True).input_value() == "heroin"
    page.set_viewport_size(DESKTOP)
    problems = [p for p in axe_violations(page) if "error summary" not in p]
    assert problems == []
    page.screenshot(path=str(SHOTS / "drug-test-error-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert sideways_scroll(page) == 0
    page.screenshot(path=str(SHOTS / "drug-test-error-390.png"), full_page=True)


def test_the_top_form_names_every_answer(page, login, alice, record):
    login(alice)
    page.goto(f"/patients/episodes/{record.pk}/top/new/")
    page.get_by_test_id("top-form").wait_for()
    assert page.get_by_label("Other problem substance (name)").count() == 1
    assert page.locator("tr[data-substance=opiates] th").inner_text().startswith("Heroin / illicit opioids")
    checked(page, "top")
