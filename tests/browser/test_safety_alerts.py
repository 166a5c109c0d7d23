"""Safety alerts in a real browser (docs/design.md rules 3b and 4b; App. C 1 and 2): a run of missed doses over two
pharmacy reports raises the safety alert on the record, as a run inside one report does, and telling the prescriber
once, from the alert, closes the whole run; a cut in the methadone dose puts the record and the caseload on
vigilance. Dates are relative to today: the browser keeps real time, so the server must too. Screenshots at desktop
width and at 390 px are kept under var/screenshots/."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from patients import services
from patients.models import InterventionKind, Medicine, PharmacyReport
from reviews.services.schedule import episode_schedule_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@pytest.fixture
def recent_episode(episode):
    episode.entry_date = date.today() - timedelta(days=60)
    episode.save()
    episode_schedule_refresh(episode)
    return episode


def test_a_run_over_two_reports_raises_the_safety_alert_on_the_record(
    page, login, screenshot, alice, sam, recent_episode
):
    """The pharmacist's first report ends with two missed doses; the keyworker records the next, which begins with
    two more: four in a row, a safety event, though neither report has three. Methadone was cut from 60 to 30 mg
    three weeks ago: the record and the caseload say so until the next review."""
    episode = recent_episode
    cut_on = date.today() - timedelta(days=21)
    ost = services.intervention_record(
        episode=episode,
        kind=InterventionKind.OST,
        medicine=Medicine.METHADONE,
        daily_dose_mg=Decimal("60"),
        started_on=episode.entry_date,
        by=sam,  # a prescribing decision, for a senior practitioner (§2.5)
    )
    services.intervention_end(intervention=ost, ended_on=cut_on, by=sam)
    services.intervention_record(
        episode=episode,
        kind=InterventionKind.OST,
        medicine=Medicine.METHADONE,
        daily_dose_mg=Decimal("30"),
        started_on=cut_on,
        by=sam,
    )
    first_start = date.today() - timedelta(days=30)
    first_end = first_start + timedelta(days=13)
    services.pharmacy_report_record(
        episode=episode,
        pharmacy_name="Boots, High Street",
        period_start=first_start,
        period_end=first_end,
        doses_due=14,
        supervised_doses_taken=12,
        take_home_doses_collected=0,
        missed_dates=[first_end - timedelta(days=1), first_end],
        by=alice,
    )
    login(alice)
    page.goto(f"/patients/{episode.patient_id}/")
    assert page.get_by_test_id("safety-event").count() == 0  # two in a row: not yet a safety event
    vigilance = page.get_by_test_id("vigilance").inner_text()
    assert "Within 3 months of a transition" in vigilance
    assert f"Methadone 60 mg → 30 mg on {shown(cut_on)}" in vigilance

    second_start = first_end + timedelta(days=1)
    page.click("main a:has-text('Pharmacy report')")
    page.fill("#id_pharmacy_name", "Boots, High Street")
    page.fill("#id_period_start", second_start.isoformat())
    page.fill("#id_period_end", (second_start + timedelta(days=13)).isoformat())
    page.fill("#id_doses_due", "14")
    page.fill("#id_supervised_doses_taken", "12")
    missed = [second_start, second_start + timedelta(days=1)]
    page.fill("#id_missed_dates", ", ".join(f"{d:%d/%m/%Y}" for d in missed))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/$"))

    first_missed, last_missed = first_end - timedelta(days=1), missed[-1]
    warning = page.locator(".alert-warning", has_text="a safety event").first.inner_text()
    assert (
        f"4 consecutive missed doses, {shown(first_missed)} to {shown(last_missed)}, over 2 pharmacy reports: "
        "a safety event. Tolerance may be lost; tell the prescriber before dosing resumes"
    ) in warning
    alert = page.get_by_test_id("safety-event")
    assert alert.count() == 1
    text = alert.inner_text()
    assert f"4 consecutive missed doses, {shown(first_missed)} to {shown(last_missed)}" in text
    assert "(Boots, High Street, over 2 reports): tolerance may be lost." in text
    assert "Tell the prescriber before dosing resumes." in text
    assert page.get_by_test_id("longest-run").inner_text() == "4"
    alert.scroll_into_view_if_needed()
    screenshot("safety_alert_over_two_reports")
    page.set_viewport_size(PHONE)
    alert.scroll_into_view_if_needed()
    assert alert.is_visible()
    screenshot("safety_alert_over_two_reports_390")

    alert.get_by_role("link", name="Record that they were told").click()
    page.get_by_test_id("prescriber-told-form").wait_for()
    owner = PharmacyReport.objects.get(period_start=second_start)  # it holds the run's third day
    assert page.url.endswith(reverse("patients:prescriber_informed", args=[owner.pk]))
    missed_doses = page.get_by_test_id("the-missed-doses").inner_text()
    assert "over 2 pharmacy reports" in missed_doses
    assert "Told once, it is recorded for the whole run." in missed_doses
    screenshot("prescriber_told_over_two_reports_390")
    page.fill("#id_informed_on", date.today().isoformat())
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"/patients/{episode.patient_id}/$"))
    assert f"Prescriber told on {shown(date.today())}." in page.get_by_test_id("safety-event").inner_text()
    assert page.get_by_role("link", name="Record that they were told").count() == 0
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_test_id("safety-event").scroll_into_view_if_needed()
    screenshot("safety_alert_over_two_reports_told")

    page.goto("/")
    events = page.get_by_test_id("safety-events").inner_text()
    assert "4 consecutive missed doses at Boots, High Street" in events and "across reports" in events
    assert "Prescriber not yet told" not in events
    row = page.get_by_test_id("caseload-row").first
    assert row.get_by_test_id("vigilance-badge").inner_text() == "Within 3 months of a transition"
    assert (
        row.get_by_test_id("vigilance-changes").inner_text() == f"Methadone 60 mg → 30 mg on {shown(cut_on)}"
    )
    screenshot("caseload_vigilance_and_safety_event")
    page.set_viewport_size(PHONE)
    screenshot("caseload_vigilance_and_safety_event_390")
