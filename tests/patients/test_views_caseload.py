"""The keyworker's home: the caseload sorted by target, with status and reasons, filters, search, due this week
and recent safety events; queries that do not grow with patients."""

import re
from datetime import date

import pytest
from django.urls import reverse

from patients.models import TestResult as Result
from reviews.models import ReviewStatus
from reviews.services.schedule import episode_schedule_refresh
from tests.patients.conftest import report_with_run
from tests.support.factories import (
    DrugTestFactory,
    DrugTestResultFactory,
    EpisodeFactory,
    PatientFactory,
    StrategicReviewFactory,
    TeamFactory,
    UserFactory,
)
from tests.support.schedule import store_schedule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 5, 1)


def due(team, keyworker, entry, **patient):
    episode = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=keyworker, **patient), entry_date=entry
    )
    episode_schedule_refresh(episode)
    return episode


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-testid="caseload-row".*?</tr>', page, flags=re.S)


def get(client, **params):
    return client.get(reverse("patients:caseload"), params).content.decode()


def test_the_caseload_is_sorted_by_target_with_status_badges_and_reasons_on_tap(client, alice, team):
    due(team, alice, date(2026, 2, 10), family_name="Soon")  # target 10 May: due soon
    due(team, alice, date(2025, 9, 1), family_name="Late")  # deadline 1 Mar: overdue
    due(team, alice, date(2026, 4, 20), family_name="Fresh")  # target 20 Jul: upcoming
    client.force_login(alice)
    listed = rows(get(client))
    assert [re.search(r">(\w+), ", r).group(1) for r in listed] == ["Late", "Soon", "Fresh"]
    assert 'class="badge status-overdue"' in listed[0] and ">Overdue<" in listed[0]
    assert 'class="badge status-due_soon"' in listed[1]
    assert 'class="badge status-upcoming"' in listed[2]
    # the reasons are in a disclosure opened by tap, click or Enter, not a tooltip on hover
    reasons = re.search(r"<details[^>]*><summary><span[^>]*status-overdue.*?</details>", listed[0]).group(0)
    assert "First strategic review within 3 months of entry on 1 Sep 2025 (§1.3)" in reasons


def test_the_caseload_filters_by_status(client, alice, team):
    due(team, alice, date(2025, 9, 1), family_name="Late")
    due(team, alice, date(2026, 4, 20), family_name="Fresh")
    client.force_login(alice)
    page = get(client, status="overdue")
    assert "Late" in page and "Fresh" not in page
    page = get(client, status="upcoming")
    assert "Fresh" in page and "Late" not in page


def test_a_review_awaiting_the_patient_is_badged_and_filtered(client, alice, sam, team):
    waiting = due(team, alice, date(2026, 1, 15), family_name="Waiting")
    due(team, alice, date(2026, 1, 20), family_name="Other")
    StrategicReviewFactory(episode=waiting, lead=sam, status=ReviewStatus.AWAITING_PATIENT)
    client.force_login(alice)
    page = get(client, status="awaiting_patient")
    assert "Waiting" in page and "Other" not in page
    assert 'data-testid="awaiting-badge"' in rows(page)[0]


def test_the_caseload_filters_by_team_and_to_my_own_patients(client, alice, team):
    other = TeamFactory(name="East")
    mona = UserFactory(username="mgr", role="manager", team=None)
    mona.managed_teams.add(team, other)
    bob = UserFactory(username="bob", role="keyworker", team=team)
    due(team, alice, date(2026, 1, 15), family_name="Northerner")
    due(other, UserFactory(username="eve", team=other), date(2026, 1, 15), family_name="Easterner")
    due(team, bob, date(2026, 1, 15), family_name="Bobscase")
    client.force_login(mona)
    page = get(client, team=other.pk)
    assert "Easterner" in page and "Northerner" not in page
    client.force_login(alice)
    page = get(client, mine="on")
    assert "Northerner" in page and "Bobscase" not in page


@pytest.mark.parametrize(
    ("query", "found"), [("943 476 5919", True), ("9434765919", True), ("943", True), ("9999", False)]
)
def test_the_caseload_searches_by_nhs_number_typed_with_or_without_spaces(client, alice, team, query, found):
    due(team, alice, date(2025, 9, 1), family_name="Numbered", nhs_number="9434765919")
    due(team, alice, date(2026, 4, 20), family_name="Other")
    client.force_login(alice)
    page = get(client, q=query)
    assert ("Numbered" in page) is found
    assert "Other" not in page


def test_the_caseload_searches_by_given_and_family_name(client, alice, team):
    due(team, alice, date(2026, 1, 15), given_name="Jo", family_name="Bloggs")
    due(team, alice, date(2026, 1, 15), given_name="Sam", family_name="Smith")
    client.force_login(alice)
    assert "Bloggs" in get(client, q="jo blog") and "Smith" not in get(client, q="jo blog")
    assert "Smith" in get(client, q="smi")


def test_due_this_week_lists_targets_and_deadlines_in_the_next_seven_days(client, alice, team):
    due(team, alice, date(2026, 2, 4), family_name="Targetweek")  # target 4 May
    due(team, alice, date(2025, 11, 5), family_name="Deadlineweek")  # target 5 Feb, deadline 5 May
    due(team, alice, date(2026, 2, 20), family_name="Later")  # target 20 May
    client.force_login(alice)
    page = get(client)
    week = page.split('data-testid="due-this-week"')[1].split("</section>")[0]
    assert "Targetweek" in week and "Deadlineweek" in week and "Later" not in week
    assert "deadline 5 May 2026" in week and "target 4 May 2026" in week
    filtered = get(client, week="on")
    assert "Targetweek" in filtered and "Later" not in filtered


def test_recent_safety_events_show_runs_of_missed_doses_and_unexpected_results(client, alice, team):
    episode = due(team, alice, date(2026, 1, 15), family_name="Risky")
    report_with_run(episode, alice)
    test = DrugTestFactory(episode=episode, taken_on=date(2026, 4, 25))
    DrugTestResultFactory(test=test, substance="heroin", result=Result.POSITIVE)
    DrugTestResultFactory(
        test=test, substance="methadone", result=Result.NEGATIVE, expected_because_prescribed=True
    )
    old = DrugTestFactory(episode=episode, taken_on=date(2026, 3, 1))
    DrugTestResultFactory(test=old, substance="cocaine", result=Result.POSITIVE)
    client.force_login(alice)
    events = get(client).split('data-testid="safety-events"')[1].split("</section>")[0]
    assert "3 consecutive missed doses at Boots" in events
    assert "Heroin / illicit opioids positive" in events
    assert "Methadone negative although prescribed" in events
    assert "Cocaine" not in events  # more than four weeks ago


def test_an_outsiders_caseload_shows_nothing_of_ours(client, olga, alice, team):
    due(team, alice, date(2026, 1, 15), family_name="Ours")
    client.force_login(olga)
    page = get(client)
    assert "Ours" not in page and not rows(page)


def make_episodes(count, team, keyworker):
    for i in range(count):
        episode = due(team, keyworker, date(2025, 10, 1 + i % 28))
        StrategicReviewFactory(
            episode=episode, held_on=date(2026, 4, 1), status=ReviewStatus.AWAITING_PATIENT
        )


def test_caseload_queries_do_not_grow_with_patients(client, alice, team, django_assert_num_queries):
    """Session, user, the team filter's choices, count, page, the page's transitions since their last reviews
    (one read for every row's "within 3 months of a transition" badge, App. C 2: 12 became 13 with it), the
    page's owed items (every item after the first shown in its row, rule 7b: 14 with it), the page's transitions
    of the last 3 months whether or not a review followed (the risk level's, §2.2: 15 with it; the risk level's
    other facts and disengagement ride on the page's own query), the access of each patient shown, logged in one
    insert (16 with it), my appointments of today (the keyworker's home, first on the page: 17 with it), overdue
    and due this week, two safety-event reads (and one for their acknowledgements when there is an event,
    tests/recovery_reviews/test_keyworker_home.py), my appointments to record, my reviews to finish, inbox. The
    transitions and the badge's are one read of the same rows since (reviews.selectors.
    transitions_and_vigilance_by_episode): 16; and a first page read with one row more counts a caseload that fits
    on it (recovery_reviews/pages/caseload.py, _page): 15; and the user's team read with the user
    (recovery_reviews/auth_backend.py), not when the navigation names it: 14; and what is due this week picked
    from the page when it holds the whole caseload shown (due_this_week_on_the_page): 13."""
    client.force_login(alice)
    make_episodes(2, team, alice)
    with django_assert_num_queries(13):
        assert len(rows(get(client))) == 2
    make_episodes(8, team, alice)
    with django_assert_num_queries(13):
        assert len(rows(get(client))) == 10


def finished(team, keyworker, **patient):
    """A patient whose treatment and every recovery check-up are over: nothing is due, so no caseload row."""
    episode = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=keyworker, **patient),
        entry_date=date(2023, 1, 1),
        exit_date=date(2024, 1, 1),
        exit_reason="completed_drug_free",
    )
    store_schedule(episode, kind="")
    return episode


def test_a_search_also_finds_patients_with_nothing_due(client, alice, team):
    gone = finished(team, alice, given_name="Sam", family_name="Gone", nhs_number="9434765919")
    due(team, alice, date(2026, 3, 1), given_name="Sam", family_name="Present")
    client.force_login(alice)
    assert 'data-testid="nothing-due"' not in get(client)  # only when searching

    page = get(client, q="sam")
    assert [r for r in rows(page) if "Present" in r] and not [r for r in rows(page) if "Gone" in r]
    found = page.split('data-testid="nothing-due"')[1].split("</section>")[0]
    assert f'href="{gone.patient.get_absolute_url()}"' in found
    assert "Gone, Sam" in found and "left treatment 1 Jan 2024" in found
    assert "Present" not in found  # already on the caseload above
    by_number = get(client, q="943 476")
    assert "Gone, Sam" in by_number.split('data-testid="nothing-due"')[1]


def test_the_search_for_patients_with_nothing_due_stays_in_scope(client, olga, alice, team):
    finished(team, alice, family_name="Northerner")
    client.force_login(olga)
    page = get(client, q="Northerner")
    assert 'data-testid="nothing-due"' not in page and "Northerner," not in page


def test_a_search_reads_a_fixed_number_of_queries(client, alice, team, django_assert_num_queries):
    """The patients with nothing due are one read, however many match (11 with my appointments of today; what is due this week comes from the page)."""
    client.force_login(alice)
    make_episodes(3, team, alice)
    finished(team, alice, family_name="Gone")
    with django_assert_num_queries(11):
        assert get(client, q="Gone").count("Gone, ") == 1
    for n in range(4):
        finished(team, alice, family_name="Gone", given_name=f"Also{n}")
    with django_assert_num_queries(11):
        assert get(client, q="Gone").count("Gone, ") == 5


def test_a_lead_sees_the_reviews_they_have_to_finish(client, sam, alice, team):
    draft = StrategicReviewFactory(
        episode=due(team, alice, date(2026, 1, 10), family_name="Drafted"),
        lead=sam,
        held_on=date(2026, 4, 28),
    )
    waiting = StrategicReviewFactory(
        episode=due(team, alice, date(2026, 1, 5), family_name="Waiting"),
        lead=sam,
        held_on=date(2026, 4, 20),
        status=ReviewStatus.AWAITING_PATIENT,
    )
    StrategicReviewFactory(
        episode=due(team, alice, date(2025, 6, 1), family_name="Done"),
        lead=sam,
        held_on=date(2026, 3, 1),
        status=ReviewStatus.COMPLETED,
        completed_on=date(2026, 3, 1),
        patient_took_part=True,
    )
    client.force_login(sam)
    card = get(client).split('data-testid="reviews-to-finish"')[1].split("</section>")[0]
    assert card.index("Waiting") < card.index("Drafted")  # the longest waiting first
    assert f'href="{draft.get_absolute_url()}">continue the review</a>' in card
    assert (
        f'href="{reverse("reviews:review_involvement", args=[waiting.pk])}">record their involvement</a>'
        in card
    )
    assert "Done" not in card
    client.force_login(alice)  # not the lead
    assert 'data-testid="reviews-to-finish"' not in get(client)


def test_after_the_episode_ends_a_draft_is_offered_for_discarding_and_a_waiting_review_leaves_the_list(
    client, sam, alice, team
):
    def ended(name):
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=alice, family_name=name),
            entry_date=date(2025, 6, 1),
            exit_date=date(2026, 4, 1),
            exit_reason="dropped_out",
        )
        episode_schedule_refresh(episode)
        return episode

    draft = StrategicReviewFactory(episode=ended("Gone"), lead=sam, held_on=date(2026, 3, 20))
    StrategicReviewFactory(
        episode=ended("Waited"), lead=sam, held_on=date(2026, 3, 1), status=ReviewStatus.AWAITING_PATIENT
    )
    client.force_login(sam)
    card = get(client).split('data-testid="reviews-to-finish"')[1].split("</section>")[0]
    assert f'the episode has ended:</span> <a href="{draft.get_absolute_url()}">discard the draft</a>' in card
    assert "Waited" not in card
