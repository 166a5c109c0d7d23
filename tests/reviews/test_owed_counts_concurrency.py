"""The kept counts under concurrent use on PostgreSQL, each thread on its own connection: writers adding and
removing owed items while rebuilds fold the changes in and readers sum them. No change is lost or counted twice:
every read along the way (the kept figure and the count read in one snapshot) and the end agree exactly."""

import random
from datetime import date, timedelta

import pytest
from django.db import connection, transaction

from reviews.dashboards import owed_counts as kept
from reviews.models import OwedCountChange, OwedItem
from tests.reviews.test_reminder_concurrency import run_at_once
from tests.support.factories import EpisodeFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TODAY = date(2026, 7, 20)
WRITERS, REBUILDERS, READERS = 3, 1, 2


def test_writers_rebuilds_and_reads_at_once_never_lose_or_double_a_change(team, alice, mona):
    episodes = [EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice)) for _ in range(10)]
    kept.rebuild(today=TODAY)
    mismatches = []

    def work(i):
        rng = random.Random(i)
        if i < WRITERS:
            for _ in range(40):
                with transaction.atomic():
                    target = TODAY + timedelta(days=rng.randint(-60, 90))
                    episode = rng.choice(episodes)
                    OwedItem.objects.create(
                        episode=episode, kind="strategic_review", target=target, deadline=target
                    )
                    if rng.random() < 0.4:
                        doomed = OwedItem.objects.filter(episode=episode).order_by("?").first()
                        doomed.delete()
            return "wrote"
        if i < WRITERS + REBUILDERS:
            for _ in range(15):
                kept.rebuild(today=TODAY)
            return "rebuilt"
        for _ in range(40):
            # Both reads in one snapshot: whatever is in flight, the kept figure must be the count exactly.
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                for by in [("status",), ("team_id", "kind", "week")]:
                    figure = kept.owed_counts(mona, today=TODAY, by=by)
                    live = kept.live_counts(mona, today=TODAY, by=by)
                    if figure != live:
                        mismatches.append((by, figure, live))
        return "read"

    results = run_at_once(work, WRITERS + REBUILDERS + READERS)
    assert results.count("wrote") == WRITERS and results.count("rebuilt") == REBUILDERS
    assert not mismatches
    for by in [("status",), ("team_id", "kind", "week"), ("keyworker_id", "status")]:
        assert kept.owed_counts(mona, today=TODAY, by=by) == kept.live_counts(mona, today=TODAY, by=by)
    kept.rebuild(today=TODAY)
    assert not OwedCountChange.objects.exists()
    assert kept.owed_counts(mona, today=TODAY, by=("status",)) == kept.live_counts(
        mona, today=TODAY, by=("status",)
    )
    connection.close()
