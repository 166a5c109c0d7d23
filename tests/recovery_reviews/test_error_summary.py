"""A page that failed says so first (docs/design.md, Accessible on every device): its title begins "Error: ", and
one summary at the top of the page lists every error of every form on it, each linked to its answer; an error a
view leaves as a message (a form that posts elsewhere and comes back by a redirect) is in the same summary. A page
that did not fail has neither."""

import re
from html import unescape

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def title(page: str) -> str:
    return unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1)).strip()


def summary(page: str) -> str:
    """The summary's HTML; it is the page's only one, and it comes before the page's heading."""
    assert page.count('data-testid="form-errors"') == 1
    start = page.index('data-testid="form-errors"')
    assert start < page.index("<h1"), "the summary is at the top of the page, before its heading"
    return unescape(page[start : page.index("</div>", start)])


def links(page: str) -> list[tuple[str, str]]:
    return re.findall(r'href="#([\w-]+)">([^<]+)</a>', summary(page))


def test_a_failing_form_lists_each_error_linked_to_its_answer_and_the_title_says_error(
    client, alice, episode
):
    client.force_login(alice)
    page = client.post(reverse("patients:appointment_new", args=[episode.pk]), {"on": "", "at": "10:30"})
    assert page.status_code == 200
    page = page.content.decode()
    assert title(page).startswith("Error: Appointment")
    assert "id_on" in [anchor for anchor, _label in links(page)]
    assert 'id="id_on"' in page  # the link leads to the answer


def test_a_formsets_row_errors_are_listed_and_linked_to_the_rows_answers(client, alice, episode):
    client.force_login(alice)
    url = reverse("patients:drug_test_new", args=[episode.pk])
    results = client.get(url).context["results"]
    data = {"taken_on": "2026-01-05"}
    data.update(
        {
            f"{results.prefix}-TOTAL_FORMS": "1",
            f"{results.prefix}-INITIAL_FORMS": "0",
            f"{results.prefix}-MIN_NUM_FORMS": "0",
            f"{results.prefix}-MAX_NUM_FORMS": "1000",
            f"{results.prefix}-0-substance": "not-a-substance",
            f"{results.prefix}-0-result": "positive",
        }
    )
    page = client.post(url, data).content.decode()
    assert title(page).startswith("Error: ")
    anchors = [anchor for anchor, _ in links(page)]
    assert f"id_{results.prefix}-0-substance" in anchors
    assert f'id="id_{results.prefix}-0-substance"' in page


def test_an_error_left_as_a_message_after_a_redirect_is_in_the_summary(client, mona, team):
    client.force_login(mona)
    response = client.post(
        reverse("reviews:capacity_set", args=[team.pk]), {"weekly_review_capacity": "-1"}, follow=True
    )
    page = response.content.decode()
    assert title(page).startswith("Error: Workload forecast")
    assert "North: capacity not changed." in summary(page)
    assert page.count("capacity not changed") == 1, "said once, in the summary, not again as a banner"


def test_a_page_that_did_not_fail_has_no_summary_and_no_error_in_its_title(client, alice, episode):
    client.force_login(alice)
    page = client.get(reverse("patients:appointment_new", args=[episode.pk])).content.decode()
    assert 'data-testid="form-errors"' not in page
    assert not title(page).startswith("Error")


def test_the_access_log_search_says_what_is_wrong_with_a_number(client, mona, episode):
    client.force_login(mona)
    page = client.get(reverse("access_log_search"), {"nhs_number": "123"}).content.decode()
    assert title(page).startswith("Error: Access logs")
    assert links(page) == [("id_nhs_number", "NHS number")]
    assert "An NHS number has 10 digits (spaces are fine, as in 943 476 5919)." in summary(page)
    assert 'aria-invalid="true"' in page and "access-log-none" not in page

    episode.patient.nhs_number = "9434765919"
    episode.patient.save()
    page = client.get(reverse("access_log_search"), {"nhs_number": "943 476 5919"}).content.decode()
    assert 'data-testid="form-errors"' not in page
    assert f"The access log of {episode.patient}" in unescape(page)
