"""Rule 4b of the review scheduling policy (docs/design.md, Review scheduling policy): missed doses read across
pharmacy reports, as pure Python beside reviews.scheduling (the caller applies it: see ReviewFacts there).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

from reviews.scheduling import DEFAULT_POLICY, Policy


class MissedDoseRun(NamedTuple):
    """Consecutive missed days, first to last."""

    first: date
    last: date
    length: int


def missed_dose_runs(dates: Iterable[date]) -> list[MissedDoseRun]:
    """Rule 4b: the runs of consecutive missed days in `dates`, from any number of pharmacy reports together
    (the caller leaves out reports entered in error), earliest first. A day in two reports counts once."""
    runs: list[MissedDoseRun] = []
    for day in sorted(set(dates)):
        if runs and day - runs[-1].last == timedelta(days=1):
            runs[-1] = MissedDoseRun(runs[-1].first, day, runs[-1].length + 1)
        else:
            runs.append(MissedDoseRun(day, day, 1))
    return runs


def safety_events(dates: Iterable[date], policy: Policy = DEFAULT_POLICY) -> list[date]:
    """The date of each safety event (App. C 1): the third consecutive missed day of every run of three or
    more, earliest first. The last of them is the latest safety event."""
    run = policy.missed_dose_safety_run
    return [r.first + timedelta(days=run - 1) for r in missed_dose_runs(dates) if r.length >= run]


def missed_dose_deterioration(
    dates: Iterable[date], since: date, policy: Policy = DEFAULT_POLICY
) -> date | None:
    """Rule 4 with 4b: the first day on or after `since` (the last completed review, or entry) on which three
    or more doses in a row had been missed: the third missed day of a run, or `since` itself for a run already
    three long that goes on that day (the safer reading: a run the review may not have known of is not left
    out because it began before it). None when there is no such day."""
    days = [
        max(r.first + timedelta(days=policy.missed_dose_safety_run - 1), since)
        for r in missed_dose_runs(dates)
        if r.length >= policy.missed_dose_safety_run and r.last >= since
    ]
    return min(days, default=None)
