"""A write of many owed items defers their change rows and rebuilds the kept counts in its own transaction
(reviews.dashboards.owed_counts.writes_counted, migration reviews 0013;
docs/design.md, Figures kept between requests).
The nightly recompute does so when it replaces many items: the kept counts equal the live count when
it commits, a rollback leaves them as they were, a writer committing meanwhile is counted once, a writer still
holding the items makes it count as always (no deadlock), and the deferral never outlives the transaction
(SET LOCAL) nor an error inside it (a savepoint)."""

import random
import threading
import time
from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection, transaction

from patients.models import TreatmentEpisode
from recovery_reviews.models import Role
from reviews.dashboards import owed_counts as kept
from reviews.models import (
    AwaitingPatientEpisode,
    OwedCount,
    OwedCountByKeyworker,
    OwedCountChange,
    OwedCountRebuild,
    OwedItem,
    ReviewStatus,
)
from reviews.services import schedule
from tests.support.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory, UserFactory

pytestmark = [pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 6, 1)
GROUPINGS = [
    ("team_id", "status"),
    ("team_id", "keyworker_id", "status"),
    ("team_id", "kind", "status", "week"),
]


@pytest.fixture
def service(team, other_team, alice, olga, mona, sam):
    """Two teams, three keyworkers and twelve open episodes, each with a stale item stored (the recompute replaces
    every one), three with a review awaiting the patient; the counts rebuilt, then one change waiting."""
    mona.managed_teams.add(other_team)
    bob = UserFactory(username="bob", role=Role.KEYWORKER, team=team)
    rng = random.Random(11)
    episodes = []
    for i in range(12):
        keyworker = (alice, bob, olga)[i % 3]
        episode = EpisodeFactory(
            patient=PatientFactory(team=keyworker.team, keyworker=keyworker),
            entry_date=TODAY - timedelta(days=rng.randint(20, 400)),
        )
        if i % 4 == 0:
            StrategicReviewFactory(episode=episode, status=ReviewStatus.AWAITING_PATIENT)
        episodes.append(episode)
    OwedItem.objects.bulk_create(
        OwedItem(
            episode=e,
            kind="strategic_review",
            target=TODAY + timedelta(days=400),
            deadline=TODAY + timedelta(days=400),
        )
        for e in episodes
    )
    kept.rebuild(today=TODAY)
    OwedItem.objects.create(episode=episodes[0], kind="check_up", target=TODAY, deadline=TODAY)
    return {"episodes": episodes, "users": [mona, sam]}


@pytest.fixture
def deferring(monkeypatch):
    """The recompute defers whatever it replaces (the threshold is 5,000 rows)."""
    monkeypatch.setattr(kept, "FOLD_CHANGES_OVER", 0)


def _kept_rows() -> tuple:
    return (
        Counter(OwedCount.objects.values_list("team_id", "kind", "status", "week", "n")),
        Counter(OwedCountByKeyworker.objects.values_list("team_id", "keyworker_id", "status", "n")),
        Counter(OwedCountChange.objects.values_list("team_id", "kind", "target", "sign")),
        list(OwedCountRebuild.objects.values_list("as_of", "rebuilt_at", "items")),
    )


def _assert_exact(users) -> None:
    """The kept figures (no rebuild on the way: they are as of today) equal the count over the items."""
    rebuilt = OwedCountRebuild.objects.get()
    assert rebuilt.as_of == TODAY
    for user in users:
        for by in GROUPINGS:
            assert kept.owed_counts(user, today=TODAY, by=by) == kept.live_counts(user, today=TODAY, by=by)
    assert OwedCountRebuild.objects.get().rebuilt_at == rebuilt.rebuilt_at
    awaiting = set(AwaitingPatientEpisode.objects.values_list("episode_id", "team_id", "keyworker_id"))
    assert awaiting == {
        (e.pk, e.team_id, e.keyworker_id)
        for e in TreatmentEpisode.objects.filter(
            next_review_target__isnull=False, strategic_reviews__status=ReviewStatus.AWAITING_PATIENT
        )
    }  # reviews 0012's rows follow the episodes' new next reviews as before


def _deferred() -> bool:
    if connection.vendor != "postgresql":
        return False  # nothing to defer: SQLite's row triggers always count
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [kept.DEFERRED_SETTING])
        return cursor.fetchone()[0] == "on"


@pytest.mark.django_db
def test_a_recompute_that_defers_leaves_the_kept_counts_exact(service, deferring):
    before = list(OwedItem.objects.values_list("pk", flat=True))
    result = schedule.episodes_schedule_recompute(today=TODAY)
    assert result.changed == 12
    assert not OwedItem.objects.filter(pk__in=before).exists()  # every stale item replaced
    if connection.vendor == "postgresql":
        assert not OwedCountChange.objects.exists()  # none written, and the waiting one absorbed
        assert OwedCountRebuild.objects.get().items == OwedItem.objects.count()
    else:  # SQLite: the row triggers count every change, nothing deferred
        assert OwedCountChange.objects.exists()
    assert not _deferred()
    _assert_exact(service["users"])


@pytest.mark.django_db
def test_a_recompute_rolled_back_leaves_the_kept_counts_as_they_were(service, deferring):
    rows, items = _kept_rows(), sorted(OwedItem.objects.values_list("pk", flat=True))
    with pytest.raises(RuntimeError), transaction.atomic():
        schedule.episodes_schedule_recompute(today=TODAY)
        raise RuntimeError("the transaction fails after the recompute")
    assert _kept_rows() == rows
    assert sorted(OwedItem.objects.values_list("pk", flat=True)) == items
    assert not _deferred()
    _assert_exact(service["users"])


@pytest.mark.django_db
@pytest.mark.postgres
def test_an_error_inside_the_deferral_undoes_its_uncounted_writes(service):
    episode = service["episodes"][1]
    rows = _kept_rows()

    def write():
        assert _deferred()
        OwedItem.objects.create(episode=episode, kind="check_up", target=TODAY, deadline=TODAY)
        OwedItem.objects.filter(episode=episode).update(target=TODAY - timedelta(days=1))
        OwedItem.objects.filter(episode=service["episodes"][2]).delete()
        assert _kept_rows() == rows  # the triggers wrote no change row for any of the three
        raise RuntimeError("the bulk write fails half-way")

    with transaction.atomic():
        with pytest.raises(RuntimeError):
            kept.writes_counted([(kept.FOLD_CHANGES_OVER + 1, write)], today=TODAY)
        # The caller carries on in the same transaction: the writes are gone and changes are counted again.
        assert not _deferred()
        assert not OwedItem.objects.filter(episode=episode, kind="check_up").exists()
        assert OwedItem.objects.filter(episode=service["episodes"][2]).exists()
        assert _kept_rows() == rows
        OwedItem.objects.create(episode=episode, kind="check_up", target=TODAY, deadline=TODAY)
    assert OwedCountChange.objects.count() == rows[2].total() + 1
    _assert_exact(service["users"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_the_deferral_ends_with_the_transaction(service, deferring):
    """Committed for real (no test transaction around it): SET LOCAL, not SET."""
    schedule.episodes_schedule_recompute(today=TODAY)
    assert not OwedCountChange.objects.exists()
    with transaction.atomic():
        with connection.cursor() as cursor:  # turned on and left on: the end of the transaction ends it
            cursor.execute(f"SET LOCAL {kept.DEFERRED_SETTING} = on")
        assert _deferred()
    assert not _deferred()
    OwedItem.objects.create(episode=service["episodes"][2], kind="check_up", target=TODAY, deadline=TODAY)
    assert OwedCountChange.objects.count() == 1  # the next write on the same connection is counted
    _assert_exact(service["users"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_writer_committing_during_a_deferred_recompute_is_counted_once(service, deferring, monkeypatch):
    """Another connection adds an item while the recompute's uncounted items are written but not committed: its
    change row is written as always, and the recompute's rebuild (after the writer commits) absorbs it."""
    replace = schedule.items_written
    written = []

    def writer():
        try:
            OwedItem.objects.create(
                episode=service["episodes"][3], kind="check_up", target=TODAY, deadline=TODAY
            )
            written.append(OwedCountChange.objects.count())
        finally:
            connection.close()

    def replace_then_let_another_write(*args, **kwargs):
        replace(*args, **kwargs)
        assert _deferred()
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(timeout=30)
        assert written and written[0] >= 1  # committed, with its change row, while the recompute waits

    monkeypatch.setattr(schedule, "items_written", replace_then_let_another_write)
    schedule.episodes_schedule_recompute(today=TODAY)
    assert OwedItem.objects.filter(episode=service["episodes"][3], kind="check_up").exists()
    assert not OwedCountChange.objects.exists()
    assert OwedCountRebuild.objects.get().items == OwedItem.objects.count()
    _assert_exact(service["users"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_writer_holding_the_items_makes_the_recompute_count_as_always(service, deferring, monkeypatch):
    """Another transaction writes an item, then waits for an episode the recompute has written: the recompute
    cannot lock the items for its rebuild, and waiting would be a deadlock. It gives up the deferral instead,
    writes the items again with their change rows and commits; the writer then commits too."""
    replace = schedule.items_written
    holding, calls, outcome = threading.Event(), [], []
    waiting_for = service["episodes"][4]

    def writer():
        try:
            with transaction.atomic():
                OwedItem.objects.create(
                    episode=service["episodes"][5], kind="check_up", target=TODAY, deadline=TODAY
                )
                holding.set()
                TreatmentEpisode.objects.filter(pk=waiting_for.pk).update(primary_drug="crack")  # waits
            outcome.append("committed")
        except Exception as error:
            outcome.append(error)
        finally:
            holding.set()
            connection.close()

    def replace_while_another_holds_the_items(*args, **kwargs):
        replace(*args, **kwargs)
        calls.append(_deferred())
        if len(calls) == 1:
            threading.Thread(target=writer).start()
            assert holding.wait(timeout=30)

    monkeypatch.setattr(schedule, "items_written", replace_while_another_holds_the_items)
    schedule.episodes_schedule_recompute(today=TODAY)
    assert calls == [True, False]  # deferred, then written again with the changes counted
    for _ in range(300):
        if outcome:
            break
        time.sleep(0.1)
    assert outcome == ["committed"]
    assert TreatmentEpisode.objects.get(pk=waiting_for.pk).primary_drug == "crack"
    assert OwedCountChange.objects.exists()
    _assert_exact(service["users"])


def _item_writes(episode, calls: list, rows: list[int]) -> list:
    """writes_counted's writes: the n-th adds one item to the episode and notes whether it ran deferred."""

    def write(n):
        def run():
            calls.append((n, _deferred()))
            day = TODAY + timedelta(days=n)
            OwedItem.objects.create(episode=episode, kind="check_up", target=day, deadline=day)
            return n

        return run

    return [(given, write(n)) for n, given in enumerate(rows, start=1)]


@pytest.mark.django_db
@pytest.mark.postgres
def test_the_writes_are_deferred_from_the_one_that_passes_the_threshold(service, monkeypatch):
    """The nightly recompute writes a chunk at a time, not knowing the total: the changes of the first chunks are
    counted as always until the rows given pass the threshold; from that write on they are deferred, and the
    rebuild absorbs the change rows of the earlier ones."""
    monkeypatch.setattr(kept, "FOLD_CHANGES_OVER", 5)
    calls = []
    with transaction.atomic():
        writes = _item_writes(service["episodes"][1], calls, [3, 2, 1, 4])
        assert kept.writes_counted(iter(writes), today=TODAY) == [1, 2, 3, 4]
        assert not _deferred()
    assert calls == [(1, False), (2, False), (3, True), (4, True)]  # 3, 5 (not over 5), then 6
    assert not OwedCountChange.objects.exists()
    assert OwedCountRebuild.objects.get().items == OwedItem.objects.count()
    _assert_exact(service["users"])


@pytest.mark.django_db
@pytest.mark.postgres
def test_deferred_writes_whose_items_stay_busy_are_undone_and_run_again_counted(service, monkeypatch):
    monkeypatch.setattr(kept, "FOLD_CHANGES_OVER", 5)

    def busy(today):
        raise kept.ItemsBusy

    monkeypatch.setattr(kept, "_rebuild_unless_busy", busy)
    calls, changes = [], OwedCountChange.objects.count()
    episode = service["episodes"][1]
    with transaction.atomic():
        writes = _item_writes(episode, calls, [3, 2, 1, 4])
        assert kept.writes_counted(iter(writes), today=TODAY) == [1, 2, 3, 4]
        assert not _deferred()
    # The first two were counted and stay; the deferred two were undone, then written again, counted.
    assert calls == [(1, False), (2, False), (3, True), (4, True), (3, False), (4, False)]
    assert OwedItem.objects.filter(episode=episode, kind="check_up").count() == 4
    assert OwedCountChange.objects.count() == changes + 4
    _assert_exact(service["users"])
