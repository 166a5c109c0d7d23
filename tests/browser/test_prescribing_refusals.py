"""Prescribing decisions by the right people, walked in a real browser as a keyworker (§2.5, §2.4, App. C 1;
docs/design.md, Prescribing decisions). Alice, a keyworker, tries each prescribing step on patients on
methadone: ending the OST, introducing take-home doses, completing a strategic review, and recording the
patient's involvement on a review led by a senior practitioner. Each is refused, the refusal says who can do it,
beside its field and in the list at the top, and nothing is saved. Screenshots of every refusal, at desktop width
and at 390 px. Dates are relative to today: the browser keeps real time, so the server must too."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from patients.models import DispensingArrangement, Intervention
from reviews.models import ReviewStatus, StrategicReview
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import (
    AppointmentFactory,
    DispensingArrangementFactory,
    EpisodeFactory,
    InterventionFactory,
    PatientFactory,
    StrategicReviewFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date.today()
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}
END_OST_WHO = "a senior practitioner records it (§2.5)"
TAKE_HOME_WHO = (
    "Introducing or extending take-home doses is a prescribing decision: a senior practitioner records it"
)
COMPLETE_WHO = "only a senior practitioner can complete this review (§2.5)"
INVOLVEMENT_WHO = (
    "a senior practitioner, or the review's lead (Sam Senior), records the patient's involvement"
)


def on_methadone(episode, sam):
    """In treatment for 200 days on methadone 60 mg, every dose supervised, seen by the keyworker a week ago; the
    first strategic review completed with the patient 60 days ago."""
    episode.entry_date = TODAY - timedelta(days=200)
    episode.save()
    InterventionFactory(episode=episode, started_on=episode.entry_date, daily_dose_mg=60)
    DispensingArrangementFactory(
        episode=episode, effective_from=episode.entry_date, take_home_doses_per_week=0
    )
    AppointmentFactory(
        episode=episode, starts_at=datetime.combine(TODAY - timedelta(days=7), time(10), tzinfo=UTC)
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
    return episode


@pytest.fixture
def pat(episode, sam):
    """Pat, on methadone, with a strategic review that Sam, the senior practitioner, started today."""
    on_methadone(episode, sam)
    StrategicReviewFactory(episode=episode, lead=sam, held_on=TODAY)
    episode_schedule_refresh(episode)
    return episode


@pytest.fixture
def awaiting(team, alice, sam):
    """Another of Alice's patients on methadone, whose review Sam held three days ago without them."""
    episode = on_methadone(
        EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=alice, given_name="Robin", family_name="Awaits"),
            lead_practitioner=sam,
        ),
        sam,
    )
    review = StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=TODAY - timedelta(days=3),
        status=ReviewStatus.AWAITING_PATIENT,
        patient_took_part=False,
        overview="Stepped back over the whole plan with the team; the patient could not come.",
    )
    episode_schedule_refresh(episode)
    return review


def refused(page, field_id: str, words: str) -> None:
    """The refusal is beside its field and in the list at the top, linked to the field."""
    assert words in page.get_by_test_id("form-errors").inner_text()
    assert page.locator(f'[data-testid="form-errors"] a[href="#{field_id}"]').count() == 1
    beside = page.locator(f"#{field_id} ~ .invalid-feedback, #{field_id}_error, #error_1_{field_id}")
    assert (
        words in " ".join(beside.all_inner_texts()) or words in page.locator(f"#div_{field_id}").inner_text()
    )


def fits_a_phone(page, screenshot, name: str) -> None:
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_a_keyworker_is_refused_each_prescribing_step_with_who_can_do_it(
    page, login, screenshot, alice, pat, awaiting
):
    login(alice)

    # 1. Ending the OST, from the record's treatment list.
    page.goto(f"/patients/{pat.patient_id}/")
    page.get_by_test_id("treatment").get_by_role("link", name="end").first.click()
    page.fill("#id_ended_on", (TODAY - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Save").click()
    page.get_by_test_id("form-errors").wait_for()
    refused(page, "id_ended_on", END_OST_WHO)
    assert Intervention.objects.get(episode=pat).ended_on is None
    screenshot("prescribing-refused-1-end-ost")
    fits_a_phone(page, screenshot, "prescribing-refused-1-end-ost")

    # 2. Introducing take-home doses outside a review, from the record's actions.
    page.goto(f"/patients/{pat.patient_id}/")
    page.get_by_role("button", name="More").click()
    page.get_by_role("link", name="Change dispensing").click()
    assert "App. C 1" in page.inner_text("main")  # the conditions are shown before anything is typed
    page.fill("#id_effective_from", TODAY.isoformat())
    page.fill("#id_take_home_doses_per_week", "3")
    page.select_option("#id_change_reason", "introduce_take_home")
    page.fill("#id_reason_note", "Stable for three months.")
    page.get_by_role("button", name="Save").click()
    page.get_by_test_id("form-errors").wait_for()
    refused(page, "id_take_home_doses_per_week", TAKE_HOME_WHO)
    assert DispensingArrangement.objects.filter(episode=pat).count() == 1
    screenshot("prescribing-refused-2-take-home")
    fits_a_phone(page, screenshot, "prescribing-refused-2-take-home")

    # 3. Completing the strategic review Sam started, with everything it asks for filled in.
    review = StrategicReview.objects.get(episode=pat, status=ReviewStatus.DRAFT)
    page.goto(f"/reviews/{review.pk}/")
    page.check("#id_patient_took_part")
    page.fill("#id_overview", "Stepped back over the whole plan with Pat.")
    for domain, progress in (
        ("drug_alcohol", "improved"),
        ("health", "maintained"),
        ("offending", "no_change"),
        ("social", "improved"),
    ):
        page.select_option(f"#id_{domain}_progress", progress)
    page.get_by_test_id("complete-review").click()
    page.get_by_test_id("form-errors").wait_for()
    assert COMPLETE_WHO in page.get_by_test_id("form-errors").inner_text()
    review.refresh_from_db()
    assert review.status == ReviewStatus.DRAFT
    screenshot("prescribing-refused-3-complete-review")

    # 4. Recording the patient's involvement on Sam's review held without them.
    page.goto(f"/reviews/{awaiting.pk}/")
    page.get_by_role("link", name="Record the patient's involvement").click()
    page.fill("#id_involved_on", TODAY.isoformat())
    page.get_by_role("button", name="Complete the review").click()
    page.get_by_test_id("form-errors").wait_for()
    assert INVOLVEMENT_WHO in page.get_by_test_id("form-errors").inner_text()
    assert page.inner_text("main").count(INVOLVEMENT_WHO) == 1  # in the list at the top, not twice
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.completed_on) == (ReviewStatus.AWAITING_PATIENT, None)
    screenshot("prescribing-refused-4-involvement")
    fits_a_phone(page, screenshot, "prescribing-refused-4-involvement")
