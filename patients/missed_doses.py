"""Runs of missed doses read across pharmacy reports (docs/design.md rule 4b; App. C 1), in pure Python: the
standard library only, so that the record's services, its pages and the reminders read a run the same way,
wherever its days fall.

A run is a run wherever it spans: consecutive missed days are read from all the episode's pharmacy reports
together (the caller leaves out reports entered in error, which breaks a run they were part of), and a day in two
reports counts once. Three or more in a row is a safety event (tolerance may be lost: the prescriber must be
told before dosing resumes), dated on the run's third day, as the review schedule dates it
(`reviews.scheduling_missed_doses.safety_events`; a test keeps the two readings equal).

**Which report owns a run**, for the prescriber-told record, the safety alert's link and the reminder: the
report that holds the run's third missed day, the day it became a safety event (when two reports hold that day,
the one recorded first, the lower id). So reports that come in in order never move the owner: a later report that
carries the run on joins it, and the run stays one event, with one owner, told once. A run shorter than three is
owned by the report of its first day.

**When the prescriber was told of a run**: the date recorded on its owner, whatever it is (as for a run inside
one report); or else the earliest date recorded on another report of the run on or after the run's third day
(the pharmacist's next report saying the prescriber was told, say). Telling once satisfies the whole run, but a
date on another report before the third day was about missed doses that were not yet a safety event, so it does
not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

SAFETY_RUN = 3  # three consecutive missed doses of an opioid substitute are a safety event (App. C 1)


@dataclass(frozen=True)
class MissedDoseRun:
    """Consecutive missed days, `first` to `last`, and the reports (by id) that hold them."""

    first: date
    last: date
    reports: tuple[int, ...]  # each once, in the order their days come in the run (ties: lower id first)
    owner: int

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def is_safety_event(self) -> bool:
        return self.length >= SAFETY_RUN

    @property
    def safety_event_on(self) -> date | None:
        """The run's third missed day: the day it became a safety event."""
        return self.first + timedelta(days=SAFETY_RUN - 1) if self.is_safety_event else None


def missed_dose_runs(missed: Iterable[tuple[date, int]]) -> list[MissedDoseRun]:
    """The runs of consecutive days in `missed`, (day, report id) pairs from any number of reports, earliest
    first, each with its owner (see the module's docstring)."""
    holders: dict[date, set[int]] = {}
    for day, report in missed:
        holders.setdefault(day, set()).add(report)
    runs: list[MissedDoseRun] = []
    days: list[date] = []
    for day in sorted(holders):
        if days and day - days[-1] != timedelta(days=1):
            runs.append(_run(days, holders))
            days = []
        days.append(day)
    if days:
        runs.append(_run(days, holders))
    return runs


def _run(days: list[date], holders: Mapping[date, set[int]]) -> MissedDoseRun:
    reports: list[int] = []
    for day in days:
        reports += [report for report in sorted(holders[day]) if report not in reports]
    owning_day = days[SAFETY_RUN - 1] if len(days) >= SAFETY_RUN else days[0]
    return MissedDoseRun(days[0], days[-1], tuple(reports), min(holders[owning_day]))


def longest_run(days: Iterable[date]) -> int:
    """The longest run of consecutive calendar days in `days` (0 when there are none)."""
    return max((run.length for run in missed_dose_runs((day, 0) for day in days)), default=0)


def run_told_on(run: MissedDoseRun, told: Mapping[int, date | None]) -> date | None:
    """When the prescriber was told of `run`, from the date each report records (`told`, by report id); None
    while they are not recorded as told (see the module's docstring)."""
    if told.get(run.owner) is not None:
        return told[run.owner]
    third = run.safety_event_on or run.first
    after = [told[r] for r in run.reports if r != run.owner and told.get(r) is not None and told[r] >= third]
    return min(after, default=None)


@dataclass(frozen=True)
class OwnedSafetyEvent:
    """What a report stores of the safety event it owns: the run's length and first day, and when the
    prescriber was told (None while not yet)."""

    length: int
    first: date
    told_on: date | None


def owned_safety_events(
    runs: Iterable[MissedDoseRun], told: Mapping[int, date | None]
) -> dict[int, OwnedSafetyEvent]:
    """The safety event each owning report stores, by report id. A report that owns two runs of three or more
    (a long period) stores the latest still to be told, or the latest of all once every one is told."""
    owned: dict[int, list[tuple[MissedDoseRun, date | None]]] = {}
    for run in runs:
        if run.is_safety_event:
            owned.setdefault(run.owner, []).append((run, run_told_on(run, told)))
    events = {}
    for report, its_runs in owned.items():
        untold = [run for run, told_on in its_runs if told_on is None]
        if untold:
            run, told_on = untold[-1], None
        else:
            run, told_on = its_runs[-1]
        events[report] = OwnedSafetyEvent(run.length, run.first, told_on)
    return events
