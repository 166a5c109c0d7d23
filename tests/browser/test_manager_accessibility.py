"""The manager's pages, the review list and the inbox on a phone (390 px) and a desktop (1366 px), on the demo
service (docs/design.md, Accessible on every device): no axe-core violation, nothing scrolls sideways, the
manager's tabs fit in two rows with the current page marked, each chart has titled axes and the forecast's chart
its numbers as a table. Screenshots under var/screenshots/manager/."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from recovery_reviews.management.demo.vocabulary import DEMO_PASSWORD
from reviews import reminders
from reviews.models import InboxItem
from tests.browser.accessibility import DESKTOP, PHONE, axe_violations, sideways_scroll
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = SCREENSHOTS / "manager"
MANAGER, ALL_TEAMS, KEYWORKER = "mgr.north", "mgr.all", "kw.north"

PAGES = [
    ("dashboard", MANAGER, lambda: reverse("reviews:dashboard")),
    ("dashboard-all-teams", ALL_TEAMS, lambda: reverse("reviews:dashboard")),
    ("review-list", MANAGER, lambda: reverse("reviews:list")),
    ("review-list-overdue", MANAGER, lambda: reverse("reviews:list") + "?status=overdue"),
    ("timeliness", MANAGER, lambda: reverse("reviews:timeliness")),
    ("timeliness-all-teams", ALL_TEAMS, lambda: reverse("reviews:timeliness") + "?quarters=12"),
    ("forecast", MANAGER, lambda: reverse("reviews:forecast")),
    ("forecast-all-teams", ALL_TEAMS, lambda: reverse("reviews:forecast")),
    ("outcomes", ALL_TEAMS, lambda: reverse("reviews:outcomes")),
    ("unmet-needs", ALL_TEAMS, lambda: reverse("reviews:unmet_needs")),
    ("inbox", KEYWORKER, lambda: reverse("reviews:inbox")),
    (
        "inbox-item",
        KEYWORKER,
        lambda: reverse(
            "reviews:inbox_open",
            kwargs={"pk": InboxItem.objects.filter(recipient__username=KEYWORKER).first().pk},
        ),
    ),
    ("email-preference", KEYWORKER, lambda: reverse("reviews:email_preference")),
]

WIDEST = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-responsive'))
    .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", patients=150, seed=7, today=date.today(), stdout=io.StringIO())
    for reminder_id in reminders.reminders_sweep().to_deliver:  # today's reminders, in the inbox
        reminders.reminder_deliver(reminder_id=reminder_id)


def _sign_in(page, username):
    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_the_manager_pages_pass_axe_and_fit_a_phone_and_a_desktop(page, demo):
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems, signed_in = [], None
    for name, user, address in PAGES:
        if user != signed_in:
            _sign_in(page, user)
            signed_in = user
        for size, label in ((PHONE, "390"), (DESKTOP, "1366")):
            page.set_viewport_size(size)
            assert page.goto(address()).status == 200, name
            page.wait_for_load_state("networkidle")
            if violations := axe_violations(page):
                problems.append(f"{name} at {label}: {violations}")
            if (wider := sideways_scroll(page)) != 0:
                problems.append(f"{name} at {label}: {wider} px sideways: {page.evaluate(WIDEST)}")
            page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    assert problems == []


def test_on_a_phone_the_manager_tabs_take_two_rows_and_mark_the_current_page(page, demo):
    _sign_in(page, MANAGER)
    page.set_viewport_size(PHONE)
    page.goto(reverse("reviews:timeliness"))
    tabs = page.get_by_role("navigation", name="Manager's pages").get_by_role("link")
    assert tabs.count() == 6
    rows = {round(box["y"]) for box in (tab.bounding_box() for tab in tabs.all())}
    assert len(rows) == 2
    assert all(tab.bounding_box()["height"] >= 44 for tab in tabs.all())
    current = page.locator("[data-testid=manager-nav] [aria-current=page]")
    assert current.all_inner_texts() == ["First-review timeliness"]
    show = page.locator("main form[method=get] button[type=submit]")
    assert show.bounding_box()["height"] >= 44  # the page's main action, on a phone
    # Sideways on a phone as the walk measures it: the page opened at 1366 px, then the window narrowed.
    page.set_viewport_size(DESKTOP)
    page.goto(reverse("reviews:forecast"))
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    assert sideways_scroll(page) == 0


def test_the_review_list_on_a_phone_is_a_card_per_item_with_its_days_overdue(page, demo):
    _sign_in(page, MANAGER)
    page.set_viewport_size(PHONE)
    page.goto(reverse("reviews:list") + "?status=overdue")
    row = page.get_by_test_id("list-row").first
    cell = row.get_by_test_id("days-overdue")
    # Each line labelled for the eye (the column headings are hidden); the label's alternative text is empty.
    assert cell.evaluate("e => getComputedStyle(e, '::before').content") == '"Days overdue" / ""'
    assert page.locator("[data-testid=review-list] thead").bounding_box()["height"] <= 1
    assert int(cell.inner_text()) > 0
    assert row.bounding_box()["width"] <= PHONE["width"]
    # A screen reader still meets a table with its column headings.
    assert page.get_by_role("table").get_by_role("columnheader", name="Days overdue").count() == 1
    page.screenshot(path=str(SHOTS / "review-list-card-390.png"))
    # An item not overdue: no "Days overdue" line on its card.
    page.goto(reverse("reviews:list") + "?status=due_soon")
    row = page.get_by_test_id("list-row").first
    row.scroll_into_view_if_needed()
    assert not row.get_by_test_id("days-overdue").is_visible()
    assert "Due soon" in row.inner_text()
    page.screenshot(path=str(SHOTS / "review-list-card-due-soon-390.png"))


def test_the_forecast_chart_has_titled_axes_and_its_numbers_as_a_table(page, demo):
    _sign_in(page, MANAGER)
    page.goto(reverse("reviews:forecast"))
    titles = page.evaluate(
        """() => { const c = Chart.getChart(document.querySelector('canvas[data-chart]'));
            return [c.options.scales.x.title.text, c.options.scales.y.title.text]; }"""
    )
    assert titles == ["Week beginning", "Reviews and check-ups due"]
    numbers = page.get_by_test_id("forecast-chart-table")
    numbers.locator("summary").click()
    table = numbers.get_by_role("table")
    assert table.get_by_role("columnheader").all_inner_texts() == [
        "Week beginning",
        "Strategic reviews",
        "Recovery check-ups",
        "Total",
        "Capacity",
    ]
    assert table.locator("tbody tr").count() == 12
