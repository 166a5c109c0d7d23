"""Ending OST while the episode goes on, in a real browser (§1.7, App. C 2; docs/design.md rules 3b and 7b). The
senior practitioner ends the methadone from the record: the record then shows the check-up due 14 days after the
end first, and beside it the strategic review pulled to within 3 months of the end, each with its own dates and
the reasons that cite the guidance; the keyworker records the check-up from the record and it leaves. Screenshots
at desktop width and at 390 px. Dates are relative to today: the browser keeps real time, so the server must too."""

from datetime import date, timedelta

import pytest

from patients.models import TreatmentEpisode
from reviews.models import OwedItem, ReviewStatus
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import InterventionFactory, StrategicReviewFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date.today()
PHONE = {"width": 390, "height": 844}


def shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@pytest.fixture
def on_methadone(episode, sam):
    """In treatment for 200 days on methadone, the first strategic review completed with the patient 60 days ago:
    the next is 6 months after it (§1.3)."""
    episode.entry_date = TODAY - timedelta(days=200)
    episode.save()
    InterventionFactory(episode=episode, started_on=episode.entry_date, daily_dose_mg=40)
    held = TODAY - timedelta(days=60)
    StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=held,
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=held,
    )
    episode_schedule_refresh(episode)
    return episode


def test_ending_ost_shows_the_check_up_beside_the_pulled_review_and_it_is_recorded(
    page, login, screenshot, alice, sam, on_methadone
):
    episode = on_methadone
    ended = TODAY - timedelta(days=2)
    login(sam)
    page.goto(f"/patients/{episode.patient_id}/")
    page.get_by_test_id("treatment").get_by_role("link", name="end").first.click()
    page.fill("#id_ended_on", ended.isoformat())
    page.get_by_role("button", name="Save").click()
    page.get_by_test_id("next-review").wait_for()

    # First: the check-up 14 days after the end, with its reason.
    assert "Next: check-up after an element of treatment" in page.get_by_test_id("next-review").inner_text()
    assert page.get_by_test_id("next-review-target").inner_text() == shown(ended + timedelta(days=14))
    assert page.get_by_test_id("next-review-deadline").inner_text() == shown(ended + timedelta(days=28))
    reasons = page.get_by_test_id("next-review-reasons").inner_text()
    assert f"ended on {shown(ended)}" in reasons and "(§1.7)" in reasons
    # Beside it: the strategic review, within 3 months of the end (rule 3b), with its reasons.
    also = page.get_by_test_id("also-owed")
    assert "Also owed: strategic review" in also.inner_text()
    review = OwedItem.objects.get(episode=episode, kind="strategic_review")
    assert review.deadline <= ended + timedelta(days=92)
    assert page.get_by_test_id("also-owed-target").inner_text() == shown(review.target)
    assert f"Treatment transition on {shown(ended)}" in page.get_by_test_id("also-owed-reasons").inner_text()
    assert "Something else is now owed first" in page.inner_text("main")
    screenshot("element-check-up-owed")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot("element-check-up-owed-phone")
    page.set_viewport_size({"width": 1366, "height": 768})

    # The keyworker records the check-up from the record: it is held, and only the review stays owed.
    page.context.clear_cookies()
    login(alice)
    page.goto(f"/patients/{episode.patient_id}/")
    page.get_by_test_id("record-element-check-up").first.click()
    page.get_by_test_id("element-check-up-form").wait_for()
    page.fill("#id_held_on", TODAY.isoformat())
    page.select_option("#id_outcome", "stable")
    screenshot("element-check-up-form")
    page.get_by_role("button", name="Record check-up").click()
    page.get_by_test_id("next-review").wait_for()
    assert f"The check-up after the element that ended on {shown(ended)} is recorded" in page.inner_text(
        "main"
    )
    assert page.get_by_test_id("next-review-target").inner_text() == shown(review.target)
    assert page.get_by_test_id("also-owed").count() == 0
    assert TreatmentEpisode.objects.get(pk=episode.pk).next_review_kind == "strategic_review"
    screenshot("element-check-up-held")
