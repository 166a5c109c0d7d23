"""Leaving treatment as a safety check, in a real browser (Intro, App. B: a brief raised risk of death just after
treatment ends). A keyworker ends an episode from the record: the page shows the dose, the last dose collected,
adherence over the last four weeks and what is still open; a "no" without a reason is answered at the top of the
form and beside the answer; once saved, the record shows the check, asks for the exit TOP until it is recorded,
and a death owes nothing, saying why. Screenshots at desktop width and at 390 px. Dates are relative to today:
the browser keeps real time, so the server must too."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from patients import services
from patients.models import Intervention, TopAssessment, TreatmentEpisode
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import DispensingArrangementFactory, InterventionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date.today()
PHONE = {"width": 390, "height": 844}


def shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def record_url(episode):
    return re.compile(rf"/patients/{episode.patient_id}/(#[\w]+)?$")


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def on_methadone(episode, alice):
    """In treatment for 90 days on methadone 60 mg with keyworking, supervised; two pharmacy reports in the last
    four weeks whose missed doses make one run of three across them."""
    entry = TODAY - timedelta(days=90)
    episode.entry_date = entry
    episode.save()
    InterventionFactory(episode=episode, started_on=entry, daily_dose_mg=60)
    InterventionFactory(
        episode=episode, kind="psychosocial", medicine="", daily_dose_mg=None, started_on=entry
    )
    DispensingArrangementFactory(episode=episode, effective_from=entry)
    first = TODAY - timedelta(days=22)
    for start, missed in ((first, (9, 10)), (first + timedelta(days=11), (0,))):
        services.pharmacy_report_record(
            episode=episode,
            pharmacy_name="Boots, High Street",
            period_start=start,
            period_end=start + timedelta(days=10),
            doses_due=11,
            supervised_doses_taken=11 - len(missed),
            take_home_doses_collected=0,
            missed_dates=[start + timedelta(days=d) for d in missed],
            by=alice,
        )
    episode_schedule_refresh(episode)
    return episode


def test_a_keyworker_ends_an_episode_as_a_safety_check(page, login, screenshot, alice, on_methadone):
    episode = on_methadone
    login(alice)
    page.goto(f"/patients/{episode.patient_id}/")
    page.get_by_role("button", name="More").click()
    page.get_by_role("link", name="End the episode").click()
    page.get_by_test_id("exit-form").wait_for()

    # Before the form: what the clinician weighs.
    check = page.get_by_test_id("before-exit")
    assert page.get_by_test_id("current-dose").inner_text().startswith("Methadone (oral) 60 mg daily since")
    last = TODAY - timedelta(days=1)
    assert page.get_by_test_id("last-dose").inner_text().startswith(f"{shown(last)} (yesterday)")
    adherence = page.get_by_test_id("adherence").inner_text()
    assert "Supervised doses taken: 19 of 22 due" in adherence
    assert "Doses missed: 3" in adherence
    run_from = TODAY - timedelta(days=13)
    assert f"Longest run of consecutive missed doses: 3, {run_from.day} {run_from:%b}" in adherence
    assert "tolerance may be lost" in adherence
    still_open = page.get_by_test_id("still-open").inner_text()
    assert "Methadone (oral) 60 mg daily" in still_open and "Psychosocial intervention" in still_open
    assert "Dispensing: Supervised consumption, every dose" in still_open
    assert check.bounding_box()["y"] < page.get_by_test_id("exit-form").bounding_box()["y"] or (
        check.bounding_box()["x"] < page.get_by_test_id("exit-form").bounding_box()["x"]
    )
    screenshot("leaving_treatment_check")

    # A "no" without a reason: listed at the top, linked to the answer, and beside it; nothing saved.
    page.select_option("#id_exit_reason", "dropped_out")
    page.check("#id_exit_relapse_risk_2")  # high
    page.check("#id_exit_risk_of_death_discussed_1")  # no
    page.check("#id_exit_harm_reduction_discussed_0")  # yes
    page.get_by_role("button", name="End the episode").click()
    page.wait_for_load_state()
    summary = page.get_by_test_id("form-errors")
    assert "Say why the risk of death after leaving treatment was not discussed." in summary.inner_text()
    for link in summary.get_by_role("link").all():
        target = link.get_attribute("href")
        assert page.locator(target).count() == 1, target
    # The summary has focus when the page loads, and its link moves focus to the answer (static/js/app.js).
    assert page.evaluate("document.activeElement.dataset.testid") == "form-errors"
    summary.get_by_role("link", name="Why not").click()
    assert page.evaluate("document.activeElement.id") == "id_exit_discussion_note"
    assert page.locator("#error_1_id_exit_discussion_note").is_visible()
    assert page.is_checked("#id_exit_relapse_risk_2") and page.is_checked(
        "#id_exit_risk_of_death_discussed_1"
    )
    assert TreatmentEpisode.objects.get(pk=episode.pk).exit_date is None
    screenshot("leaving_treatment_error")

    page.fill("#id_exit_discussion_note", "He left the appointment before we got to it; naloxone kit given.")
    page.get_by_role("button", name="End the episode").click()
    page.wait_for_url(record_url(episode))  # the fragment of the summary's link stays on the address
    message = page.locator("main .alert-success").inner_text()
    assert f"The episode ended on {shown(TODAY)} (Dropped out / left)." in message
    assert (
        "Methadone (oral) 60 mg daily; Psychosocial intervention; dispensing (Supervised consumption"
        in message
    )
    assert f"the first is due by {shown(TODAY + timedelta(days=14))}" in message
    assert Intervention.objects.filter(episode=episode, ended_on=TODAY).count() == 2
    exit_check = page.get_by_test_id("exit-check").inner_text()
    assert "Relapse risk at exit\nHigh" in exit_check
    assert "naloxone kit given" in exit_check
    assert "No exit TOP has been recorded" in page.get_by_test_id("exit-top-missing").inner_text()
    assert "Relapse risk: high" in page.locator(".timeline-entry.kind-episode.flag-warning").inner_text()
    screenshot("leaving_treatment_record")

    # The exit TOP, from the record's link: the form starts at the exit stage; then the record stops asking.
    page.get_by_test_id("exit-top-missing").get_by_role("link", name="Record the exit TOP").click()
    page.get_by_test_id("top-form").wait_for()
    assert page.input_value("#id_stage") == "exit"
    page.fill("#id_quality_of_life", "9")
    page.click("main button[type=submit]")
    page.wait_for_url(record_url(episode))
    assert TopAssessment.objects.get(episode=episode).stage == "exit"
    assert page.get_by_test_id("exit-top-missing").count() == 0


def test_the_exit_page_and_the_record_read_well_at_390_px(page, login, screenshot, alice, on_methadone):
    episode = on_methadone
    page.set_viewport_size(PHONE)
    login(alice)
    page.goto(reverse("patients:episode_exit", args=[episode.pk]))
    assert fits_the_width(page)
    # On a phone the check comes first, then the form.
    assert (
        page.get_by_test_id("before-exit").bounding_box()["y"]
        < page.get_by_test_id("exit-form").bounding_box()["y"]
    )
    screenshot("leaving_treatment_check_390")
    page.select_option("#id_exit_reason", "completed_drug_free")
    page.get_by_role("button", name="End the episode").click()
    page.wait_for_load_state()
    assert fits_the_width(page)
    screenshot("leaving_treatment_error_390")
    page.check("#id_exit_relapse_risk_0")
    page.check("#id_exit_risk_of_death_discussed_0")
    page.check("#id_exit_harm_reduction_discussed_0")
    page.get_by_role("button", name="End the episode").click()
    page.wait_for_url(record_url(episode))
    assert fits_the_width(page)
    screenshot("leaving_treatment_record_390")


def test_after_a_death_no_discussion_is_asked_and_the_record_says_why_nothing_is_owed(
    page, login, screenshot, alice, on_methadone
):
    episode = on_methadone
    login(alice)
    page.goto(reverse("patients:episode_exit", args=[episode.pk]))
    page.select_option("#id_exit_reason", "died")
    page.get_by_role("button", name="End the episode").click()
    page.wait_for_url(record_url(episode))
    why = f"Treatment ended on {shown(TODAY)} because the person died: no recovery check-ups are owed (§1.7)."
    assert why in page.locator("main .alert-success").inner_text()
    assert page.get_by_test_id("nothing-owed").inner_text() == why
    assert page.get_by_test_id("exit-top-missing").count() == 0
    stored = TreatmentEpisode.objects.get(pk=episode.pk)
    assert (stored.next_review_target, stored.exit_risk_of_death_discussed) == (None, None)
    screenshot("leaving_treatment_died")
