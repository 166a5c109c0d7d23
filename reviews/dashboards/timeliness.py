"""First-review timeliness (§1.3): of the patients who entered treatment in each quarter, the share whose first
strategic review with them was completed within 3 months of entry, and within 6 months, by team.

Each entrant falls in one of four groups for each limit (3 and 6 months):
- met: the first review with the patient completed on or before entry + the limit;
- left: no such review, and treatment ended before the limit (nobody was owed one);
- pending: no such review yet, and the limit has not passed (still in time);
- missed: the limit has passed in treatment without a review.
The share is met / (met + missed): entrants still in time, and those who left before a review was owed, are
shown but not counted against the team.

One GROUP BY over entrants reads the stored first-review date (reviews.services.schedule keeps it), so the
report does not read every review. Each team's quarters are kept between requests (reviews.dashboards.kept):
valid until an episode of the team is added, moved, removed, or has its entry, exit or first review changed.
A quarter's "pending" depends on today until the last of its 6-month limits has passed: until then its kept
figures are used only on the day they were computed for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Count, DateField, F, Func, Q, Value
from django.db.models.functions import TruncQuarter
from django.db.models.lookups import GreaterThanOrEqual

from patients.access import episodes_for_user
from patients.models import TreatmentEpisode
from reviews.dashboards import kept
from reviews.dashboards.forms import quarter_start

LIMITS = (3, 6)  # months (§1.3: "within 3 months and no later than 6 months")


class AddMonths(Func):
    """A date plus whole calendar months, the end of a shorter month kept (31 Aug + 6 months = 28 Feb), as
    dateutil's relativedelta, and so the scheduling policy, counts them."""

    output_field = DateField()

    def __init__(self, expression, months: int):
        super().__init__(expression)
        self.months = int(months)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) + make_interval(months => {self.months}))::date", params

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite's date() rolls an overflowing day into the next month (31 Aug + 6 months = 3 Mar); when the
        # day of the month changed, step back to the last day of the intended month instead.
        sql, params = compiler.compile(self.source_expressions[0])
        shifted = f"date({sql}, '+{self.months} months')"
        return (
            f"(CASE WHEN strftime('%%d', {shifted}) = strftime('%%d', {sql}) THEN {shifted} "
            f"ELSE date({shifted}, 'start of month', '-1 day') END)",
            params * 4,
        )


@dataclass
class Timeliness:
    entrants: int = 0
    met: dict = field(default_factory=lambda: dict.fromkeys(LIMITS, 0))
    left: dict = field(default_factory=lambda: dict.fromkeys(LIMITS, 0))
    pending: dict = field(default_factory=lambda: dict.fromkeys(LIMITS, 0))

    def missed(self, months: int) -> int:
        return self.entrants - self.met[months] - self.left[months] - self.pending[months]

    def share(self, months: int) -> float | None:
        counted = self.met[months] + self.missed(months)
        return self.met[months] / counted if counted else None

    @property
    def share_3(self):
        return self.share(3)

    @property
    def share_6(self):
        return self.share(6)

    @property
    def missed_3(self):
        return self.missed(3)

    @property
    def missed_6(self):
        return self.missed(6)

    def add(self, other: Timeliness) -> None:
        self.entrants += other.entrants
        for months in LIMITS:
            self.met[months] += other.met[months]
            self.left[months] += other.left[months]
            self.pending[months] += other.pending[months]


@dataclass
class TimelinessReport:
    quarters: list[date]
    by_quarter: dict[date, Timeliness]
    teams: list[tuple[int, str]]
    by_team_quarter: dict[tuple[int, date], Timeliness]
    by_team: dict[int, Timeliness]


def _counts(today: date) -> dict:
    # Counting entry_date, a column of the episode_team_entry index, rather than the primary key keeps the read
    # to the index alone on PostgreSQL.
    counts = {"entrants": Count("entry_date")}
    for months in LIMITS:
        limit = AddMonths(F("entry_date"), months)
        met = Q(first_review_completed_on__lte=limit)
        left = ~met & Q(exit_date__lt=limit)
        counts[f"met_{months}"] = Count("entry_date", filter=met)
        counts[f"left_{months}"] = Count("entry_date", filter=left)
        counts[f"pending_{months}"] = Count(
            "entry_date", filter=~met & ~left & Q(GreaterThanOrEqual(limit, Value(today)))
        )
    return counts


def first_quarter_of(today: date, quarters: int) -> date:
    return quarter_start(today) - relativedelta(months=3 * (quarters - 1))


def _rows(episodes, *, first_quarter: date, today: date):
    """(team, name, quarter, Timeliness) for each team and quarter with entrants, entry from first_quarter to
    today."""
    rows = (
        episodes.filter(entry_date__gte=first_quarter, entry_date__lte=today)
        .annotate(quarter=TruncQuarter("entry_date"))
        .values("team_id", "team__name", "quarter")
        .annotate(**_counts(today))
        .order_by()
    )
    for row in rows:
        cell = Timeliness(
            entrants=row["entrants"],
            met={m: row[f"met_{m}"] for m in LIMITS},
            left={m: row[f"left_{m}"] for m in LIMITS},
            pending={m: row[f"pending_{m}"] for m in LIMITS},
        )
        yield row["team_id"], row["team__name"], _as_date(row["quarter"]), cell


def _report(cells, all_quarters: list[date]) -> TimelinessReport:
    by_quarter = {q: Timeliness() for q in all_quarters}
    by_team_quarter, by_team, names = {}, {}, {}
    for team, name, quarter, cell in cells:
        names[team] = name
        by_team_quarter[(team, quarter)] = cell
        by_quarter[quarter].add(cell)
        by_team.setdefault(team, Timeliness()).add(cell)
    return TimelinessReport(
        quarters=all_quarters,
        by_quarter=by_quarter,
        teams=sorted(names.items(), key=lambda item: item[1]),
        by_team_quarter=by_team_quarter,
        by_team=by_team,
    )


def live_first_review_timeliness(user, *, today: date, quarters: int = 8, team_id: int | None = None):
    """The report counted from the episodes now: the reference the kept figures must equal."""
    first_quarter = first_quarter_of(today, quarters)
    entrants = episodes_for_user(user)
    if team_id:
        entrants = entrants.filter(team_id=team_id)
    all_quarters = [first_quarter + relativedelta(months=3 * i) for i in range(quarters)]
    return _report(_rows(entrants, first_quarter=first_quarter, today=today), all_quarters)


def _to_json(cell: Timeliness) -> list[int]:
    return [cell.entrants, *(cell.met[m] for m in LIMITS), *(cell.left[m] for m in LIMITS)] + [
        cell.pending[m] for m in LIMITS
    ]


def _from_json(values: list[int]) -> Timeliness:
    n = len(LIMITS)
    met, left, pending = values[1 : 1 + n], values[1 + n : 1 + 2 * n], values[1 + 2 * n :]
    return Timeliness(
        entrants=values[0],
        met=dict(zip(LIMITS, met, strict=True)),
        left=dict(zip(LIMITS, left, strict=True)),
        pending=dict(zip(LIMITS, pending, strict=True)),
    )


def settled_after(quarter: date) -> date:
    """From the day after this one, no entrant of the quarter is pending any more and all have entered: the
    quarter's figures no longer depend on today."""
    return quarter + relativedelta(months=3, days=-1) + relativedelta(months=max(LIMITS))


def kept_timeliness(team_ids: list[int], *, today: date, all_quarters: list[date]):
    """Each team's kept cells by (team, quarter ISO), computing the missing teams' (reviews.dashboards.kept)."""
    keys = [q.isoformat() for q in all_quarters]

    def compute(teams: list[int]) -> dict:
        figures = {(team, key): _to_json(Timeliness()) for team in teams for key in keys}
        episodes = TreatmentEpisode.objects.filter(team_id__in=teams)
        for team, _name, quarter, cell in _rows(episodes, first_quarter=all_quarters[0], today=today):
            figures[(team, quarter.isoformat())] = _to_json(cell)
        return figures

    settled = {q.isoformat(): settled_after(q) for q in all_quarters}

    def valid(key: str, as_of: date | None) -> bool:
        return as_of == today or (as_of is not None and as_of > settled[key] and today > settled[key])

    return kept.kept_figures("timeliness", team_ids, keys, compute, as_of=today, valid=valid)


def first_review_timeliness(user, *, today: date, quarters: int = 8, team_id: int | None = None):
    """Entrants of the last `quarters` quarters (the current one included) in the user's scope, from the kept
    figures (equal to live_first_review_timeliness)."""
    team_ids = kept.scope_teams(user)
    if team_ids is None:
        return live_first_review_timeliness(user, today=today, quarters=quarters, team_id=team_id)
    if team_id:
        team_ids = [team for team in team_ids if team == team_id]
    first_quarter = first_quarter_of(today, quarters)
    all_quarters = [first_quarter + relativedelta(months=3 * i) for i in range(quarters)]
    names, figures = kept_timeliness(team_ids, today=today, all_quarters=all_quarters)
    cells = []
    for team in names:
        for quarter in all_quarters:
            cell = _from_json(figures[(team, quarter.isoformat())])
            if cell.entrants:
                cells.append((team, names[team], quarter, cell))
    return _report(cells, all_quarters)


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def quarter_label(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"
