"""Counts of the items owed, kept rather than recounted (docs/design.md, Figures kept between requests).

The dashboard's status counts and the workload forecast group every owed item (reviews.models.OwedItem) of the
user's scope by team or keyworker and by status or week. Counted afresh, that work grows with the service (300,000
items: 150-250 ms a page). Kept, it does not:

- a rebuild counts every item once, as of a day, into OwedCount rows by team, kind, status (rule 8) and forecast
  week, and OwedCountByKeyworker rows by team, keyworker and status;
- triggers on the items (migration reviews 0010) add an OwedCountChange row, +1 or -1, for every item added,
  removed or moved since, in the same transaction as the change: nothing can change an item without it;
- a read sums the kept rows and the changes, each change placed by the same status and week expressions, as of
  today, as the rebuild used.

A write of many items at once (the nightly recompute after the day's dates moved: 300,000 items) may defer its
change rows instead (writes_counted, PostgreSQL): the triggers write none for it, and the counts are rebuilt in
its transaction before it commits, so that the deferral and the rebuild commit or roll back together.

So a figure always equals the count over the items (tests/reviews/test_owed_counts.py changes items at random
and compares). Statuses and weeks move with the date: counts kept as of another day are never read; the read
rebuilds them first (the nightly task does it before anyone asks; a rebuild at 300,000 items takes under a
second). A rebuild locks the items against change while it counts and empties the changes it has absorbed, so a
change is counted once, either in the rows or among the changes, never both or neither.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import TypeVar

from django.db import OperationalError, connection, transaction
from django.db.models import Case, Count, DateField, IntegerField, Q, Sum, Value, When
from django.db.models.lookups import In
from django.utils import timezone

from recovery_reviews.access import patient_scope
from reviews.dashboards.kept import scope_teams
from reviews.models import OwedCount, OwedCountByKeyworker, OwedCountChange, OwedCountRebuild, OwedItem
from reviews.status import ON_ITEMS, review_status_expression

WEEKS = 12  # the forecast's horizon (reviews.dashboards.forecast)
PAST, LATER = -1, WEEKS  # the week of an item whose target has passed, and of one beyond the horizon
# More changes than this waiting since the last rebuild, and the quarter-hourly task folds them in (a day's use
# writes a few thousand; a caseload import or a recompute that moves every date, far more).
FOLD_CHANGES_OVER = 5000
T = TypeVar("T")
LOCK_NOT_AVAILABLE = (
    "55P03"  # PostgreSQL's error when a lock taken with NOWAIT is held by another transaction
)


@IntegerField.register_lookup
class Among(In):
    """``field__among=[ids]``: IN on SQLite; on PostgreSQL ``= ANY(%s)`` with the list as one array parameter."""

    lookup_name = "among"

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


def week_expression(today: date) -> Case:
    """The forecast week of an item's target: week 1 (0 here) starts today; -1 before today; 12 beyond week 12."""
    whens = [When(target__lt=today, then=Value(PAST))]
    whens += [
        When(target__lte=today + timedelta(days=7 * week + 6), then=Value(week)) for week in range(WEEKS)
    ]
    return Case(*whens, default=Value(LATER), output_field=IntegerField())


def _placed(queryset, today: date):
    return queryset.annotate(status=review_status_expression(today, ON_ITEMS), week=week_expression(today))


def rebuild(
    *, today: date | None = None, force: bool = True, changes_over: int | None = None, wait: bool = True
) -> int | None:
    """Count every owed item afresh as of `today`; the changes absorbed are removed. With force=False, only if the
    counts are not already as of today (checked again once the items are locked, so that two readers arriving
    together count once) or, given `changes_over`, more changes than that wait to be summed by every read (after
    a caseload import, say). Returns the number of items counted, or None when nothing needed doing. With
    wait=False (PostgreSQL), raises OperationalError (LOCK_NOT_AVAILABLE) at once if a writer holds the items."""
    today = today or timezone.localdate()
    if not force and not _needed(today, changes_over):
        return None  # the common case, seen without waiting for the lock
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Writers to the items wait (and this waits for those in progress): no change can fall between the
            # count and the emptying of the changes. SQLite's transactions here are IMMEDIATE: already exclusive.
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE reviews_oweditem IN SHARE MODE{'' if wait else ' NOWAIT'}")
        if not force and not _needed(today, changes_over):
            return None
        OwedCountChange.objects.all().delete()
        OwedCount.objects.all().delete()
        OwedCountByKeyworker.objects.all().delete()
        placed = _placed(OwedItem.objects.all(), today)
        by_team = placed.values("team_id", "kind", "status", "week").annotate(n=Count("pk")).order_by()
        counts = [OwedCount(as_of=today, **row) for row in by_team]
        OwedCount.objects.bulk_create(counts, batch_size=5000)
        by_keyworker = placed.values("team_id", "keyworker_id", "status").annotate(n=Count("pk")).order_by()
        OwedCountByKeyworker.objects.bulk_create(
            [OwedCountByKeyworker(as_of=today, **row) for row in by_keyworker], batch_size=5000
        )
        items = sum(count.n for count in counts)
        OwedCountRebuild.objects.update_or_create(
            pk=1, defaults={"as_of": today, "rebuilt_at": timezone.now(), "items": items}
        )
    return items


# The setting the triggers of migration reviews 0013 read: 'on', and they write no change row.
DEFERRED_SETTING = "rr.owed_counts_deferred"
# How often, and how far apart, a deferred write tries to lock the items for its rebuild before it gives up.
LOCK_ATTEMPTS, LOCK_PAUSE = 10, 0.05


class ItemsBusy(Exception):
    """Another transaction kept writing owed items: a deferred write could not lock them for its rebuild."""


def writes_counted(writes: Iterable[tuple[int, Callable[[], T]]], *, today: date) -> list[T]:
    """Run each write, a bulk write of owed items in the caller's transaction given with the number of item rows it
    may add or remove, in order; their results in order. Once the rows given pass FOLD_CHANGES_OVER, the write
    that passes it and every one after it are deferred (PostgreSQL): they write no change row for each item, and
    the counts are rebuilt as of `today` in the same transaction instead, so that they are exact when it commits.
    Their change rows would cost more than the rebuild, which the quarter-hourly task would run after so many
    changes anyway. `writes` may be a generator (the nightly recompute's, computing each write as it goes).

    The deferred writes and their rebuild are one savepoint, so that no item written uncounted can commit: an error
    undoes them (and the setting, SET LOCAL, which ends with the transaction in any case). The rebuild must lock
    the items against writers, and this transaction may hold rows (a recompute's episodes) that a writer holding
    the items waits for: so the lock is tried without waiting, a few times, and if the items stay busy the
    deferred writes are undone and run again, their changes counted as always. Slower, never a deadlock. A write
    run again must give the same result on the state the savepoint restores (the recompute's compare-and-set
    writes do). On SQLite the row triggers count every write."""
    results, rows, writes = [], 0, iter(writes)
    for given, write in writes:
        rows += given
        if connection.vendor == "postgresql" and rows > FOLD_CHANGES_OVER:
            break
        results.append(write())
    else:
        return results
    deferred = [write]
    try:
        with transaction.atomic():
            _defer(True)
            counted = [write()]
            for _, write in writes:
                deferred.append(write)
                counted.append(write())
            _defer(False)
            _rebuild_unless_busy(today)
    except ItemsBusy:
        counted = [write() for write in deferred]
    return results + counted


def _defer(on: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {DEFERRED_SETTING} = {'on' if on else 'off'}")


def _rebuild_unless_busy(today: date) -> None:
    for attempt in range(LOCK_ATTEMPTS):
        try:
            rebuild(today=today, wait=False)
            return
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
        if attempt + 1 < LOCK_ATTEMPTS:
            time.sleep(LOCK_PAUSE)
    raise ItemsBusy


def _needed(today: date, changes_over: int | None) -> bool:
    if not OwedCountRebuild.objects.filter(pk=1, as_of=today).exists():
        return True
    return changes_over is not None and OwedCountChange.objects.all()[changes_over:].exists()


def owed_counts(user, *, today: date, by: tuple[str, ...], where: Q | None = None) -> dict[tuple, int]:
    """The number of items owed in the user's scope, grouped `by` team_id, kind, status and week, or by team_id,
    keyworker_id and status, among those matching `where` (a Q over the same names): {(values of `by`...): n},
    no zero counts. Kept for the team-wide pages: a keyworker's scope (their own patients in any team) is counted
    over the items.

    One query: the kept rows and the changes since, summed in one statement, so that both are read as of the same
    moment (a rebuild committing between two reads would lose or double the changes it absorbed). Kept rows not
    as of today are rebuilt first and read again."""
    teams = scope_teams(user)
    if teams is None:
        return live_counts(user, today=today, by=by, where=where)
    for _attempt in range(2):
        rows = _read(teams, today, by, where)
        kept_days = {row["as_of"] for row in rows if row["as_of"] is not None}
        built = kept_days == {today} or (
            not kept_days and OwedCountRebuild.objects.filter(pk=1, as_of=today).exists()
        )
        if built:
            break
        rebuild(today=today, force=False)
    totals = defaultdict(int)
    for row in rows:
        totals[tuple(row[name] for name in by)] += row["n"]
    return {key: n for key, n in totals.items() if n}


def _read(teams: list[int], today: date, by: tuple[str, ...], where: Q | None) -> list[dict]:
    """The kept rows grouped `by` with their as_of, and the changes grouped `by` (as_of NULL), in one UNION ALL.

    The scope is the user's teams (reviews.dashboards.kept.scope_teams), given as one array rather than a
    parameter a team: psycopg re-parses, uncached, every statement of more than 50 parameters (a manager of 150
    teams: 5 ms a read)."""
    scope = Q(team_id__among=teams) & (where or Q())
    model = OwedCountByKeyworker if "keyworker_id" in by else OwedCount
    kept = model.objects.filter(scope).values(*by, "as_of").annotate(n=Sum("n")).order_by()
    changes = (
        _placed(OwedCountChange.objects.all(), today)
        .filter(scope)
        .annotate(as_of=Value(None, output_field=DateField()))
        .values(*by, "as_of")
        .annotate(n=Sum("sign"))
        .order_by()
    )
    return list(kept.union(changes, all=True))


def live_counts(user, *, today: date, by: tuple[str, ...], where: Q | None = None) -> dict[tuple, int]:
    """The same figures counted over the items themselves: the reference the kept counts are tested against."""
    rows = (
        _placed(OwedItem.objects.all(), today)
        .filter(patient_scope(user) & (where or Q()))
        .values(*by)
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {tuple(row[name] for name in by): row["n"] for row in rows if row["n"]}
