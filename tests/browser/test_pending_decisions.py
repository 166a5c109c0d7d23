"""Decisions follow the patient, in a real browser (§2.4; docs/design.md, Prescribing decisions). A review held
without the patient decided to end the methadone and reinstate supervised dosing: the patient's record, the
review page and the involvement page show both as pending the patient's involvement, and the OST and the
take-home doses go on. The senior practitioner records the involvement: both take effect on that day, the record
shows supervised consumption and the review page the day each took effect. Screenshots at desktop width and at
390 px. Dates are relative to today: the browser keeps real time, so the server must too."""

from datetime import date, timedelta

import pytest

from patients.models import DispensingArrangement, DispensingChange, Intervention
from reviews.models import ReviewStatus, StrategicReview
from reviews.services import strategic
from reviews.services.schedule import episode_schedule_refresh
from tests.reviews.test_review_views import ASSESSED
from tests.support.factories import DispensingArrangementFactory, InterventionFactory, StrategicReviewFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date.today()
PHONE = {"width": 390, "height": 844}
END_OST = "End Methadone (oral) 60 mg daily"
SUPERVISED = (
    "Dispensing: every dose supervised (Missed doses at the pharmacy: back to supervised consumption)"
)


def shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@pytest.fixture
def awaiting(episode, sam):
    """On methadone for 200 days with 2 take-home doses a week; the last review completed with the patient 60
    days ago; a review 3 days ago, without the patient, decided to end the methadone and supervise every dose."""
    episode.entry_date = TODAY - timedelta(days=200)
    episode.save()
    ost = InterventionFactory(episode=episode, started_on=episode.entry_date)
    DispensingArrangementFactory(
        episode=episode,
        effective_from=episode.entry_date + timedelta(days=90),
        take_home_doses_per_week=2,
        change_reason=DispensingChange.INTRODUCE_TAKE_HOME,
    )
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
    draft = strategic.review_start(episode=episode, lead=sam, by=sam, held_on=TODAY - timedelta(days=3))
    review = strategic.review_complete(
        review=draft,
        by=sam,
        held_on=draft.held_on,
        patient_took_part=False,
        participants=[{"name": "Priya Shah", "role": "pharmacist"}],
        overview="Held with the prescriber and the pharmacist; the patient did not come.",
        assessments=ASSESSED,
        dispensing={
            "take_home_doses_per_week": 0,
            "change_reason": DispensingChange.REINSTATE_SUPERVISION,
            "reason_note": "Missed doses at the pharmacy: back to supervised consumption.",
        },
        end_interventions=[ost],
    )
    assert review.status == ReviewStatus.AWAITING_PATIENT
    return review


def pending_items(page) -> list[str]:
    return [item.strip() for item in page.get_by_test_id("pending-decision").all_inner_texts()]


def test_a_review_awaiting_the_patient_shows_its_pending_decisions_until_the_involvement(
    page, login, screenshot, sam, episode, awaiting
):
    review = awaiting
    login(sam)
    page.goto(f"/patients/{episode.patient_id}/")
    assert pending_items(page) == [
        f"{SUPERVISED} pending the patient's involvement",
        f"{END_OST} pending the patient's involvement",
    ]
    assert (
        "2 take-home dose(s) a week" in page.get_by_test_id("treatment").inner_text()
    )  # nothing applied yet
    screenshot("pending-decisions-record")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot("pending-decisions-record-phone")
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.goto(f"/reviews/{review.pk}/")
    assert page.get_by_test_id("review-status").inner_text() == "Awaiting patient involvement"
    assert len(pending_items(page)) == 2
    assert "None of these is on the record yet" in page.get_by_test_id("pending-decisions").inner_text()
    screenshot("pending-decisions-review")

    page.get_by_role("link", name="Record the patient's involvement (§2.4)").click()
    page.get_by_test_id("involvement-form").wait_for()
    assert len(pending_items(page)) == 2
    page.fill("#id_involved_on", TODAY.isoformat())
    screenshot("pending-decisions-involvement")
    page.get_by_role("button", name="Complete the review").click()
    page.get_by_test_id("next-review").wait_for()

    main = page.inner_text("main")
    assert f"Taking effect from {shown(TODAY)}: {SUPERVISED}; {END_OST}." in main
    assert page.get_by_test_id("pending-decisions").count() == 0
    assert "Supervised consumption, every dose" in page.get_by_test_id("treatment").inner_text()
    assert Intervention.objects.get(episode=episode).ended_on == TODAY
    latest = DispensingArrangement.objects.filter(episode=episode).latest("effective_from", "recorded_at")
    assert (latest.take_home_doses_per_week, latest.effective_from) == (0, TODAY)
    screenshot("pending-decisions-applied-record")

    page.goto(f"/reviews/{review.pk}/")
    assert page.get_by_test_id("review-status").inner_text() == "Completed"
    assert pending_items(page) == [
        f"{SUPERVISED} took effect {shown(TODAY)}",
        f"{END_OST} took effect {shown(TODAY)}",
    ]
    assert StrategicReview.objects.get(pk=review.pk).completed_on == TODAY
    screenshot("pending-decisions-applied-review")
