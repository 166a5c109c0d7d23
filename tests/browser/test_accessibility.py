"""Every page, as the role that uses it, in the normal and the error state
(docs/design.md, Accessible on every device): no axe-core violation of WCAG 2.0, 2.1 and 2.2 A and AA or of best practice; at 390 px nothing scrolls
sideways; a form that fails lists its errors at the top, each a link to its field, and its title begins
"Error: ". The demo service is the data, so each page shows what a real one would.

A new page is covered by adding it to PAGES; a URL that is not a page of its own goes in NOT_PAGES with the
reason. Screenshots of every page at both sizes are kept under var/screenshots/pages/."""

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from careplans.models import Goal, GoalAction
from interop.caseload_import.columns import COLUMNS
from interop.caseload_import.services import caseload_import_upload
from patients.models import (
    Appointment,
    EpisodeCircumstance,
    Intervention,
    PharmacyReport,
    TopAssessment,
    TreatmentEpisode,
)
from recovery_reviews.management.demo.vocabulary import DEMO_PASSWORD
from recovery_reviews.models import Team, User
from reviews import reminders
from reviews.models import InboxItem, OwedItem, ReviewStatus, StrategicReview
from reviews.services import strategic
from tests.browser.accessibility import page_problems
from tests.browser.conftest import SCREENSHOTS
from tests.recovery_reviews.test_url_walk import _named_routes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = SCREENSHOTS / "pages"


class Demo:
    """The demo service's records each page is aimed at: North's, seen by North's staff."""

    def __init__(self):
        self.north = Team.objects.get(name="North")
        self.keyworker = User.objects.get(username="kw.north")
        open_episodes = TreatmentEpisode.objects.filter(
            exit_date__isnull=True, patient__team=self.north, patient__keyworker=self.keyworker
        ).order_by("pk")
        self.episode = open_episodes.filter(interventions__ended_on__isnull=True).first()
        self.patient = self.episode.patient
        self.ended = TreatmentEpisode.objects.filter(
            patient__team=self.north, exit_date__isnull=False
        ).first()
        self.review = StrategicReview.objects.filter(
            episode__patient__team=self.north, status=ReviewStatus.COMPLETED
        ).first()
        self.awaiting = StrategicReview.objects.filter(
            episode__patient__team=self.north, status=ReviewStatus.AWAITING_PATIENT
        ).first()
        self.appointment = Appointment.objects.filter(episode=self.episode).order_by("-starts_at").first()
        self.intervention = Intervention.objects.filter(episode=self.episode, ended_on__isnull=True).first()
        self.circumstance = EpisodeCircumstance.objects.filter(episode__patient__team=self.north).first()
        self.report = PharmacyReport.objects.filter(episode__patient__team=self.north).first()
        self.top = TopAssessment.objects.filter(episode=self.episode).first()
        self.goal = Goal.objects.filter(care_plan__episode__patient__team=self.north).first()
        # The reminders the service would have sent today, delivered, so that the inbox holds what it would.
        for reminder_id in reminders.reminders_sweep().to_deliver:
            reminders.reminder_deliver(reminder_id=reminder_id)
        self.element_end = OwedItem.objects.filter(
            episode__patient__team=self.north, element_end__isnull=False
        ).first()
        # A review in progress, on another of North's open episodes, for the review form itself.
        senior = User.objects.get(username="sp.north")
        other = open_episodes.exclude(pk=self.episode.pk).filter(patient__team=self.north).first()
        self.draft = strategic.review_start(episode=other, lead=senior, by=senior, held_on=date.today())
        # A caseload file checked and not imported: the dry run's page, with a problem on its one row.
        self.caseload_import = caseload_import_upload(
            content=(
                ",".join(column.name for column in COLUMNS)
                + "\r\n943 476 5918,Jo,Bloggs,14/03/1981,North,kw.north,,2025-06-02,heroin"
                + "," * (len(COLUMNS) - 9)
                + "\r\n"
            ).encode(),
            filename="caseload.csv",
            team=self.north,
            by=User.objects.get(username="mgr.north"),
        )
        self.inbox_item = InboxItem.objects.filter(recipient=self.keyworker).first()
        self.action = GoalAction.objects.filter(
            goal__care_plan__episode__patient__team=self.north, completed_on__isnull=True
        ).first()


def url(name: str, **kwargs: Callable[[Demo], object]) -> Callable[[Demo], str]:
    return lambda demo: reverse(name, kwargs={key: get(demo) for key, get in kwargs.items()})


# The error state: every date in the form emptied (a date is asked by nearly every form), the browser's own
# checks off so that the server's answer is what is seen.
BLANK_DATES = {"input[type=date]": ""}


@dataclass(frozen=True)
class Page:
    name: str
    user: str  # a demo login
    url: Callable[[Demo], str]
    error: dict | None = None  # what to type to make the form fail (selector -> value), None when no form


KW, SP, MGR, ALL, SUPPORT, IG = "kw.north", "sp.north", "mgr.north", "mgr.all", "support", "ig"
PAGES = [
    Page(
        "sign-in", "", lambda d: reverse("login"), error={"#id_username": "kw.east", "#id_password": "wrong"}
    ),
    Page("caseload", KW, url("patients:caseload")),
    Page("caseload, team", SP, lambda d: reverse("patients:caseload") + "?mine="),
    Page("patient", KW, url("patients:detail", pk=lambda d: d.patient.pk)),
    Page("patient, ended episode", KW, url("patients:detail", pk=lambda d: d.ended.patient.pk)),
    Page("register a patient", KW, url("patients:register"), error={"#id_nhs_number": "1234567890"}),
    Page("handover", SP, url("patients:handover"), error={}),
    Page("care team", SP, url("patients:move", pk=lambda d: d.patient.pk), error={}),
    Page("correct details", KW, url("patients:correct", pk=lambda d: d.patient.pk), error=BLANK_DATES),
    Page("new episode", KW, url("patients:episode_open", pk=lambda d: d.ended.patient.pk), error=BLANK_DATES),
    Page(
        "leave treatment",
        KW,
        url("patients:episode_exit", episode_pk=lambda d: d.episode.pk),
        error=BLANK_DATES,
    ),
    Page(
        "appointment",
        KW,
        url("patients:appointment_new", episode_pk=lambda d: d.episode.pk),
        error=BLANK_DATES,
    ),
    Page(
        "appointment outcome",
        KW,
        url("patients:appointment_outcome", pk=lambda d: d.appointment.pk),
        error={},
    ),
    Page("TOP", KW, url("patients:top_new", episode_pk=lambda d: d.episode.pk), error=BLANK_DATES),
    Page(
        "drug test", KW, url("patients:drug_test_new", episode_pk=lambda d: d.episode.pk), error=BLANK_DATES
    ),
    Page(
        "pharmacy report",
        KW,
        url("patients:pharmacy_report_new", episode_pk=lambda d: d.episode.pk),
        error=BLANK_DATES,
    ),
    Page(
        "dispensing change",
        KW,
        url("patients:dispensing_change_new", episode_pk=lambda d: d.episode.pk),
        error=BLANK_DATES,
    ),
    Page(
        "circumstance",
        KW,
        url("patients:circumstance_new", episode_pk=lambda d: d.episode.pk),
        error=BLANK_DATES,
    ),
    Page(
        "end a circumstance",
        KW,
        url("patients:circumstance_end", pk=lambda d: d.circumstance.pk),
        error=BLANK_DATES,
    ),
    Page(
        "intervention",
        KW,
        url("patients:intervention_new", episode_pk=lambda d: d.episode.pk),
        error=BLANK_DATES,
    ),
    Page(
        "end an intervention",
        KW,
        url("patients:intervention_end", pk=lambda d: d.intervention.pk),
        error=BLANK_DATES,
    ),
    Page(
        "prescriber told",
        KW,
        url("patients:prescriber_informed", pk=lambda d: d.report.pk),
        error=BLANK_DATES,
    ),
    Page(
        "entered in error",
        KW,
        url("patients:entered_in_error", kind=lambda d: "top", pk=lambda d: d.top.pk),
        error={},
    ),
    Page("care plan", KW, url("careplans:plan", episode_pk=lambda d: d.episode.pk)),
    Page(
        "new goal",
        KW,
        url("careplans:goal_new", episode_pk=lambda d: d.episode.pk),
        error={"#id_description": " "},
    ),
    Page(
        "edit a goal", KW, url("careplans:goal_edit", pk=lambda d: d.goal.pk), error={"#id_description": " "}
    ),
    Page(
        "new action", KW, url("careplans:action_new", pk=lambda d: d.goal.pk), error={"#id_description": " "}
    ),
    Page(
        "strategic review",
        SP,
        url("reviews:review_new", episode_pk=lambda d: d.episode.pk),
        error=BLANK_DATES,
    ),
    Page("strategic review form", SP, url("reviews:detail", pk=lambda d: d.draft.pk), error=BLANK_DATES),
    Page("review record", SP, url("reviews:detail", pk=lambda d: d.review.pk)),
    Page("involvement", SP, url("reviews:review_involvement", pk=lambda d: d.awaiting.pk), error=BLANK_DATES),
    Page(
        "recovery check-up",
        KW,
        url("reviews:check_up_new", episode_pk=lambda d: d.ended.pk),
        error=BLANK_DATES,
    ),
    Page(
        "check-up after an element",
        KW,
        url(
            "reviews:element_check_up_new",
            episode_pk=lambda d: d.element_end.episode_id,
            end=lambda d: d.element_end.element_end.isoformat(),
        ),
        error=BLANK_DATES,
    ),
    Page("inbox", KW, url("reviews:inbox")),
    Page(
        "inbox item",
        KW,
        url("reviews:inbox_open", pk=lambda d: d.inbox_item.pk),
    ),
    Page("email preference", KW, url("reviews:email_preference")),
    Page("dashboard", MGR, url("reviews:dashboard")),
    Page("dashboard, all teams", ALL, url("reviews:dashboard")),
    Page("review list", MGR, url("reviews:list")),
    Page("review list, overdue", MGR, lambda d: reverse("reviews:list") + "?status=overdue"),
    Page("timeliness", MGR, url("reviews:timeliness")),
    Page("forecast", MGR, url("reviews:forecast"), error={"input[type=number]": "-1"}),
    Page("outcomes", MGR, url("reviews:outcomes")),
    Page("unmet needs", MGR, url("reviews:unmet_needs")),
    Page("access logs", MGR, url("access_log_search"), error={"#id_nhs_number": "123"}),
    Page("record access log", MGR, url("access_log", pk=lambda d: d.patient.pk)),
    Page("access logs, information governance", IG, url("access_log_search"), error={"#id_nhs_number": "1"}),
    Page("record access log, information governance", IG, url("access_log", pk=lambda d: d.ended.patient.pk)),
    Page("caseload import", MGR, url("caseload_import:upload"), error={}),
    Page("caseload check", MGR, url("caseload_import:result", pk=lambda d: d.caseload_import.pk)),
    Page("NDTMS return", MGR, url("ndtms:return"), error={"#id_month": "November"}),
    Page("NDTMS consent", KW, url("ndtms:consent", pk=lambda d: d.patient.pk), error={}),
    Page("people", SUPPORT, url("account_people")),
    Page("password", KW, url("password_change"), error={"#id_old_password": "wrong"}),
    Page("password changed", KW, url("password_change_done")),
    Page("two-factor enrolment", KW, url("two_factor_enrol"), error={"input[name=token]": "000000"}),
]

# URLs that are not pages of their own: answered by a redirect or a file, or open only by a one-time link.
NOT_PAGES = {
    "home": "redirects to the role's first page (the caseload or the dashboard)",
    "logout": "POST only, then the sign-in page",
    "reviews:inbox_read_all": "POST only, then the inbox",
    "caseload_import:template": "a CSV file (the template)",
    "caseload_import:problems_csv": "a CSV file (an import's problems)",
    "caseload_import:commit": "POST only: the check page's Import button, then back to that page",
    "ndtms:download": "a CSV file (the return)",
    "fhir:patient": "JSON, a FHIR R4 Bundle (or its download): no HTML",
    "patients:safety_event_acknowledge": "POST only: acknowledges a safety event from the caseload, then back to it",
    "reviews:review_discard": "POST only: the review form's 'Discard this draft' button",
    "reviews:capacity_set": "POST only: the forecast's capacity form, whose error state is the forecast's",
    "account_reset_link": "POST only: the people page's button; it answers with the link, shown in that page",
    "careplans:action_complete": "POST only: the care plan's 'Done' button, which swaps the action in place",
    "reviews:list_csv": "a CSV file",
    "reviews:review_preview": "an htmx fragment of the strategic review form (the schedule it would set)",
    "reviews:unmet_needs_csv": "a CSV file",
    "password_reset_confirm": "open only by a one-time link; the same form as the password page",
    "password_reset_complete": "reached only from a reset link; a line of text and the sign-in link",
    "two_factor_verify": "only with two-factor sign-in on, which the browser tests leave off (as DEBUG does)",
}


def test_every_url_is_a_page_in_the_list_or_says_why_not(db):
    call_command("seed_demo", patients=150, seed=7, stdout=io.StringIO())
    demo = Demo()
    from django.urls import resolve

    covered = set()
    for page in PAGES:
        match = resolve(page.url(demo).split("?")[0])
        covered.add(match.view_name)
    missing = [name for name, _route, _ in _named_routes() if name not in covered and name not in NOT_PAGES]
    assert not missing, "add these to PAGES (or NOT_PAGES, saying why): " + ", ".join(missing)


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", patients=150, seed=7, today=date.today(), stdout=io.StringIO())
    return Demo()


def _sign_in(page, username):
    page.goto("about:blank")
    page.context.clear_cookies()
    if not username:
        return
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _fail(page, fill: dict) -> None:
    """Type what makes the form fail and send it, the browser's own checks off."""
    # The page's form: of the forms that post (or, on a search page, of all), the one that asks the most.
    forms = page.locator("main form[method=post], main form[method=POST]")
    forms = forms if forms.count() else page.locator("main form")
    sizes = [f.locator("input:not([type=hidden]), select, textarea").count() for f in forms.all()]
    form = forms.nth(sizes.index(max(sizes)))
    form.evaluate("f => { f.noValidate = true; }")
    for selector, value in fill.items():
        for element in form.locator(f"{selector}:visible").all():
            element.fill(value)
    with page.expect_navigation(timeout=10_000):
        form.locator(
            "button[type=submit]:visible, button:not([type]):visible, input[type=submit]:visible"
        ).first.click(timeout=5_000)


def test_every_page_passes_axe_and_fits_a_phone_in_the_normal_and_the_error_state(page, demo):
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    signed_in = None
    only = [name.strip() for name in os.environ.get("A11Y_PAGES", "").split(",") if name.strip()]
    for spec in PAGES:
        if only and not any(spec.name.startswith(name) for name in only):
            continue  # A11Y_PAGES="caseload,patient" walks only the pages whose names begin so, while working
        if spec.user != signed_in:
            _sign_in(page, spec.user)
            signed_in = spec.user
        address = spec.url(demo)
        try:
            response = page.goto(address)
        except Exception as error:  # chromium refuses to show some error answers at all
            problems.append(f"{spec.name}: {address} could not be shown: {error}")
            continue
        if response.status != 200:
            problems.append(f"{spec.name}: {address} answered {response.status}")
            continue
        problems += page_problems(page, spec.name, SHOTS)
        if spec.error is None:
            continue
        try:
            _fail(page, spec.error)
        except Exception as error:
            problems.append(f"{spec.name}: the form could not be sent: {str(error).splitlines()[0]}")
            continue
        state = f"{spec.name}, error"
        title = page.title()
        summary = page.locator("[data-testid=form-errors]")
        if not title.startswith("Error: "):
            problems.append(f"{state}: the title does not begin 'Error: ' ({title!r})")
        if summary.count() != 1:
            problems.append(f"{state}: no error summary at the top")
        else:
            for link in summary.locator("a").all():
                target = link.get_attribute("href") or ""
                if not target.startswith("#") or page.locator(target).count() != 1:
                    problems.append(f"{state}: the summary's link {target!r} leads nowhere")
        problems += page_problems(page, state, SHOTS)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
