"""Queries built and compiled once per process and shape, then run with each request's values (docs/design.md,
Queries compiled once).

Under bench_load a third of the web workers' CPU went on building querysets and compiling them to SQL, again on
every request, for queries whose SQL differs from one request to the next only in its values: the person's id and
teams, today's date. A ``CompiledQuery`` wraps the function that builds such a queryset. The first time it is run
for a shape (the number of teams in the scope, the role, the fixed arguments), it builds the queryset three times
with stand-in values (sentinels) and compiles each, and learns which parameter of the SQL carries which value:

- a parameter equal in the three compiles is a constant of the query (a status, a kind);
- a parameter that is a stand-in value, or a stand-in date moved by the same number of days in all three (today
  less 28 days), carries that value;
- anything else (the SQL differs, a value went into the SQL's text, a date moved by months, a value the build
  worked out some other way, a "constant" date within two days of now, which only a build reading the clock
  writes) and the query is not compiled: it is built and compiled by the ORM on every run, as before. Nothing is
  guessed.

The three stand-in dates sit at places in the calendar (30 December 1896, 1 November 1904, 28 April 1703) where a
date moved by any number of calendar months up to three years, or to the first of its month or year, moves by
numbers of days that are not all the same, so it is refused (tests/recovery_reviews/test_compiled_queries.py).

Each later run sends the kept SQL with the run's values in their places, and the ORM turns the rows into model
instances (or tuples) as it would have, from the compiler state kept with the SQL. The result is a list: the
queryset never leaves, so nothing can filter it further and reuse SQL that no longer fits it.

The values a run takes are the application's own (ids, dates, the signed-in person), never what a person typed:
a value the ORM would have refused (an id out of its column's range) is not checked again here.

With settings.COMPILED_QUERIES_CHECK (on in the tests) every run also builds and compiles the queryset with the
run's own values and raises if the SQL or its values differ from what is sent, or if a query used by the tests
could not be compiled: every test that reaches a compiled query holds it to the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from threading import Lock
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import QuerySet
from django.db.models.sql.query import Query

# Three stand-in series. Ints sit far above any id the service will reach and inside a 32-bit column's range (the
# ORM refuses a value outside it before any SQL is written).
_INT_BASES = (1_900_000_000, 1_700_000_000, 1_500_000_000)
_DATE_BASES = (date(1896, 12, 30), date(1904, 11, 1), date(1703, 4, 28))
_YEARS_APART = 40  # between two date slots of one series: an offset never reaches the next slot
_MOST_SHAPES = 512  # past this many kept shapes the cache starts again (bounded memory)
# The teams in a person's scope, kept on a user object loaded for one request (recovery_reviews/access.py) and
# given to a stand-in.
TEAM_IDS_IN_SCOPE = "team_ids_in_scope"


class NotCompilable(Exception):
    """The query's SQL cannot be kept and filled in: it is built by the ORM on every run instead."""


class ScopeStandIn:
    """A signed-in person as the scope rules read them (recovery_reviews/access.py): a role, an id, a team and
    the teams in scope. Passed to a build in place of the person, with stand-in ids. Reading anything else of it
    (even with a default, as ``getattr(user, "is_superuser", False)`` would) refuses the query: SQL kept for a
    shape must not depend on anything the shape does not hold."""

    is_authenticated = True
    is_anonymous = False
    _READABLE = frozenset({"role", "pk", "id", "team_id", "is_authenticated", "is_anonymous", "__dict__"})

    def __init__(self, role: str, pk: int, team_id: int | None, team_ids: list[int]):
        self.__dict__.update(role=role, pk=pk, id=pk, team_id=team_id)
        self.__dict__[TEAM_IDS_IN_SCOPE] = list(team_ids)

    def __getattribute__(self, name: str):
        if name.startswith("__") or name in ScopeStandIn._READABLE:
            return object.__getattribute__(self, name)
        raise NotCompilable(f"The build reads the person's {name!r}, which the shape does not hold.")


@dataclass(frozen=True)
class _Slot:
    kind: str  # "int", "str", "date", "datetime", "ints" or "scope"
    shape: tuple  # what must be equal for two runs to share SQL


def _slot(value) -> _Slot:
    if isinstance(value, bool) or value is None:
        raise TypeError("A compiled query's values are ids, texts, dates or a person: pass a flag as shape.")
    if isinstance(value, int):
        return _Slot("int", ())
    if isinstance(value, str):
        return _Slot("str", ())
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("A compiled query's times are aware datetimes.")
        return _Slot("datetime", ())
    if isinstance(value, date):
        return _Slot("date", ())
    if isinstance(value, list | tuple):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise TypeError("A compiled query's lists are lists of ids.")
        return _Slot("ints", (len(value),))
    raise TypeError(f"A compiled query cannot take {type(value).__name__} as a value: pass it as shape.")


_TEXT_STAND_IN = "\x1fcompiled query stand-in {series} {n}\x1f"


def _read(value) -> tuple[_Slot, list]:
    """A run's value: its slot, and the parameters it may become (_flat's order). A person's teams are read once."""
    if getattr(value, "is_authenticated", False) and hasattr(value, "role"):
        from recovery_reviews.access import team_ids_for_user

        teams = team_ids_for_user(value)
        slot = _Slot("scope", (value.role, value.team_id is None, len(teams)))
        return slot, [value.pk, *([] if value.team_id is None else [value.team_id]), *teams]
    slot = _slot(value)
    return slot, _flat(slot, value)


def _flat(slot: _Slot, value) -> list:
    """The value as the parameters it may become, in a fixed order (a stand-in person's as _read reads a person)."""
    if slot.kind in ("int", "str", "date", "datetime"):
        return [value]
    if slot.kind == "ints":
        return list(value)
    from recovery_reviews.access import team_ids_for_user

    return [value.pk, *([] if value.team_id is None else [value.team_id]), *team_ids_for_user(value)]


def _stand_ins(slots: dict[str, _Slot], series: int) -> tuple[dict[str, Any], list]:
    """One series of stand-in values for these slots, and the same flattened as _flat flattens real ones."""
    next_int, dates_used = _INT_BASES[series], 0
    values, flat = {}, []

    def an_int():
        nonlocal next_int
        next_int += 1
        return next_int

    for name, slot in slots.items():
        if slot.kind == "int":
            value = an_int()
        elif slot.kind == "str":
            value = _TEXT_STAND_IN.format(series=series, n=an_int())
        elif slot.kind in ("date", "datetime"):
            base = _DATE_BASES[series]
            day = base.replace(year=base.year + _YEARS_APART * dates_used)
            dates_used += 1
            value = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) if slot.kind == "datetime" else day
        elif slot.kind == "ints":
            value = [an_int() for _ in range(slot.shape[0])]
        else:
            role, no_team, teams = slot.shape
            value = ScopeStandIn(
                role, an_int(), None if no_team else an_int(), [an_int() for _ in range(teams)]
            )
        values[name] = value
        flat.extend(_flat(slot, value))
    return values, flat


@dataclass
class _Compiled:
    queryset: QuerySet | None = field(repr=False)  # built with the first stand-ins; None: it holds no row
    sql: str
    recipe: list[tuple]  # per parameter: ("constant", value) or ("value", flat index, days moved, adapt)
    state: dict  # the compiler's select, klass_info, annotation_col_map, col_count, has_extra_select


class CompiledQuery:
    """``build(**values, **shape)`` returns a queryset. ``run(shape={...}, **values)`` returns its rows as a list.
    Values are ids, lists of ids, texts, dates, aware datetimes or a signed-in person (their scope); shape is
    anything else the build takes (a limit, a flag), and part of what the SQL is kept by. A text is kept only
    where it reaches the SQL as it is (an exact match): one the ORM changes first (``icontains``'s ``%text%``) is
    refused."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._kept: dict[tuple, _Compiled | NotCompilable] = {}
        self._lock = Lock()

    def run(
        self, *, shape: dict | None = None, check_against: Callable[[], QuerySet] | None = None, **values
    ) -> list:
        """The rows. `check_against`: a function giving a queryset the caller builds the same way, held to the same
        SQL and values under COMPILED_QUERIES_CHECK (so that a caller's own query and the compiled one cannot drift
        apart); called only then."""
        shape = shape or {}
        read = {name: _read(value) for name, value in values.items()}
        slots = {name: slot for name, (slot, _) in read.items()}
        key = (tuple(sorted(shape.items())), tuple(slots.items()))
        compiled = self._kept.get(key)
        if compiled is None:
            compiled = self._compile(slots, shape)
            with self._lock:
                if len(self._kept) >= _MOST_SHAPES:
                    self._kept.clear()
                self._kept[key] = compiled
        if isinstance(compiled, NotCompilable):
            if getattr(settings, "COMPILED_QUERIES_CHECK", False):
                raise compiled
            return list(self.build(**values, **shape))
        if compiled.queryset is None:
            rows = []
            params = None
        else:
            flat = [item for _, items in read.values() for item in items]
            params = tuple(_param(step, flat) for step in compiled.recipe)
            rows = _rows(compiled, params)
        if getattr(settings, "COMPILED_QUERIES_CHECK", False):
            self._check(compiled, params, self.build(**values, **shape))
            if check_against is not None:
                self._check(compiled, params, check_against())
        return rows

    def _compile(self, slots: dict[str, _Slot], shape: dict) -> _Compiled | NotCompilable:
        try:
            return _compiled(self.build, slots, shape)
        except NotCompilable as refused:
            return refused

    def _check(self, compiled: _Compiled, params, queryset: QuerySet) -> None:
        try:
            sql, orm_params = queryset.query.get_compiler(using=queryset.db).as_sql()
        except EmptyResultSet:
            sql, orm_params = None, None
        expected = (compiled.sql, params) if compiled.queryset is not None else (None, None)
        if (sql, None if orm_params is None else tuple(orm_params)) != expected:
            raise AssertionError(
                f"A compiled query sent {expected!r} where the ORM compiles {(sql, orm_params)!r}."
            )


def _compiled(build, slots: dict[str, _Slot], shape: dict) -> _Compiled:
    compiles = []
    for series in range(3):
        stand_ins, flat = _stand_ins(slots, series)
        try:
            queryset = build(**stand_ins, **shape)
        except (AttributeError, TypeError, ValueError) as error:
            raise NotCompilable(f"The build does not take stand-in values: {error}") from error
        # NotCompilable raised by a stand-in goes on up as it is
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            sql, params = None, None
        compiles.append((queryset, compiler, sql, params, flat))
    if len({sql for _, _, sql, _, _ in compiles}) != 1 or len({p is None for *_, p, _ in compiles}) != 1:
        raise NotCompilable("The SQL differs with the values: a value is written into its text.")
    queryset, compiler, sql, params, _ = compiles[0]
    if sql is None:
        return _Compiled(None, "", [], {})
    connection = connections[queryset.db]
    recipe = [_step(position, compiles, connection) for position in range(len(params))]
    state = {
        name: getattr(compiler, name)
        for name in ("select", "klass_info", "annotation_col_map", "col_count", "has_extra_select")
    }
    return _Compiled(queryset, sql, recipe, state)


def _step(position: int, compiles: list, connection) -> tuple:
    """What fills one parameter: a constant, or one of the values (moved by a number of days, for a date)."""
    seen = [params[position] for *_, params, _ in compiles]
    if _from_the_clock(seen[0]):
        raise NotCompilable(
            f"Parameter {position} ({seen[0]!r}) is a date near today that no value gave: the build read the "
            "clock, and kept SQL would keep that day. Pass the day or the time as a value."
        )
    if all(value == seen[0] for value in seen):
        return ("constant", seen[0])
    flats = [flat for *_, flat in compiles]
    for index in range(len(flats[0])):
        stand_ins = [flat[index] for flat in flats]
        for adapt in _adapters(stand_ins[0], connection):
            moved = _moved(stand_ins, seen, adapt)
            if moved is not None:
                return ("value", index, moved, adapt)
    raise NotCompilable(f"Parameter {position} ({seen[0]!r}) is worked out from a value in a way not kept.")


def _from_the_clock(value) -> bool:
    """A date or time within two days of now (text too, as SQLite has them): what a build that read the clock
    would have written, since no constant of a query is so near."""
    if isinstance(value, str) and 10 <= len(value) <= 32 and value[:4].isdigit():
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return False
    if isinstance(value, datetime):
        now = datetime.now(value.tzinfo) if value.tzinfo else datetime.now(UTC).replace(tzinfo=None)
        return abs(value - now) < timedelta(days=2)
    if isinstance(value, date):
        return abs(value - date.today()) < timedelta(days=2)
    return False


def _adapters(stand_in, connection) -> list:
    if isinstance(stand_in, datetime):
        return [_same, connection.ops.adapt_datetimefield_value]
    if isinstance(stand_in, date):
        return [_same, connection.ops.adapt_datefield_value]
    return [_same]


def _same(value):
    return value


def _moved(stand_ins: list, seen: list, adapt) -> int | None:
    """The days by which all three stand-ins moved to give what was seen (0 for anything but a date), or None."""
    days = 0
    if type(stand_ins[0]) is date:
        first = seen[0]
        if isinstance(first, str):  # SQLite's dates are text
            try:
                first = date.fromisoformat(first)
            except ValueError:
                return None
        if type(first) is date:
            days = (first - stand_ins[0]).days
            if abs(days) > 366 * 20:
                return None
    for stand_in, value in zip(stand_ins, seen, strict=True):
        if adapt(stand_in + timedelta(days=days) if days else stand_in) != value:
            return None
    return days


def _param(step: tuple, flat: list):
    if step[0] == "constant":
        return step[1]
    _, index, days, adapt = step
    value = flat[index]
    return adapt(value + timedelta(days=days) if days else value)


class _KeptQuery(Query):
    """The kept queryset's query, handing the ORM a compiler that sends the kept SQL with this run's values."""

    kept: tuple  # (sql, params, state)

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        compiler = super().get_compiler(using, connection, elide_empty)
        sql, params, state = self.kept
        compiler.__dict__.update(state)
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        return compiler


def _rows(compiled: _Compiled, params: tuple) -> list:
    template = compiled.queryset
    query = Query.__new__(_KeptQuery)
    query.__dict__ = template.query.__dict__.copy()
    query.kept = (compiled.sql, params, compiled.state)
    queryset = template.__class__(model=template.model, query=query, using=template.db)
    for name in ("_iterable_class", "_fields", "_prefetch_related_lookups"):
        setattr(queryset, name, getattr(template, name))
    return list(queryset)


@contextmanager
def planned_for_their_values() -> Iterator[None]:
    """Queries sent inside are not prepared (settings, DATABASE_PREPARE_THRESHOLD): PostgreSQL plans each for the
    values it is given. For queries whose best plan depends on those values, such as a search by part of a name,
    where a prepared query's generic plan, made for any text, read three times as much (bench_pages: "jo smi",
    p95 50 ms planned for its text, 145 ms prepared)."""
    if connection.vendor != "postgresql" or not connection.settings_dict["OPTIONS"].get("prepare_threshold"):
        yield
        return
    connection.ensure_connection()
    driver = connection.connection
    kept, driver.prepare_threshold = driver.prepare_threshold, None
    try:
        yield
    finally:
        driver.prepare_threshold = kept
