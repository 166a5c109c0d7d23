"""The scheduling adapter's bulk writes (reviews.services.schedule): each episode's next_review_* columns,
compare-and-set on schedule_computed_at, and its owed items (reviews.models.OwedItem), replaced as a whole.

On PostgreSQL each is one statement whatever the number of episodes, its rows passed as arrays and unnested
(UPDATE ... FROM unnest, DELETE ... = ANY, INSERT ... SELECT FROM unnest), with no model instance built: the
nightly recompute of every open episode at England scale (300,000 episodes) writes all of them at most once. The
arrays go as parameters of their own (_bulk_cursor), each in PostgreSQL's text form of an array (_array_literal).
On SQLite (tests, local runs) the ORM writes them, row by row or in batches.

`changed` is a list of (episode, values): the episode as read (pk and schedule_computed_at are read), values a
reviews.services.schedule.Stored (columns, first_review, items).
"""

import json
from datetime import date
from typing import NamedTuple

import psycopg
from django.db import connection

from patients.models import TreatmentEpisode
from reviews.models import OwedItem

SQLITE_BATCH = 5000


def _bulk_cursor():
    """A cursor (Django's, so that the query is logged and counted like any other) over a psycopg cursor that sends
    its parameters apart from the statement. Django's own binds them client-side: every element of
    every array written out as text into the SQL, and the SQL parsed back by PostgreSQL (300,000 episodes: a
    30 MB statement, several seconds of Python and of the server's parsing)."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def _json_encoder():
    """An encoder of reasons (a list or tuple of texts) into JSON text that encodes each distinct one once: most
    are shared by many episodes (the decoding side does the same, reviews.services.schedule._json_decoder)."""
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    seen = {}

    def encoded(reasons) -> str:
        key = tuple(reasons)
        try:
            return seen[key]
        except KeyError:
            value = seen[key] = dumps(list(reasons))
            return value

    return encoded


def _array_literal(values, *, quoted: bool = False) -> str:
    """PostgreSQL's text form of a one-dimensional array of `values` (dates, timestamps, texts; None is NULL), to be
    cast by the statement (``%t::date[]``): joined by C code and parsed by the server, a few times cheaper than
    psycopg's binary dump of a list, which converts every element in Python (0.3 s a column of 300,000 here). Each
    distinct value is written out once. Texts (`quoted`) are double-quoted, their quotes and backslashes escaped, as
    the array syntax requires (an empty text or the text NULL would otherwise not read back)."""
    seen = {None: "NULL"}

    def element(value) -> str:
        text = value.isoformat() if isinstance(value, date) else str(value)
        if quoted:
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        seen[value] = text
        return text

    get = seen.get
    return "{" + ",".join([get(value) or element(value) for value in values]) + "}"


def _ids_literal(ids) -> str:
    """The text form of an array of ids (ints, none of them None): each distinct, so none is cached."""
    return "{" + ",".join(map(str, ids)) + "}"


def schedule_columns_write(changed: list, now) -> set[int]:
    """Store the episodes' columns, compare-and-set on schedule_computed_at; the ids of the rows written."""
    if not changed:
        return set()
    if connection.vendor == "postgresql":
        return columns_written(columns_prepared(changed, now))
    written = set()
    for episode, values in changed:
        kind, target, deadline, reasons = values.columns
        seen = episode.schedule_computed_at
        unchanged_since_read = (
            {"schedule_computed_at": seen} if seen else {"schedule_computed_at__isnull": True}
        )
        if TreatmentEpisode.objects.filter(pk=episode.pk, **unchanged_since_read).update(
            next_review_kind=kind,
            next_review_target=target,
            next_review_deadline=deadline,
            next_review_reasons=reasons,
            first_review_completed_on=values.first_review,
            schedule_computed_at=now,
        ):
            written.add(episode.pk)
    return written


_COLUMNS_SQL = f"""
    UPDATE {TreatmentEpisode._meta.db_table} AS e
       SET next_review_kind = v.kind, next_review_target = v.target, next_review_deadline = v.deadline,
           next_review_reasons = v.reasons::jsonb, first_review_completed_on = v.first_review,
           schedule_computed_at = %s
      FROM unnest(%t::bigint[], %t::varchar[], %t::date[], %t::date[], %t::text[], %t::date[],
                  %t::timestamptz[])
           AS v(id, kind, target, deadline, reasons, first_review, seen)
     WHERE e.id = v.id AND e.schedule_computed_at IS NOT DISTINCT FROM v.seen
 RETURNING e.id
"""


def columns_prepared(changed: list, now) -> list:
    """The parameters of the one UPDATE ... FROM unnest(...) of the changed episodes' columns, compare-and-set on
    schedule_computed_at (PostgreSQL; columns_written sends it), made ready to send: the Python share of the
    write, which the nightly recompute does while the previous chunk is being written."""
    ids, kinds, targets, deadlines, reasons, firsts, seen = [], [], [], [], [], [], []
    encoded = _json_encoder()
    for episode, values in changed:
        kind, target, deadline, why = values.columns
        ids.append(episode.pk)
        kinds.append(kind)
        targets.append(target)
        deadlines.append(deadline)
        reasons.append(encoded(why))
        firsts.append(values.first_review)
        seen.append(episode.schedule_computed_at)
    return [
        now,
        _ids_literal(ids),
        _array_literal(kinds, quoted=True),
        _array_literal(targets),
        _array_literal(deadlines),
        _array_literal(reasons, quoted=True),
        _array_literal(firsts),
        _array_literal(seen, quoted=True),  # text (reviews.services.schedule._episode_rows) or datetimes
    ]


def columns_written(prepared: list) -> set[int]:
    """Send the UPDATE columns_prepared made ready: the ids of the rows written."""
    with _bulk_cursor() as cursor:
        cursor.execute(_COLUMNS_SQL, prepared)
        return {row[0] for row in cursor.fetchall()}


def owed_items_replace(values_by_episode: dict, *, stored: set[int] | None = None) -> None:
    """Replace the stored items of these episodes (id -> Stored) with their new ones. `stored`: the ids among
    them that may have items stored (None: any of them); on PostgreSQL the others' are only inserted."""
    if not values_by_episode:
        return
    if connection.vendor == "postgresql":
        items_written(items_prepared(values_by_episode, stored=stored))
        return
    rows = [(episode_id, item) for episode_id, values in values_by_episode.items() for item in values.items]
    ids = list(values_by_episode)  # on SQLite (no scale) every episode's, as the statement count is pinned
    for start in range(0, len(ids), SQLITE_BATCH):
        OwedItem.objects.filter(episode_id__in=ids[start : start + SQLITE_BATCH]).delete()
    OwedItem.objects.bulk_create(
        (
            OwedItem(
                episode_id=episode_id,
                kind=item.kind,
                target=item.target,
                deadline=item.deadline,
                reasons=list(item.reasons),
                element_end=item.element_end,
            )
            for episode_id, item in rows
        ),
        batch_size=2000,
    )


# More rows than this, and the bulk insert gives each item its team and keyworker itself, the row trigger of reviews
# 0007 skipped for it (reviews 0014): a trigger call a row cost 2-3 s at 300,000 rows; two statements more.
TEAM_GIVEN_OVER = 5000
TEAM_GIVEN_SETTING = "rr.owed_care_team_given"  # read by the trigger's WHEN (reviews 0014)


class ItemsPrepared(NamedTuple):
    """The statements' parameters of an owed items replace (PostgreSQL), made ready by items_prepared."""

    delete: str  # the ids of the episodes whose items are deleted
    insert: list  # the INSERT's arrays; empty when there is nothing to insert
    rows: int


def items_prepared(values_by_episode: dict, *, stored: set[int] | None = None) -> ItemsPrepared:
    """The parameters of owed_items_replace's statements on PostgreSQL (items_written), made ready to send: the
    Python share of the write, as columns_prepared."""
    ids = [pk for pk in values_by_episode if stored is None or pk in stored]
    rows = [(episode_id, item) for episode_id, values in values_by_episode.items() for item in values.items]
    encoded = _json_encoder()
    insert = (
        [
            _ids_literal([episode_id for episode_id, _ in rows]),
            _array_literal([item.kind for _, item in rows], quoted=True),
            _array_literal([item.target for _, item in rows]),
            _array_literal([item.deadline for _, item in rows]),
            _array_literal([encoded(item.reasons) for _, item in rows], quoted=True),
            _array_literal([item.element_end for _, item in rows]),
        ]
        if rows
        else []
    )
    return ItemsPrepared(_ids_literal(ids), insert, len(rows))


_ITEMS_INSERT = f"""
    INSERT INTO {OwedItem._meta.db_table} (episode_id, kind, target, deadline, reasons, element_end, team_id,
                                           keyworker_id)
    SELECT v.episode_id, v.kind, v.target, v.deadline, v.reasons::jsonb, v.element_end, e.team_id, e.keyworker_id
      FROM unnest(%t::bigint[], %t::varchar[], %t::date[], %t::date[], %t::text[], %t::date[])
           AS v(episode_id, kind, target, deadline, reasons, element_end)
      LEFT JOIN {TreatmentEpisode._meta.db_table} AS e ON e.id = v.episode_id
"""


def items_written(prepared: ItemsPrepared) -> None:
    """One DELETE of the episodes' items and one INSERT ... SELECT FROM unnest(...) of the new ones. Their team and
    keyworker are the episode's: read from it by the INSERT (the caller holds the episodes' rows locked, having
    written or locked them in its transaction), and copied again by the trigger of migration reviews 0007 unless
    the rows are many (TEAM_GIVEN_OVER), when the trigger is skipped for this statement alone."""
    with _bulk_cursor() as cursor:
        # Run when no episode had items too (an empty array costs nothing), so that the count of statements does
        # not depend on what was stored (it is pinned).
        cursor.execute(
            f"DELETE FROM {OwedItem._meta.db_table} WHERE episode_id = ANY(%t::bigint[])", [prepared.delete]
        )
        if not prepared.rows:
            return
        if prepared.rows <= TEAM_GIVEN_OVER:
            cursor.execute(_ITEMS_INSERT, prepared.insert)
            return
        # Transaction-local, and set after any savepoint the caller holds: an error that undoes the insert undoes
        # the setting with it.
        cursor.execute("SELECT set_config(%t, 'on', true)", [TEAM_GIVEN_SETTING])
        cursor.execute(_ITEMS_INSERT, prepared.insert)
        cursor.execute("SELECT set_config(%t, 'off', true)", [TEAM_GIVEN_SETTING])
