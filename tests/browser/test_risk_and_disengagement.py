"""Disengagement and a high risk, in a real browser (Intro, App. B, §2.2, §2.6;
docs/design.md, Risk level and disengagement). A patient who missed two appointments in a row shows a "Disengaging since" badge on the caseload,
whose reasons open on a tap as text; a high-risk patient's review asks for the multidisciplinary team, refuses to
complete without it, and completes once a nurse takes part. Screenshots at desktop width and at 390 px. Dates are
relative to today: the browser keeps real time, so the server must too."""

from datetime import UTC, date, datetime, timedelta

import pytest

from patients.models import AppointmentStatus
from reviews.models import ReviewStatus, StrategicReview
from reviews.services import strategic
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import AppointmentFactory, TopAssessmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date.today()
PHONE = {"width": 390, "height": 844}


def shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


@pytest.fixture
def disengaged(episode):
    """Pat Example attended 40 days ago, then missed the appointments 20 and 6 days ago."""
    episode.entry_date = TODAY - timedelta(days=120)
    episode.save()
    AppointmentFactory(episode=episode, starts_at=at(TODAY - timedelta(days=40)))
    for days in (20, 6):
        AppointmentFactory(
            episode=episode,
            starts_at=at(TODAY - timedelta(days=days)),
            status=AppointmentStatus.MISSED,
            review_note="",
        )
    episode_schedule_refresh(episode)
    return episode


def test_the_caseload_shows_the_disengagement_badge_and_opens_its_reasons(
    page, login, screenshot, alice, disengaged
):
    login(alice)
    page.goto("/")
    row = page.get_by_test_id("caseload-row").filter(has_text="Example, Pat")
    badge = row.get_by_test_id("disengagement-badge")
    since = shown(TODAY - timedelta(days=6))
    assert badge.locator("summary").inner_text() == f"Disengaging since {since[: since.rindex(' ')]}"
    reasons = badge.locator("li")
    assert not reasons.first.is_visible()  # closed until tapped: the reasons are text, not a hover-only title
    badge.locator("summary").click()
    assert reasons.first.is_visible()
    assert reasons.first.inner_text() == (
        f"2 missed appointments in a row since the last attended on {shown(TODAY - timedelta(days=40))}, "
        f"the second on {since}."
    )
    risk = row.get_by_test_id("risk")
    risk.locator("summary").focus()
    page.keyboard.press("Enter")  # opens from the keyboard too
    assert "Raised risk" in risk.inner_text() and risk.locator("li").first.is_visible()
    screenshot("caseload-disengagement-badge")
    page.set_viewport_size(PHONE)
    screenshot("caseload-disengagement-badge-phone")
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.goto(f"/patients/{disengaged.patient_id}/")
    alert = page.get_by_test_id("disengagement")
    assert f"Disengaging since {since}" in alert.inner_text()
    screenshot("record-disengagement-alert")


def test_a_high_risk_patients_review_asks_for_the_multidisciplinary_team(
    page, login, screenshot, sam, disengaged
):
    TopAssessmentFactory(
        episode=disengaged, assessed_on=TODAY - timedelta(days=3), stage="review", shared_needle=True
    )
    review = strategic.review_start(episode=disengaged, lead=sam, by=sam, held_on=TODAY)
    login(sam)
    page.goto(review.get_absolute_url())
    ask = page.get_by_test_id("multidisciplinary")
    assert "High risk: involve the multidisciplinary team (§2.2)." in ask.inner_text()
    assert (
        f"Injected with a needle or syringe used by someone else (TOP of {shown(TODAY - timedelta(days=3))})."
        in (ask.get_by_test_id("multidisciplinary-reasons").inner_text())
    )
    ask.scroll_into_view_if_needed()
    screenshot("review-high-risk-asks-for-the-team")

    page.check("#id_patient_took_part")
    page.fill("#id_overview", "Stepped back over the whole plan with Pat.")
    for domain in ("drug_alcohol", "health", "offending", "social"):
        page.select_option(f"#id_{domain}_progress", "no_change")
    page.get_by_role("button", name="Complete the review").click()
    page.get_by_test_id("form-errors").wait_for()
    assert "The patient's risk is high" in page.get_by_test_id("form-errors").inner_text()
    assert "The patient's risk is high" in page.get_by_test_id("multidisciplinary").inner_text()
    assert StrategicReview.objects.get(pk=review.pk).status == ReviewStatus.DRAFT
    page.get_by_test_id("multidisciplinary").scroll_into_view_if_needed()
    screenshot("review-high-risk-refused-without-the-team")

    page.fill("#id_participants-2-name", "Nina Nurse")
    page.select_option("#id_participants-2-role", "nurse")
    page.get_by_role("button", name="Complete the review").click()
    page.get_by_test_id("next-review").wait_for()
    completed = StrategicReview.objects.get(pk=review.pk)
    assert completed.status == ReviewStatus.COMPLETED
    assert completed.participants.filter(name="Nina Nurse", role="nurse").exists()
