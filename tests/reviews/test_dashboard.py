"""Reviews by team and keyworker, and the list behind every number: each figure checked against a hand-built
data set; the list's filters, sorts, keyset pages and CSV export; who may see them; query counts pinned."""

import csv
import io
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from patients.models import ExitReason
from recovery_reviews.models import Role
from reviews.models import ReviewStatus
from reviews.services.schedule import episode_schedule_refresh
from reviews.views import dashboard as dashboard_views
from tests.support.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 5, 1)


def entered(on, keyworker, family_name="", **extra):
    patient = PatientFactory(
        team=keyworker.team, keyworker=keyworker, **({"family_name": family_name} if family_name else {})
    )
    episode = EpisodeFactory(patient=patient, entry_date=on, **extra)
    episode_schedule_refresh(episode)
    return episode


@pytest.fixture
def bea(team):
    """A second keyworker in North."""
    return UserFactory(username="bea", first_name="Bea", last_name="Second", role=Role.KEYWORKER, team=team)


@pytest.fixture
def north(alice, bea, sam):
    """North's hand-built caseload on 1 May 2026 (first review: target entry + 3 months, deadline + 6)."""
    awaiting = entered(date(2025, 10, 2), alice, "Awaiting")  # overdue, and a review waits on the patient
    StrategicReviewFactory(
        episode=awaiting, lead=sam, held_on=date(2026, 3, 1), status=ReviewStatus.AWAITING_PATIENT
    )
    return {
        "overdue_alice": entered(date(2025, 10, 1), alice, "Adams"),  # deadline 1 Apr
        "awaiting": awaiting,
        "due_alice": entered(date(2026, 1, 20), alice, "Baker"),  # target 20 Apr, deadline 20 Jul
        "due_soon_bea": entered(date(2026, 2, 10), bea, "Carter"),  # target 10 May
        "upcoming_bea": entered(date(2026, 4, 1), bea, "Davies"),  # target 1 Jul
        "overdue_bea": entered(date(2025, 9, 1), bea, "Evans"),  # deadline 1 Mar
        # ended 1 Apr: the first recovery check-up was due on 15 Apr, deadline 29 Apr (§1.7): overdue
        "check_up_alice": entered(
            date(2025, 6, 1),
            alice,
            "Foster",
            exit_date=date(2026, 4, 1),
            exit_reason=ExitReason.COMPLETED_DRUG_FREE,
        ),
    }


@pytest.fixture
def south(olga):
    return {"overdue_olga": entered(date(2025, 10, 1), olga, "Southerner")}


def test_counts_by_team_match_the_records_and_link_to_their_list(client, mona, north, south, team):
    client.force_login(mona)
    response = client.get(reverse("reviews:dashboard"))
    rows = response.context["rows"]
    assert [r.name for r in rows] == ["North"]  # South is not Mona's
    assert rows[0].counts == {"upcoming": 1, "due_soon": 1, "due": 1, "overdue": 4, "awaiting_patient": 1}
    assert rows[0].late_share == 5 / 7
    page = response.content.decode()
    assert f'href="/reviews/list/?team={team.pk}&status=overdue" data-testid="count-north-overdue">4<' in page


def test_counts_by_keyworker_for_the_chosen_team(client, mona, north, team, alice, bea):
    client.force_login(mona)
    response = client.get(reverse("reviews:dashboard"), {"team": team.pk})
    by_name = {row.name: row.counts for row in response.context["keyworkers"]}
    assert by_name["Alice Keyworker"]["overdue"] == 3
    assert by_name["Alice Keyworker"]["awaiting_patient"] == 1
    assert by_name["Bea Second"] == {
        "upcoming": 1,
        "due_soon": 1,
        "due": 0,
        "overdue": 1,
        "awaiting_patient": 0,
    }
    assert [row.name for row in response.context["keyworkers"]][0] == "Alice Keyworker"  # most overdue first
    page = response.content.decode()
    assert f'href="/reviews/list/?team={team.pk}&keyworker={bea.pk}&status=overdue"' in page
    assert response.context["chart"]["labels"] == ["North"]


def test_a_team_outside_the_managers_scope_is_refused_by_name(client, mona, other_team, south):
    client.force_login(mona)
    response = client.get(reverse("reviews:list"), {"team": other_team.pk})
    assert response.status_code == 400
    assert "That team is not one of yours" in response.content.decode()
    assert "Southerner" not in response.content.decode()


def test_keyworkers_do_not_get_the_team_dashboards(client, alice):
    client.force_login(alice)
    for name in ("dashboard", "list", "list_csv", "timeliness", "forecast", "unmet_needs", "outcomes"):
        assert client.get(reverse(f"reviews:{name}")).status_code == 403


def test_a_senior_practitioner_sees_their_own_team(client, sam, north, south):
    client.force_login(sam)
    rows = client.get(reverse("reviews:dashboard")).context["rows"]
    assert [r.name for r in rows] == ["North"]
    assert rows[0].counts["overdue"] == 4


# --- The list ------------------------------------------------------------------------------------------------


def listed(client, **params) -> list[str]:
    response = client.get(reverse("reviews:list"), params)
    assert response.status_code == 200
    return [item.episode.patient.family_name for item in response.context["page"].rows]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "overdue"}, ["Evans", "Adams", "Awaiting", "Foster"]),  # most overdue first
        ({"status": "awaiting_patient"}, ["Awaiting"]),
        ({"status": "due"}, ["Baker"]),
        ({"status": "due_soon"}, ["Carter"]),
        ({"kind": "recovery_check_up"}, ["Foster"]),
        ({"status": "overdue", "sort": "name"}, ["Adams", "Awaiting", "Evans", "Foster"]),
        ({"status": "overdue", "sort": "-name"}, ["Foster", "Evans", "Awaiting", "Adams"]),
    ],
)
def test_the_list_filters_and_sorts_in_sql(client, mona, north, south, params, expected):
    client.force_login(mona)
    assert listed(client, **params) == expected


def test_the_list_filters_by_keyworker(client, mona, north, bea):
    client.force_login(mona)
    assert sorted(listed(client, keyworker=bea.pk)) == ["Carter", "Davies", "Evans"]


def test_a_keyworker_of_another_team_is_refused(client, mona, north, olga):
    client.force_login(mona)
    response = client.get(reverse("reviews:list"), {"keyworker": olga.pk})
    assert response.status_code == 400
    assert "That keyworker is not in the team chosen or in one of yours" in response.content.decode()


def test_a_manager_chooses_a_team_before_a_keyworker(client, mona, north, team, bea):
    client.force_login(mona)
    page = client.get(reverse("reviews:list")).content.decode()
    assert "Choose a team to filter by keyworker." in page and f'<option value="{bea.pk}">' not in page
    page = client.get(reverse("reviews:list"), {"team": team.pk}).content.decode()
    assert f'<option value="{bea.pk}">Bea Second</option>' in page


@pytest.mark.parametrize("sort", ["target", "-target", "deadline", "-deadline", "name", "-name"])
def test_keyset_pages_walk_every_row_once_in_order_both_ways(client, mona, north, monkeypatch, sort):
    """Two rows a page over seven: forward to the end, then back to the start, by the links on the page."""
    monkeypatch.setattr(dashboard_views, "PAGE_SIZE", 2)
    client.force_login(mona)
    whole = [e.pk for e in client.get(reverse("reviews:list"), {"sort": sort}).context["page"].rows]
    monkeypatch.setattr(dashboard_views, "PAGE_SIZE", 100)
    everything = client.get(reverse("reviews:list"), {"sort": sort}).context["page"]
    monkeypatch.setattr(dashboard_views, "PAGE_SIZE", 2)
    expected = [e.pk for e in everything.rows]
    assert len(expected) == 7 and whole == expected[:2]

    pages, page = [], client.get(reverse("reviews:list"), {"sort": sort}).context["page"]
    pages.append([e.pk for e in page.rows])
    while page.next_cursor:
        page = client.get(reverse("reviews:list"), {"sort": sort, "after": page.next_cursor}).context["page"]
        pages.append([e.pk for e in page.rows])
    assert [pk for p in pages for pk in p] == expected
    assert not page.is_first

    back = [[e.pk for e in page.rows]]
    while page.previous_cursor:
        page = client.get(reverse("reviews:list"), {"sort": sort, "before": page.previous_cursor}).context[
            "page"
        ]
        back.append([e.pk for e in page.rows])
    assert back[::-1] == pages
    assert page.is_first


def test_a_damaged_page_link_says_so_and_shows_the_first_page(client, mona, north):
    client.force_login(mona)
    response = client.get(reverse("reviews:list"), {"after": "not-a-cursor"}, follow=True)
    assert response.status_code == 200
    assert "The page link is damaged. Showing the first page." in response.content.decode()
    assert len(response.context["page"].rows) == 7


def test_the_csv_holds_every_row_of_the_filtered_list_and_the_export_is_logged(client, mona, north, south):
    client.force_login(mona)
    response = client.get(reverse("reviews:list_csv"), {"status": "overdue"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["Patient"].split(",")[0] for r in rows] == ["Evans", "Adams", "Awaiting", "Foster"]
    evans = rows[0]
    assert evans["Team"] == "North" and evans["Status"] == "Overdue"
    assert evans["Deadline"] == "2026-03-01" and evans["Days overdue"] == "61"
    assert [r["Awaiting patient involvement"] for r in rows] == ["no", "no", "yes", "no"]
    assert rows[3]["Review"] == "Recovery check-up"
    assert "§1.3" in evans["Reasons"]
    entry = LogEntry.objects.filter(actor=mona, action=LogEntry.Action.ACCESS).latest("timestamp")
    assert entry.changes_dict["export"] == [None, "review list CSV"]
    assert "status=overdue" in entry.changes_dict["path"][1]


def test_every_number_on_the_dashboard_is_the_length_of_its_list(client, mona, north, team):
    client.force_login(mona)
    counts = client.get(reverse("reviews:dashboard")).context["rows"][0].counts
    for status, count in counts.items():
        response = client.get(reverse("reviews:list_csv"), {"team": team.pk, "status": status})
        lines = b"".join(response.streaming_content).decode().strip().splitlines()
        assert len(lines) - 1 == count, status


# --- Queries do not grow with rows -----------------------------------------------------------------------------


def _more(alice, bea, n):
    for i in range(n):
        entered(date(2025, 9 + i % 4, 1 + i % 27), alice if i % 2 else bea, f"More{i:03d}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # a manager's teams are read once a request (recovery_reviews/access.py, managed_team_ids)
        ("/reviews/dashboard/", 12),  # Mona has one team: its keyworkers are shown too
        ("/reviews/dashboard/?team={team}", 12),
        ("/reviews/list/", 7),  # 6, and the access of each patient shown, logged in one insert
        ("/reviews/list/?status=overdue&sort=name", 7),
        ("/reviews/list.csv", 5),
    ],
)
def test_the_pages_take_the_same_queries_for_few_or_many_episodes(
    client, mona, north, team, alice, bea, url, expected
):
    """Session, user and the page's reads; the first request warms caches (content types) first."""
    client.force_login(mona)
    url = url.format(team=team.pk)

    def queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
        return len(captured)

    queries()
    assert queries() == expected
    _more(alice, bea, 60)
    assert queries() == expected
