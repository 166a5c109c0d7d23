"""Bad input in each clinical form, in a real browser: the form comes back with a message beside the answer
that is wrong (what is wrong and how to put it right), keeps what was typed, and saves nothing."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.urls import reverse

from careplans.models import Goal, GoalAction
from patients.models import (
    Appointment,
    DispensingArrangement,
    DrugTest,
    EpisodeCircumstance,
    Intervention,
    PharmacyReport,
    TopAssessment,
    TreatmentEpisode,
)
from reviews.models import StrategicReview
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import GoalFactory, StrategicReviewFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date.today()
ENTRY = TODAY - timedelta(days=60)


def iso(day: date) -> str:
    return day.isoformat()


@dataclass
class Case:
    name: str
    url: object  # episode -> path
    fill: dict  # selector -> value ("select:" prefix chooses an option)
    error: str  # where the message shows
    message: str
    unsaved: object  # episode -> count of what must not have been saved
    kept: str = ""  # a selector whose typed value must survive the round trip


CASES = [
    Case(
        "appointment",
        lambda e: reverse("patients:appointment_new", args=[e.pk]),
        {"#id_on": iso(TODAY - timedelta(days=1)), "#id_at": "10:30"},
        "#error_1_id_review_note",
        "An attended appointment needs its ongoing-review note (§1.1).",
        lambda e: Appointment.objects.filter(episode=e).count(),
        kept="#id_on",
    ),
    Case(
        "top",
        lambda e: reverse("patients:top_new", args=[e.pk]),
        {"#id_assessed_on": iso(TODAY), "#id_injecting_days": "0", "select:#id_shared_needle": "yes"},
        "#error_1_id_shared_needle",
        "No days of injecting are recorded, so this cannot be yes: check both answers.",
        lambda e: TopAssessment.objects.filter(episode=e).count(),
        kept="#id_injecting_days",
    ),
    Case(
        "drug test without a result",
        lambda e: reverse("patients:drug_test_new", args=[e.pk]),
        {"#id_taken_on": iso(TODAY)},
        "[data-testid=results-errors]",
        "Give the result for at least one substance.",
        lambda e: DrugTest.objects.filter(episode=e).count(),
        kept="#id_taken_on",
    ),
    Case(
        "pharmacy report",
        lambda e: reverse("patients:pharmacy_report_new", args=[e.pk]),
        {
            "#id_pharmacy_name": "Boots, High Street",
            "#id_period_start": iso(TODAY - timedelta(days=14)),
            "#id_period_end": iso(TODAY - timedelta(days=1)),
            "#id_doses_due": "14",
            "#id_supervised_doses_taken": "13",
            "#id_missed_dates": f"{TODAY - timedelta(days=30):%d/%m/%Y}",
        },
        "#error_1_id_missed_dates",
        "Missed doses must fall within the report's period",
        lambda e: PharmacyReport.objects.filter(episode=e).count(),
        kept="#id_pharmacy_name",
    ),
    Case(
        "dispensing change",
        lambda e: reverse("patients:dispensing_change_new", args=[e.pk]),
        {"#id_effective_from": iso(TODAY), "#id_take_home_doses_per_week": "9", "#id_reason_note": "Stable."},
        "#error_1_id_take_home_doses_per_week",
        "At most 7 a week.",
        lambda e: DispensingArrangement.objects.filter(episode=e).count(),
        kept="#id_reason_note",
    ),
    Case(
        "circumstance",
        lambda e: reverse("patients:circumstance_new", args=[e.pk]),
        {"#id_started_on": iso(TODAY + timedelta(days=3))},
        "#error_1_id_started_on",
        "This date is in the future.",
        lambda e: EpisodeCircumstance.objects.filter(episode=e).count(),
    ),
    Case(
        "intervention",
        lambda e: reverse("patients:intervention_new", args=[e.pk]),
        {"#id_started_on": iso(ENTRY - timedelta(days=10)), "#id_note": "Keyworking"},
        "#error_1_id_started_on",
        f"This is before the episode began on {ENTRY.day} {ENTRY:%b %Y}.",
        lambda e: Intervention.objects.filter(episode=e).count(),
        kept="#id_note",
    ),
    Case(
        "exit",
        lambda e: reverse("patients:episode_exit", args=[e.pk]),
        {"#id_exit_date": iso(TODAY + timedelta(days=1)), "select:#id_exit_reason": "dropped_out"},
        "#error_1_id_exit_date",
        "This date is in the future.",
        lambda e: TreatmentEpisode.objects.filter(pk=e.pk, exit_date__isnull=False).count(),
    ),
    Case(
        "care-plan goal",
        lambda e: reverse("careplans:goal_new", args=[e.pk]),
        {"#id_description": "   "},
        "#error_1_id_description",
        "Describe the goal, in the patient's words where possible.",
        lambda e: Goal.objects.filter(care_plan__episode=e).count(),
    ),
    Case(
        "care-plan action",
        lambda e: reverse("careplans:action_new", args=[GoalFactory(care_plan__episode=e).pk]),
        {"#id_description": "Call the housing officer", "select:#id_owner": "other"},
        "#error_1_id_owner_name",
        "Name who owns this action.",
        lambda e: GoalAction.objects.filter(goal__care_plan__episode=e).count(),
        kept="#id_description",
    ),
    Case(
        "review start",
        lambda e: reverse("reviews:review_new", args=[e.pk]),
        {"#id_held_on": iso(TODAY + timedelta(days=2))},
        "#error_1_id_held_on",
        "This date is in the future.",
        lambda e: StrategicReview.objects.filter(episode=e).count(),
    ),
    Case(
        "review completion",
        lambda e: StrategicReviewFactory(
            episode=e, lead=e.lead_practitioner, held_on=TODAY
        ).get_absolute_url(),
        {"#id_self_report": "Feels more settled.", "#id_overview": ""},
        "#error_1_id_overview",
        "Write the step-back overview: it is what makes this a strategic review (§2.3).",
        lambda e: StrategicReview.objects.filter(episode=e, status="completed").count(),
        kept="#id_self_report",
    ),
]


@pytest.fixture
def open_episode(episode):
    episode.entry_date = ENTRY
    episode.save()
    episode_schedule_refresh(episode)
    return episode


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_its_message_beside_the_answer(case, page, login, screenshot, sam, open_episode):
    url = case.url(open_episode)
    before = case.unsaved(open_episode)
    login(sam)
    page.goto(url)
    for selector, value in case.fill.items():
        if selector.startswith("select:"):
            page.select_option(selector.removeprefix("select:"), value)
        else:
            page.fill(selector, value)
    page.locator("main form[method=post] button[type=submit]").first.click()
    page.wait_for_load_state()
    message = page.locator(case.error)
    assert case.message in message.inner_text()
    assert message.is_visible()
    if case.kept:
        assert page.input_value(case.kept) == case.fill[case.kept]
    assert case.unsaved(open_episode) == before
    screenshot(f"error_{case.name.replace(' ', '_').replace('-', '_')}")
