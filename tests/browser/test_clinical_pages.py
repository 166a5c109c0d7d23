"""What keyworkers and senior practitioners do, in a real browser. Dates are relative to today: the browser
keeps real time, so the server must too."""

import re
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from patients.models import (
    TOP_DAYS_28,
    TOP_RATINGS,
    TOP_SUBSTANCES,
    TOP_WEEKS,
    TOP_YES_NO,
    TopAssessment,
)
from reviews.models import ReviewStatus, StrategicReview
from reviews.services.schedule import episode_schedule_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@pytest.fixture
def recent_episode(episode):
    episode.entry_date = date.today() - timedelta(days=60)
    episode.save()
    episode_schedule_refresh(episode)
    return episode


def every_top_answer() -> dict[str, str]:
    """An answer for every item of the TOP, as typed or chosen in the form."""
    answers = {"other_substance_name": "Pregabalin"}
    for i, (prefix, _label, _unit) in enumerate(TOP_SUBSTANCES):
        for week in TOP_WEEKS:
            answers[f"{prefix}_week{week}"] = str((i + week) % 8)
        answers[f"{prefix}_amount"] = f"{i + 1}.5"
    answers |= {name: str(3 + i) for i, name in enumerate(TOP_DAYS_28)}
    answers |= {name: str(10 + i) for i, name in enumerate(TOP_RATINGS)}
    answers |= {name: "yes" if i % 2 else "no" for i, name in enumerate(TOP_YES_NO)}
    return answers


def record_a_top_with_every_item(page, screenshot, episode):
    page.locator("main").get_by_role("link", name="TOP", exact=True).click()
    page.get_by_test_id("top-form").wait_for()
    page.fill("#id_assessed_on", date.today().isoformat())
    page.select_option("#id_stage", "review")
    answers = every_top_answer()
    for name, value in answers.items():
        if name in TOP_YES_NO:
            page.select_option(f"#id_{name}", value)
        else:
            page.fill(f"#id_{name}", value)
    # One impossible answer first: its message sits beside it, and nothing typed is lost.
    page.fill("#id_opiates_week1", "9")
    page.click("main button[type=submit]")
    assert page.locator("#error_1_id_opiates_week1").inner_text() == "Days in a week: 0 to 7."
    assert page.input_value("#id_quality_of_life") == answers["quality_of_life"]
    assert page.input_value("#id_alcohol_amount") == answers["alcohol_amount"]
    assert not TopAssessment.objects.exists()
    screenshot("top_form_error")
    page.fill("#id_opiates_week1", answers["opiates_week1"])
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/$"))
    top = TopAssessment.objects.get()
    for name, value in answers.items():
        stored = getattr(top, name)
        expected = {"yes": True, "no": False}.get(value, value)
        assert str(stored) == str(expected), name
    assert "1 assessment" in page.get_by_test_id("top-chart").inner_text()


def test_three_missed_doses_move_the_next_review_earlier(page, login, screenshot, alice, recent_episode):
    """A keyworker records a TOP (every item) and then a pharmacy report with three missed doses in a row, and
    sees the next review move earlier (App. C 1, docs/design.md rule 4)."""
    episode = recent_episode
    first_target = episode.entry_date + relativedelta(months=3)
    login(alice)
    page.goto(f"/patients/{episode.patient_id}/")
    assert page.get_by_test_id("next-review-target").inner_text() == shown(first_target)
    record_a_top_with_every_item(page, screenshot, episode)
    assert page.get_by_test_id("next-review-target").inner_text() == shown(first_target)
    page.click("main a:has-text('Pharmacy report')")
    start = date.today() - timedelta(days=20)
    page.fill("#id_pharmacy_name", "Boots, High Street")
    page.fill("#id_period_start", start.isoformat())
    page.fill("#id_period_end", (start + timedelta(days=13)).isoformat())
    page.fill("#id_doses_due", "14")
    page.fill("#id_supervised_doses_taken", "11")
    page.fill("#id_missed_dates", "yesterday")
    page.click("main button[type=submit]")
    assert "Not a date: yesterday" in page.inner_text("[data-testid=pharmacy-form]")
    screenshot("pharmacy_report_error")
    missed = [start + timedelta(days=d) for d in (4, 5, 6)]
    page.fill("#id_missed_dates", ", ".join(f"{d:%d/%m/%Y}" for d in missed))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/$"))
    assert "a safety event" in page.inner_text("main")
    moved = missed[-1] + timedelta(days=28)
    assert page.get_by_test_id("next-review-deadline").inner_text() == shown(moved)
    assert (
        f"Adherence deteriorated on {shown(missed[-1])}"
        in page.get_by_test_id("next-review-reasons").inner_text()
    )
    screenshot("patient_after_missed_doses")


def test_a_senior_practitioner_completes_a_review_with_suggestions_applied(
    page, login, screenshot, sam, recent_episode
):
    episode = recent_episode
    login(sam)
    page.goto(f"/patients/{episode.patient_id}/")
    page.click("main a:has-text('Start strategic review')")
    page.get_by_test_id("review-start-form").wait_for()
    page.click("main form[data-testid=review-start-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/reviews/\d+/$"))
    assert "Evidence pack" in page.inner_text("main")
    page.check("#id_patient_took_part")
    page.fill("#id_overview", "Stepped back over the whole care plan with the evidence.")
    for domain in ("drug_alcohol", "health", "offending", "social"):  # every core domain (§2.10-2.11)
        page.select_option(f"#id_{domain}_progress", "no_change")
    page.check('input[name="findings"][value="deteriorating_adherence"]')
    assert page.is_checked('input[name="responses"][value="reinstate_supervision"]')
    assert page.is_checked('input[name="responses"][value="earlier_re_review"]')
    assert "App. C 1" in page.get_by_test_id("suggestion-note").inner_text()
    agreed = date.today() + relativedelta(months=9)
    page.fill("#id_agreed_next_date", agreed.isoformat())
    page.locator("#id_agreed_next_date").dispatch_event("change")
    page.get_by_test_id("preview-refused").wait_for()
    re_review = date.today() + timedelta(days=28)
    preview = page.get_by_test_id("schedule-preview").inner_text()
    assert "will not be used" in preview and shown(re_review) in preview
    screenshot("strategic_review_form")
    page.get_by_test_id("complete-review").click()
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/$"))
    review = StrategicReview.objects.get()
    assert review.status == ReviewStatus.COMPLETED
    assert set(review.responses.values_list("code", flat=True)) == {
        "reinstate_supervision",
        "earlier_re_review",
    }
    assert page.get_by_test_id("next-review-target").inner_text() == shown(re_review)
    screenshot("patient_after_review")


def test_a_keyworker_registers_someone_entering_treatment(page, login, screenshot, alice, sam):
    """From the caseload: a mistyped NHS number is answered beside it and kept; corrected, the patient is saved
    with their episode and the record shows the first review within 3 months of entry (§1.3)."""
    entered = date.today() - timedelta(days=7)
    login(alice)
    page.goto("/patients/")
    page.get_by_role("link", name="Register a patient").click()
    page.fill("#id_given_name", "Jo")
    page.fill("#id_family_name", "Newcomer")
    page.fill("#id_date_of_birth", "1990-02-14")
    page.fill("#id_nhs_number", "943 476 5918")
    page.select_option("#id_lead_practitioner", label="Sam Senior")
    page.fill("#id_entry_date", entered.isoformat())
    page.select_option("#id_primary_drug", "heroin")
    page.check("#id_other_substances_9")  # alcohol, the tenth substance
    page.click("[data-testid=register-form] button[type=submit]")
    page.wait_for_load_state()
    assert "check digit is wrong" in page.locator("#error_1_id_nhs_number").inner_text()
    assert page.input_value("#id_nhs_number") == "943 476 5918"
    assert page.input_value("#id_family_name") == "Newcomer"
    screenshot("register_patient_error")

    page.fill("#id_nhs_number", "943 476 5919")
    page.click("[data-testid=register-form] button[type=submit]")
    page.wait_for_load_state()
    target = entered + relativedelta(months=3)
    assert (
        f"Jo Newcomer is registered and in treatment from {shown(entered)}"
        in page.locator(".alert").first.inner_text()
    )
    assert page.locator("h1").inner_text().startswith("Jo Newcomer")
    assert f"Target {shown(target)}" in page.locator("main").inner_text()
    screenshot("register_patient_done")


def test_a_report_entered_in_error_stops_moving_the_review(page, login, screenshot, alice, recent_episode):
    """The report of three missed doses was another patient's: marked as entered in error from the timeline, it
    stays there struck through with the reason, and the review returns to its earlier footing."""
    from patients import services

    episode = recent_episode
    first_target = episode.entry_date + relativedelta(months=3)
    start = date.today() - timedelta(days=20)
    services.pharmacy_report_record(
        episode=episode,
        pharmacy_name="Boots, High Street",
        period_start=start,
        period_end=start + timedelta(days=13),
        doses_due=14,
        supervised_doses_taken=11,
        take_home_doses_collected=0,
        missed_dates=[start + timedelta(days=d) for d in (4, 5, 6)],
        by=alice,
    )
    login(alice)
    page.goto(f"/patients/{episode.patient_id}/")
    assert page.get_by_test_id("next-review-target").inner_text() != shown(first_target)
    entry = page.locator(".timeline-entry", has_text="Pharmacy report, Boots")
    entry.hover()
    entry.get_by_role("link", name="entered in error?").click()
    page.click("[data-testid=entered-in-error-form] button[type=submit]")
    assert "Say what was wrong" in page.locator("#error_1_id_reason").inner_text()
    page.fill("#id_reason", "This was another patient's report.")
    screenshot("entered_in_error_form")
    page.click("[data-testid=entered-in-error-form] button[type=submit]")
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/$"))
    assert "The next review moved later" in page.inner_text("main")
    assert page.get_by_test_id("next-review-target").inner_text() == shown(first_target)
    struck = page.locator(".timeline-entry.flag-in-error")
    assert "Entered in error: Boots, High Street" in struck.inner_text()
    assert "This was another patient's report." in struck.inner_text()
    screenshot("patient_after_entered_in_error")


def test_a_review_prints_without_the_application_around_it(page, login, screenshot, sam, recent_episode):
    from tests.support.factories import StrategicReviewFactory

    review = StrategicReviewFactory(
        episode=recent_episode,
        lead=sam,
        held_on=date.today(),
        status=ReviewStatus.COMPLETED,
        completed_on=date.today(),
        patient_took_part=True,
    )
    login(sam)
    page.goto(review.get_absolute_url())
    assert page.get_by_role("button", name="Print").is_visible()
    assert not page.locator(".print-only").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.get_by_role("button", name="Print").is_visible()
    identity = page.locator(".print-only")
    assert identity.is_visible()
    assert f"{recent_episode.patient}, born" in identity.inner_text()
    assert "Printed" in identity.inner_text() and "Sam Senior" in identity.inner_text()
    screenshot("review_printed")


def test_a_mistyped_entry_date_is_corrected_and_the_first_review_moves(
    page, login, screenshot, alice, recent_episode
):
    episode = recent_episode
    true_entry = episode.entry_date - timedelta(days=14)
    login(alice)
    page.goto(f"/patients/{episode.patient_id}/")
    page.get_by_role("link", name="correct details").click()
    page.fill("#id_entry_date", true_entry.isoformat())
    page.click("main form[method=post] button[type=submit]")
    assert "Say why" in page.locator("#error_1_id_reason").inner_text()
    assert page.input_value("#id_entry_date") == true_entry.isoformat()
    page.fill("#id_reason", "The referral letter gives the earlier date.")
    screenshot("correct_details_form")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/\?episode=\d+$"))
    main = page.inner_text("main")
    assert f"Corrected: Entered treatment on: {shown(episode.entry_date)} → {shown(true_entry)}." in main
    assert "The next review moved earlier" in main
    assert page.get_by_test_id("next-review-target").inner_text() == shown(
        true_entry + relativedelta(months=3)
    )
    assert "The referral letter gives the earlier date." in page.get_by_test_id("timeline").inner_text()
