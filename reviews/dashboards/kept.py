"""Figures kept between requests (docs/design.md, Figures kept between requests): the managers' reports of
first-review timeliness, unmet need and outcomes are sums over teams of per-team figures, so each team's figure
is computed once, kept (reviews.kept_models.KeptFigure) and read back until something it depends on changes.

Why a kept figure always equals the live computation:

- Invalidation cannot be forgotten. Database triggers (migration reviews 0011, PostgreSQL and SQLite) bump a
  generation per report and team (KeptGeneration) whenever a row a figure depends on is inserted, deleted or has
  a column it depends on changed, in the transaction of that change: a crash before commit loses the change and
  the bump together, and no code path (the ORM, a bulk update, a raw statement, a trigger copying a patient's team
  to their episodes) writes without it. A TRUNCATE (PostgreSQL) bumps every team.
- A figure is stored with the generation read BEFORE it was computed, and is valid only while that is still the
  team's generation. A reader that reads generation g, then computes while a writer commits a change (which moves
  the generation past g), stores its figure under g: whether or not its computation saw the change, the figure
  is invalid from the moment the change commits, so a stale figure is never taken as valid. Deleting kept rows in
  the trigger instead would not be safe: the reader could store its stale figure after the delete. Generations
  only grow (a missing row is 0; the triggers start a row at 1), so an old generation never comes back.
- Generation and figures are read in one statement, so they come from one snapshot.
- Figures that depend on today (timeliness's "pending" for recent quarters) are stored with the day they were
  computed for and used only on that day, unless the report says that no day after a given one changes them.

A reader that finds no valid figure for a team computes that team's figures live, in one query for all such
teams, and keeps them (one upsert). The live computation stays the reference: the exactness tests compare the
two after random changes, and `manage.py rebuild_kept_figures` recomputes every team's figures.

Only scopes that are whole teams are kept (managers, senior practitioners): a keyworker's scope adds their own
patients in other teams, and is answered live.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date

from django.db import connection

from recovery_reviews.access import team_ids_for_user
from recovery_reviews.models import Role, Team
from reviews.kept_models import KeptFigure

REPORTS = ("timeliness", "unmet", "outcomes")


def scope_teams(user) -> list[int] | None:
    """The teams whose patients make up the user's scope (recovery_reviews.access.patient_scope), or None when
    the scope is not whole teams (a keyworker's)."""
    if not user.is_authenticated or user.role == Role.SUPPORT:
        return []
    if user.role == Role.KEYWORKER:
        return None
    return team_ids_for_user(user)


def _date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _read(report: str, team_ids: list[int], keys: list[str]) -> list[tuple]:
    """Each team's name and current generation, with its kept figures for the keys (none: one row of NULLs)."""
    team = connection.ops.quote_name(Team._meta.db_table)
    teams = ", ".join(["%s"] * len(team_ids))
    wanted = ", ".join(["%s"] * len(keys))
    sql = (
        f"SELECT t.id, t.name, COALESCE(g.generation, 0), f.key, f.generation, f.as_of, f.figures "
        f"FROM {team} t "
        f"LEFT JOIN reviews_keptgeneration g ON g.report = %s AND g.team_id = t.id "
        f"LEFT JOIN reviews_keptfigure f ON f.report = %s AND f.team_id = t.id AND f.key IN ({wanted}) "
        f"WHERE t.id IN ({teams})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [report, report, *keys, *team_ids])
        return cursor.fetchall()


def kept_figures(
    report: str,
    team_ids: Iterable[int],
    keys: list[str],
    compute: Callable[[list[int]], dict[tuple[int, str], object]],
    *,
    as_of: date | None = None,
    valid: Callable[[str, date | None], bool] = lambda key, as_of: True,
) -> tuple[dict[int, str], dict[tuple[int, str], object]]:
    """The teams' names and their figures by (team, key), for every team and key asked.

    `compute(teams)` computes live every key's figure of each team given (JSON-able values); `valid(key, as_of)`
    says whether a figure computed for the day `as_of` is right today."""
    team_ids = sorted(set(team_ids))
    if not team_ids or not keys:
        return {}, {}
    names, generations, figures = {}, {}, {}
    for team, name, current, key, generation, stored_as_of, data in _read(report, team_ids, keys):
        names[team], generations[team] = name, current
        if key is not None and generation == current and valid(key, _date(stored_as_of)):
            figures[(team, key)] = _json(data)
    stale = [team for team in generations if any((team, key) not in figures for key in keys)]
    if stale:
        fresh = compute(stale)
        figures.update({(team, key): fresh[(team, key)] for team in stale for key in keys})
        store(
            report, {(team, key): figures[(team, key)] for team in stale for key in keys}, generations, as_of
        )
    return names, figures


def store(report: str, figures: dict, generations: dict[int, int], as_of: date | None) -> None:
    """Keep figures under the generations read before they were computed (one upsert)."""
    KeptFigure.objects.bulk_create(
        [
            KeptFigure(
                report=report,
                team_id=team,
                key=key,
                generation=generations[team],
                as_of=as_of,
                figures=value,
            )
            for (team, key), value in sorted(figures.items())
        ],
        update_conflicts=True,
        unique_fields=["report", "team_id", "key"],
        update_fields=["generation", "as_of", "figures"],
    )


def forget(report: str | None = None) -> int:
    """Drop kept figures (all, or one report's): the next read computes them again."""
    figures = KeptFigure.objects.all()
    if report:
        figures = figures.filter(report=report)
    return figures.delete()[0]
