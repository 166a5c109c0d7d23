"""The caseload's "Overdue and due" cards: when the page holds the whole caseload shown (a keyworker's own, mostly),
they are picked from its rows (due_this_week_on_the_page) instead of read again; otherwise read across every page
(due_this_week). Both must list the same patients in the same order. docs/design.md, The keyworker's home."""

import itertools
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recovery_reviews.pages.caseload import caseload_for_user, due_this_week, due_this_week_on_the_page
from tests.support.factories import EpisodeFactory, PatientFactory
from tests.support.schedule import store_schedule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 5, 1)
OFFSETS = (-30, -1, 0, 3, 6, 7, 20)  # days from today: overdue or due, this week, its last day, after it


@pytest.fixture
def caseload(team, alice):
    """Every target with every deadline on or after it, among the offsets: 28 episodes, 25 of them urgent."""
    for n, (target, deadline) in enumerate(itertools.product(OFFSETS, OFFSETS)):
        if deadline < target:
            continue
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=alice, family_name=f"Patient{n:02d}")
        )
        store_schedule(
            episode,
            target=TODAY + timedelta(days=target),
            deadline=TODAY + timedelta(days=deadline),
        )
    return caseload_for_user(alice, today=TODAY, mine=True)


@pytest.mark.parametrize("limit", [20, 5, 100])
def test_the_page_picks_what_the_query_reads_in_the_same_order(caseload, limit):
    assert caseload.count() == 28
    read = [e.pk for e in due_this_week(caseload, today=TODAY, limit=limit)]
    picked = [e.pk for e in due_this_week_on_the_page(list(caseload), today=TODAY, limit=limit)]
    assert picked == read
    assert len(read) == min(limit, 25)


def test_nothing_after_the_seventh_day_is_picked(caseload):
    picked = due_this_week_on_the_page(list(caseload), today=TODAY, limit=100)
    week_end = TODAY + timedelta(days=6)
    assert picked and all(
        e.next_review_target <= week_end or e.next_review_deadline <= week_end for e in picked
    )
    assert {e.next_review_target - TODAY for e in picked} == {timedelta(days=d) for d in (-30, -1, 0, 3, 6)}


def test_a_caseload_on_one_page_reads_what_is_due_from_it_and_a_longer_one_across_every_page(
    client, alice, team, caseload
):
    client.force_login(alice)

    def urgent_reads():
        with CaptureQueriesContext(connection) as queries:
            text = client.get(reverse("patients:caseload")).content.decode()
        reads = [q for q in queries.captured_queries if "patients_treatmentepisode" in q["sql"]]
        return text, len(reads)

    text, one_page = urgent_reads()
    assert "Patient00" in text.split('id="home-due-heading"')[1].split("</section>")[0]
    for n in range(30):  # 58 on the caseload: two pages
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=alice, family_name=f"Later{n:02d}")
        )
        store_schedule(episode, target=TODAY + timedelta(days=60), deadline=TODAY + timedelta(days=90))
    text, two_pages = urgent_reads()
    assert two_pages == one_page + 2  # the count, and what is due read across every page
    assert "Patient00" in text.split('id="home-due-heading"')[1].split("</section>")[0]
