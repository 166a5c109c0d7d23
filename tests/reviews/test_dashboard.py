"""The managers' first view: counts by team and status, checked against a hand-built data set."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from reviews.models import ReviewStatus
from reviews.services.schedule import episode_schedule_refresh
from tests.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(date(2026, 5, 1), tick=False):
        yield


def episode_entered(on, team, keyworker):
    episode = EpisodeFactory(patient=PatientFactory(team=team, keyworker=keyworker), entry_date=on)
    episode_schedule_refresh(episode)
    return episode


def test_counts_by_status_match_the_records_and_link_to_their_list(client, mona, team, alice, sam, olga):
    episode_entered(date(2025, 10, 1), team, alice)  # overdue (deadline 1 Apr)
    awaiting = episode_entered(date(2025, 10, 2), team, alice)  # overdue, and a review awaits the patient
    StrategicReviewFactory(
        episode=awaiting, lead=sam, held_on=date(2026, 3, 1), status=ReviewStatus.AWAITING_PATIENT
    )
    episode_entered(date(2026, 1, 20), team, alice)  # due (target 20 Apr)
    episode_entered(date(2026, 2, 10), team, alice)  # due soon (target 10 May)
    episode_entered(date(2026, 4, 1), team, alice)  # upcoming
    episode_entered(date(2025, 10, 1), olga.team, olga)  # another team: not mona's
    client.force_login(mona)
    response = client.get(reverse("reviews:dashboard"))
    rows = response.context["rows"]
    assert [r["team"] for r in rows] == ["North"]
    assert rows[0]["counts"] == {"upcoming": 1, "due_soon": 1, "due": 1, "overdue": 2, "awaiting_patient": 1}
    page = response.content.decode()
    assert f'href="/patients/?team={team.pk}&status=overdue" data-testid="count-north-overdue">2<' in page


def test_the_dashboard_takes_the_same_queries_for_3_or_30_episodes(
    client, mona, team, alice, django_assert_num_queries
):
    client.force_login(mona)
    for day in range(1, 4):
        episode_entered(date(2025, 12, day), team, alice)
    with django_assert_num_queries(5) as few:
        client.get(reverse("reviews:dashboard"))
    for day in range(1, 28):
        episode_entered(date(2026, 1, day), team, alice)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("reviews:dashboard"))
