"""The nightly task and the recompute_schedules command count the owed items once
(docs/design.md, Figures kept between requests): after a recompute that rebuilt the kept counts in its own
transaction (it replaced many items, reviews.dashboards.owed_counts.writes_counted) they do not rebuild them again;
after one that left change rows they fold them in, as before."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from reviews import tasks
from reviews.dashboards import owed_counts as kept
from reviews.management.commands import recompute_schedules as command
from reviews.models import OwedCountChange, OwedCountRebuild, OwedItem
from tests.support.factories import EpisodeFactory, PatientFactory

pytestmark = [pytest.mark.usefixtures("frozen_today"), pytest.mark.django_db]
TODAY = date(2026, 6, 1)


@pytest.fixture
def stale(team, alice):
    """Six open episodes, each with an item the recompute replaces; the counts rebuilt as of yesterday."""
    for _ in range(6):
        episode = EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice))
        OwedItem.objects.create(
            episode=episode,
            kind="strategic_review",
            target=TODAY + timedelta(400),
            deadline=TODAY + timedelta(400),
        )
    kept.rebuild(today=TODAY - timedelta(days=1))


def _run(how: str) -> None:
    if how == "task":
        tasks.recompute_schedules.run()
    else:
        call_command("recompute_schedules", stdout=io.StringIO())


@pytest.mark.parametrize("how", ["task", "command"])
def test_changes_left_by_the_recompute_are_folded_in(stale, how):
    _run(how)
    assert OwedCountRebuild.objects.get().as_of == TODAY
    assert not OwedCountChange.objects.exists()
    assert OwedCountRebuild.objects.get().items == OwedItem.objects.count()


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["task", "command"])
def test_counts_the_recompute_rebuilt_are_not_rebuilt_again(stale, how, monkeypatch):
    monkeypatch.setattr(kept, "FOLD_CHANGES_OVER", 0)  # the recompute defers whatever it replaces
    rebuilds = []
    real = kept.rebuild

    def counted(**kwargs):
        items = real(**kwargs)
        rebuilds.append(items)
        return items

    monkeypatch.setattr(kept, "rebuild", counted)  # the recompute's and the task's (imported when it runs)
    monkeypatch.setattr(command, "rebuild_owed_counts", counted)
    _run(how)
    assert connection.vendor == "postgresql"
    assert [n for n in rebuilds if n is not None] == [OwedItem.objects.count()]  # the recompute's own, once
    assert OwedCountRebuild.objects.get().as_of == TODAY
    assert not OwedCountChange.objects.exists()
