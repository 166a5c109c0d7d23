"""The caseload's search past its cap (recovery_reviews/pages/caseload.py, SEARCH_CAP): more matching patients
than the cap says "more than" and lists the first of their reviews, soonest first, never a wrong count; up to
the cap, the page reads as it always did, with the matching patients read once."""

import re
from datetime import date

import pytest
from django.urls import reverse

from recovery_reviews.pages import caseload as caseload_page
from tests.patients.test_views_caseload import due, finished, make_episodes, rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 5, 1)


def get(client, **params):
    return client.get(reverse("patients:caseload"), params).content.decode()


def names(page: str) -> list[str]:
    return [re.search(r'class="fw-semibold">(\w+), ', row).group(1) for row in rows(page)]


@pytest.fixture
def cap_of_three(monkeypatch):
    monkeypatch.setattr(caseload_page, "SEARCH_CAP", 3)


@pytest.fixture
def five_smiths(team, alice):
    """Five patients named Smith-something with reviews to come, soonest first in this order, and one whose
    treatment is over."""
    for i, name in enumerate(["Smitha", "Smithb", "Smithc", "Smithd", "Smithe"]):
        due(team, alice, date(2025, 6 + i, 1), family_name=name)
    finished(team, alice, family_name="Smithgone")


def test_past_the_cap_a_search_says_more_than_and_lists_the_first_soonest(
    client, alice, cap_of_three, five_smiths
):
    client.force_login(alice)
    page = get(client, q="smith", mine="")
    assert names(page) == ["Smitha", "Smithb", "Smithc"]
    said = re.search(r'<span data-testid="search-capped">(.*?)</span>', page).group(1)
    assert said.startswith("More than 3 patients match this search: add more of the name or NHS number")
    assert "The first 3 with a review or check-up to come are listed, soonest target first" in said
    assert "patients with nothing due are looked for once fewer match" in said
    assert "5 patients" not in page and "6 patients" not in page  # never a count it did not make
    assert 'data-testid="nothing-due"' not in page and "Smithgone" not in page


def test_past_the_cap_a_narrower_filter_says_how_many_it_lists(
    client, alice, team, cap_of_three, five_smiths
):
    """Six patients match, but only one of them has a review still some way off: the page says one, exactly."""
    client.force_login(alice)
    due(team, alice, date(2026, 4, 1), family_name="Smithf")  # target 1 Jul: upcoming; the others overdue
    page = get(client, q="smith", mine="", status="upcoming")
    assert names(page) == ["Smithf"]
    said = re.search(r'<span data-testid="search-capped">(.*?)</span>', page).group(1)
    assert "1 of them has a review or check-up to come" in said


def test_up_to_the_cap_the_search_counts_lists_and_finds_those_with_nothing_due(client, alice, five_smiths):
    client.force_login(alice)
    page = get(client, q="smith", mine="")
    assert names(page) == ["Smitha", "Smithb", "Smithc", "Smithd", "Smithe"]
    assert "5 patients with a review or check-up to come, soonest target first." in page
    assert 'data-testid="search-capped"' not in page
    assert "Smithgone," in page.split('data-testid="nothing-due"')[1]
    assert names(get(client, q="smithc", mine="")) == ["Smithc"]
    assert "1 patient with a review or check-up to come" in get(client, q="smithc", mine="")


def test_the_count_follows_the_filters(client, alice, team, olga, five_smiths):
    """The count made with the matching patients is the page's own: with a status filter, and for someone who
    sees none of them."""
    client.force_login(alice)
    overdue = names(get(client, q="smith", mine="", status="overdue"))
    page = get(client, q="smith", mine="", status="overdue")
    assert f"{len(overdue)} patient{'s' if len(overdue) != 1 else ''} with a review or check-up" in page
    client.force_login(olga)
    page = get(client, q="smith", mine="")
    assert "0 patients with a review or check-up to come" in page and not rows(page)


def test_a_search_that_finds_nobody_reads_less(client, alice, team, django_assert_num_queries):
    """The matching patients are read once, with how many reviews each has and whether anything is due at all:
    that is the count; the patients with nothing due are read only when there are some (11 then, as
    test_views_caseload pins for the same page), and what is due this week only when someone matched (10)."""
    client.force_login(alice)
    make_episodes(3, team, alice)
    with django_assert_num_queries(10):
        assert 'data-testid="caseload-row"' not in get(client, q="Nobody")
    finished(team, alice, family_name="Gone")
    with django_assert_num_queries(11):
        assert get(client, q="Gone").count("Gone, ") == 1


def test_a_caseload_of_more_than_a_page_is_counted_and_paged_as_before(client, alice, team):
    """The first page is read with one row more: one page's worth is counted by it, more than that is counted."""
    client.force_login(alice)
    for i in range(50):
        due(team, alice, date(2025, 10, 1 + i % 28), family_name=f"Fits{i:02d}")
    page = get(client, mine="")
    assert "50 patients with a review or check-up to come" in page and len(rows(page)) == 50
    assert "Page 1 of" not in page
    due(team, alice, date(2026, 4, 20), family_name="Lastone")  # the 51st, the latest target
    page = get(client, mine="")
    assert "51 patients with a review or check-up to come" in page and len(rows(page)) == 50
    assert "Page 1 of 2" in page and "Lastone" not in page
    second = get(client, mine="", page=2)
    assert names(second) == ["Lastone"] and "Page 2 of 2" in second
