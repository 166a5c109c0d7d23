"""The strategic review on a phone and to a screen reader (docs/design.md, Accessible on every device): the review
form and the review record, with the demo service's data, have no axe-core violation at 390 px and at 1366 px,
never scroll sideways, and "Complete the review" is on screen, uncovered by the evidence pack, and at least 44 px
high on a phone. The form after a failed submit too: every input keeps a label of its own. The involvement and
check-up forms: no violation, no sideways scroll, their button 44 px high on a phone. Screenshots review-a11y-* at
both sizes."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import Count, Q
from django.urls import reverse

from patients.models import TreatmentEpisode
from recovery_reviews.management.demo.vocabulary import DEMO_PASSWORD
from reviews.models import OwedItem, ReviewStatus, StrategicReview
from tests.browser.accessibility import DESKTOP, PHONE, axe_violations, sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where an element sticks out past the right edge of the page: said when the page scrolls sideways.
WIDEST = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
        + (e.dataset.testid ? '[' + e.dataset.testid + ']' : '') + ' ' + Math.round(e.getBoundingClientRect().right))"""

# Whether the element is what a tap at its centre reaches (nothing lies over it), after scrolling it into view.
UNCOVERED = """(element) => {
    element.scrollIntoView({block: 'center', behavior: 'instant'});
    const box = element.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    const what = hit ? hit.tagName.toLowerCase() + (hit.className ? '.' + String(hit.className).split(' ').join('.') : '')
        + (hit.dataset.testid ? '[' + hit.dataset.testid + ']' : '') : 'nothing';
    return {uncovered: hit === element || element.contains(hit), hit: what, height: box.height, width: box.width,
            inside: box.left >= 0 && box.right <= document.documentElement.clientWidth};
}"""


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", patients=150, seed=7, today=date.today(), stdout=io.StringIO())


def _sign_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _episode_with_a_full_pack():
    """An open episode of North's with a completed review, drug tests and pharmacy reports: the fullest pack."""
    return (
        TreatmentEpisode.objects.filter(exit_date__isnull=True, patient__team__name="North")
        .exclude(strategic_reviews__status=ReviewStatus.DRAFT)
        .annotate(
            completed=Count("strategic_reviews", filter=Q(strategic_reviews__status=ReviewStatus.COMPLETED)),
            tests=Count("drug_tests", distinct=True),
            reports=Count("pharmacy_reports", distinct=True),
        )
        .filter(completed__gt=0, tests__gt=0, reports__gt=0)
        .order_by("pk")
        .first()
    )


def _fits_and_passes(page, name: str, button: str | None) -> list[str]:
    """The page at both sizes: axe, the sideways scroll, the main button uncovered (44 px high on a phone)."""
    problems = []
    for size, label in ((DESKTOP, "1366"), (PHONE, "390")):
        page.set_viewport_size(size)
        problems += [f"{name} at {label}: {line}" for line in axe_violations(page)]
        if (wider := sideways_scroll(page)) > 0:
            problems.append(f"{name} at {label}: scrolls sideways by {wider} px: {page.evaluate(WIDEST)}")
        if button:
            locator = page.locator(button)
            assert locator.is_visible(), f"{name} at {label}: {button} is not visible"
            where = locator.evaluate(UNCOVERED)
            if not where["uncovered"]:
                problems.append(f"{name} at {label}: {where['hit']} lies over {button}")
            if not where["inside"]:
                problems.append(f"{name} at {label}: {button} is not wholly on screen")
            if size == PHONE and where["height"] < 44:
                problems.append(f"{name} at {label}: {button} is {where['height']} px high")
        page.screenshot(path=f"var/screenshots/review-a11y-{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    return problems


def test_the_review_form_and_record_pass_axe_and_fit_a_phone(page, demo):
    episode = _episode_with_a_full_pack()
    assert episode is not None, "the demo service has no open episode with a review, tests and reports"
    _sign_in(page, "sp.north")

    page.goto(reverse("reviews:review_new", args=[episode.pk]))
    page.get_by_role("button", name="Start the review").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Evidence pack").is_visible()
    # The participants' inputs are named by their row, as a screen reader says them.
    assert page.get_by_label("Name of participant 2", exact=True).count() == 1
    assert page.get_by_label("Role of participant 2", exact=True).count() == 1
    assert page.get_by_role("region", name="Self-report beside drug tests, by substance").count() == 1
    problems = _fits_and_passes(page, "form", "[data-testid=complete-review]")

    # At 390 px the rows of inputs stack, each under its visible label.
    row_label = page.get_by_text("Role of participant 2", exact=True)
    page.set_viewport_size(PHONE)
    assert row_label.bounding_box()["width"] > 40
    # On a phone the evidence pack comes first: a link at the top goes past it to the form.
    page.get_by_role("link", name="Go to the review form, after the evidence pack").click()
    page.wait_for_function(
        "() => Math.abs(document.getElementById('review-form').getBoundingClientRect().top) < 5"
    )
    page.set_viewport_size(DESKTOP)
    assert row_label.bounding_box()["width"] <= 1  # beside the column header "Role": said, not shown
    assert not page.get_by_test_id("to-review-form").is_visible()  # the form and the pack side by side

    # A failed submit: no date, a participant without a role. Every input still has its own label.
    form = page.locator("#review-form")
    form.evaluate("f => { f.noValidate = true; }")
    page.fill("#id_held_on", "")
    page.get_by_label("Name of participant 4", exact=True).fill("Priya Shah")
    with page.expect_navigation():
        page.locator("[data-testid=complete-review]").click()
    assert (
        page.locator("#error_1_id_participants-3-role").inner_text() == "Give this participant's role (§2.6)."
    )
    assert page.get_by_label("Role of participant 4", exact=True).count() == 1
    problems += _fits_and_passes(page, "form-error", "[data-testid=complete-review]")

    record = (
        StrategicReview.objects.filter(episode__patient__team__name="North", status=ReviewStatus.COMPLETED)
        .order_by("pk")
        .first()
    )
    page.goto(record.get_absolute_url())
    assert page.get_by_role("heading", name="Who took part").is_visible()
    problems += _fits_and_passes(page, "record", None)

    # The short forms of the review's family: their one button is on screen and 44 px high on a phone.
    awaiting = StrategicReview.objects.filter(
        episode__patient__team__name="North", status=ReviewStatus.AWAITING_PATIENT
    ).first()
    ended = TreatmentEpisode.objects.filter(patient__team__name="North", exit_date__isnull=False).first()
    element = OwedItem.objects.filter(episode__patient__team__name="North", element_end__isnull=False).first()
    for name, address, button in (
        ("involvement", reverse("reviews:review_involvement", args=[awaiting.pk]), "Complete the review"),
        ("check-up", reverse("reviews:check_up_new", args=[ended.pk]), "Record check-up"),
        (
            "element-check-up",
            reverse(
                "reviews:element_check_up_new", args=[element.episode_id, element.element_end.isoformat()]
            ),
            "Record check-up",
        ),
    ):
        page.goto(address)
        selector = f"main form button[type=submit]:text-is('{button}')"
        problems += _fits_and_passes(page, name, selector)
    assert not problems, "\n".join(problems)
