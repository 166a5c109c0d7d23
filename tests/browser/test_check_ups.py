"""Recovery check-ups that lead somewhere, in a real browser (§1.7; docs/design.md rule 7c): a keyworker tries to
reach someone after treatment and cannot (the check-up stays owed, the attempt on the record), then finds early
signs of relapse (the next check-up within 14 days, a new episode offered right there), then arranges rapid access
back into treatment, which opens the new episode with the check-up. Dates are relative to today: the browser keeps
real time, so the server must too. Screenshots at desktop width and at 390 px."""

import re
from datetime import date, timedelta

import pytest

from patients.models import TreatmentEpisode
from reviews.models import CheckUpOutcome, RecoveryCheckUp
from reviews.services.schedule import episode_schedule_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}


def shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@pytest.fixture
def ended_episode(episode):
    """Left treatment 30 days ago: check-up 1 (exit + 14 days) is overdue."""
    today = date.today()
    episode.entry_date = today - timedelta(days=200)
    episode.exit_date, episode.exit_reason = today - timedelta(days=30), "completed_drug_free"
    episode.save()
    episode_schedule_refresh(episode)
    return episode


def both_widths(page, screenshot, name):
    screenshot(name)
    page.set_viewport_size(PHONE)
    screenshot(f"{name}_390")
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size(DESKTOP)
    assert fits, f"{name} is wider than 390 px"


def open_check_up_form(page):
    page.locator("main").get_by_role("link", name="Recovery check-up", exact=True).click()
    page.get_by_test_id("check-up-form").wait_for()


def test_a_check_up_leads_back_into_treatment(page, login, screenshot, alice, sam, ended_episode):
    episode, today = ended_episode, date.today()
    login(alice)
    page.goto(f"/patients/{episode.patient_id}/")
    first_target = episode.exit_date + timedelta(days=14)
    assert page.get_by_test_id("next-review-target").inner_text() == shown(first_target)

    # Could not be reached: the attempt is kept and the check-up stays owed.
    open_check_up_form(page)
    attempt_on = today - timedelta(days=2)
    page.fill("#id_held_on", attempt_on.isoformat())
    page.select_option("#id_outcome", CheckUpOutcome.NOT_REACHED)
    assert not page.get_by_test_id("new-episode-fields").is_visible()  # asked only for a return to treatment
    page.fill("#id_notes", "Three calls and a text, no answer.")
    page.click("main button:has-text('Record check-up')")
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/"))
    assert "Recovery check-up 1 is still owed" in page.inner_text("main")
    assert page.get_by_test_id("next-review-target").inner_text() == shown(first_target)
    attempts = page.get_by_test_id("check-up-attempts").inner_text()
    assert f"Check-up 1: tried to reach them on {shown(attempt_on)}: could not be reached." in attempts
    assert f"Tried to reach them on {shown(attempt_on)}: could not be reached" in page.inner_text(
        "[data-testid=timeline]"
    )
    both_widths(page, screenshot, "check_up_attempt_on_record")

    # Early signs of relapse: the next check-up within 14 days, and a new episode offered right there.
    open_check_up_form(page)
    assert f"Tried to reach them on {shown(attempt_on)}: could not be reached" in page.inner_text(
        "[data-testid=check-up-standing]"
    )
    page.select_option("#id_outcome", CheckUpOutcome.RELAPSE_RISK)
    page.click("main button:has-text('Record check-up')")
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/"))
    within = today + timedelta(days=14)
    assert f"The next check-up is now due within 14 days: target {shown(within)}" in page.inner_text("main")
    assert page.get_by_test_id("next-review-target").inner_text() == shown(within)
    assert (
        page.get_by_test_id("relapse-offer")
        .get_by_role("link", name="Open a new treatment episode")
        .is_visible()
    )
    both_widths(page, screenshot, "check_up_relapse_on_record")

    open_check_up_form(page)
    offer = page.get_by_test_id("relapse-offer")
    assert f"The next check-up is due within 14 days, by {shown(within)}" in offer.inner_text()
    assert offer.get_by_role("link", name="Open a new treatment episode").is_visible()

    # Rapid access back into treatment: the new episode's details, refused together if incomplete.
    page.select_option("#id_outcome", CheckUpOutcome.RETURNED_TO_TREATMENT)
    assert page.get_by_test_id("new-episode-fields").is_visible()
    page.click("main button:has-text('Record check-up')")
    assert "Give the new episode's primary problem drug." in page.inner_text(
        "#error_1_id_new_episode_primary_drug"
    )
    assert (
        RecoveryCheckUp.objects.filter(episode=episode).count() == 2
    )  # the attempt and the relapse check-up
    both_widths(page, screenshot, "check_up_returned_form_error")
    page.select_option("#id_new_episode_primary_drug", "heroin")
    page.select_option("#id_new_episode_lead_practitioner", label="Sam Senior")
    page.click("main button:has-text('Record check-up')")
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/$"))
    assert f"in treatment again from {shown(today)}" in page.inner_text("main")
    back = TreatmentEpisode.objects.get(patient=episode.patient, exit_date__isnull=True)
    assert back.entry_date == today and back.lead_practitioner == sam
    assert "strategic review" in page.get_by_test_id("next-review").inner_text()
    both_widths(page, screenshot, "check_up_returned_new_episode")

    # The earlier episode owes nothing more, and says why.
    page.select_option("#episode-choice", str(episode.pk))
    page.wait_for_url(re.compile(rf"episode={episode.pk}"))
    assert (
        f"The patient is back in treatment from {shown(today)}"
        in page.get_by_test_id("next-review").inner_text()
    )
    both_widths(page, screenshot, "check_up_earlier_episode_owes_nothing")
