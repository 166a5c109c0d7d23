"""Risk of drop-out and harm, as plain functions of plain values with `today` passed in (docs/conventions.md 1):
the disengagement rule (Intro, App. B: reduce the risk of premature drop-out) and the risk level with its
reasons (§2.2: high risks call for a multidisciplinary, multi-agency review). No Django here; the reads that feed
these functions, in bulk for lists, are in reviews/risk_selectors.py.
docs/design.md, Risk level and disengagement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

MISSED_IN_A_ROW = 2  # missed appointments in a row, with none attended between, that raise the alert
DAYS_WITHOUT_CONTACT_ON_OST = 28  # days on OST with no attended appointment that raise it
RECENT_SAFETY_EVENT_DAYS = 28  # a missed-dose run in a report ending this recently is a risk factor
RECENT_TRANSITION_MONTHS = 3  # a transition this recent is a risk factor (App. C 2, rule 3b)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(on: date) -> str:
    """'3 Nov 2026', as recovery_reviews.formatting.day writes it (kept here so this module needs no Django)."""
    return f"{on.day} {_MONTHS[on.month - 1]} {on.year}"


# --- Disengagement (Intro, App. B) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Disengagement:
    """The patient has drifted from contact: since when, and why, as the pages say it."""

    since: date
    reasons: tuple[str, ...]

    @property
    def summary(self) -> str:
        return f"Disengaging since {_day(self.since)}: " + "; ".join(self.reasons)


def ost_clock_start(ost_periods: Iterable[tuple[date, date | None]], *, today: date) -> date | None:
    """The day the patient's current OST began, or None when they are not on OST today. A dose change ends one
    OST row and starts the next, so rows that follow each other within DAYS_WITHOUT_CONTACT_ON_OST days are one
    course: the earliest start among the rows current today or ended in the last DAYS_WITHOUT_CONTACT_ON_OST
    days (reviews/risk_selectors.py reads the same in SQL)."""
    periods = [(start, end) for start, end in ost_periods if start <= today]
    if not any(end is None or end >= today for _start, end in periods):
        return None
    recent = today - timedelta(days=DAYS_WITHOUT_CONTACT_ON_OST)
    return min(start for start, end in periods if end is None or end >= recent)


def disengagement(
    *,
    today: date,
    entry_date: date,
    last_attended: date | None,
    missed_in_a_row: int,
    second_missed_on: date | None,
    ost_since: date | None,
) -> Disengagement | None:
    """Disengagement (Intro, App. B), from the appointments since the last attended one:

    - MISSED_IN_A_ROW (two) missed appointments in a row (none attended between them; cancelled and booked ones
      do not count either way), since the day of the second;
    - or, while on OST (ost_since: the day the current course began, None when not on OST today), no attended
      appointment for DAYS_WITHOUT_CONTACT_ON_OST (28) days, counted from the last attended appointment, the
      start of OST or entry, whichever is latest; since the 28th day.

    An attended appointment clears both: `missed_in_a_row` counts the missed ones after it."""
    reasons, since = [], []
    if missed_in_a_row >= MISSED_IN_A_ROW and second_missed_on is not None:
        after = f"the last attended on {_day(last_attended)}" if last_attended else "entry"
        reasons.append(
            f"{missed_in_a_row} missed appointments in a row since {after}, the second on {_day(second_missed_on)}"
        )
        since.append(second_missed_on)
    if ost_since is not None:
        counted_from = max(d for d in (last_attended, ost_since, entry_date) if d is not None)
        days = (today - counted_from).days
        if days >= DAYS_WITHOUT_CONTACT_ON_OST:
            last = f"the last on {_day(last_attended)}" if last_attended else "none since entry"
            reasons.append(f"no attended appointment for {days} days while on OST ({last})")
            since.append(counted_from + timedelta(days=DAYS_WITHOUT_CONTACT_ON_OST))
    return Disengagement(since=min(since), reasons=tuple(reasons)) if reasons else None


# --- Risk level (§2.2) -----------------------------------------------------------------------------------------


class Factor(StrEnum):
    SAFETY_EVENT = "safety_event"
    SHARED_EQUIPMENT = "shared_equipment"
    RELAPSE_SIGNS = "relapse_signs"
    TRANSITION = "transition"
    DISENGAGEMENT = "disengagement"


class Level(StrEnum):
    HIGH = "high"
    RAISED = "raised"
    STANDARD = "standard"


LEVEL_LABELS = {Level.HIGH: "High risk", Level.RAISED: "Raised risk", Level.STANDARD: "Standard risk"}

# Each of these on its own makes the risk high: a risk of overdose or death, or of blood-borne infection, now.
HIGH_ON_THEIR_OWN = frozenset({Factor.SAFETY_EVENT, Factor.SHARED_EQUIPMENT})
HIGH_FROM = 2  # any two factors together make it high


@dataclass(frozen=True)
class Reason:
    factor: Factor
    text: str


@dataclass(frozen=True)
class Risk:
    level: Level
    reasons: tuple[Reason, ...]

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]

    @property
    def is_high(self) -> bool:
        return self.level == Level.HIGH

    @property
    def why(self) -> str:
        """Why the reasons give this level, in the words of the mapping:
        docs/design.md, Risk level and disengagement."""
        factors = {r.factor for r in self.reasons}
        if self.level == Level.STANDARD:
            return "None of the risk factors is on the record."
        if self.level == Level.RAISED:
            return "One risk factor: two together, a safety event or shared injecting equipment make it high."
        if factors & HIGH_ON_THEIR_OWN:
            return (
                "A safety event or shared injecting equipment makes the risk high on its own: consider a "
                "multidisciplinary, multi-agency review (§2.2)."
            )
        return "Two or more risk factors together make the risk high: consider a multidisciplinary review (§2.2)."


def risk_level(reasons: Iterable[Reason]) -> Risk:
    """High, raised or standard from the factors present (§2.2): high with a safety event or shared injecting
    equipment on its own, or with any HIGH_FROM (two) factors; raised with one other factor; standard with none.
    The reasons are kept in the order of Factor, one per factor."""
    by_factor: dict[Factor, Reason] = {}
    for reason in reasons:
        by_factor.setdefault(reason.factor, reason)
    shown = tuple(by_factor[f] for f in Factor if f in by_factor)
    factors = set(by_factor)
    if factors & HIGH_ON_THEIR_OWN or len(factors) >= HIGH_FROM:
        level = Level.HIGH
    elif factors:
        level = Level.RAISED
    else:
        level = Level.STANDARD
    return Risk(level=level, reasons=shown)


def risk_reasons(
    *,
    today: date,
    safety_run: int | None,
    safety_report_end: date | None,
    shared_needle: bool | None,
    shared_paraphernalia: bool | None,
    top_on: date | None,
    relapse_check_up_on: date | None,
    transitions: Iterable[tuple[date, str]],
    disengaged: Disengagement | None,
) -> list[Reason]:
    """The reasons present, from plain facts read by the selectors:

    - a run of missed doses (three or more: a safety event, App. C 1) in a pharmacy report whose period ended in
      the last RECENT_SAFETY_EVENT_DAYS days;
    - injecting with a needle, syringe, spoon, water or filter used by someone else in the latest TOP (§2.10);
    - early signs of relapse at the latest check-up held (recovery or after an element of treatment, §1.7);
    - a transition (rule 3b: OST started, changed or ended, an element of treatment started or ended) in the last
      RECENT_TRANSITION_MONTHS months that no completed review has followed yet (App. C 2);
    - disengagement (Intro, App. B)."""
    reasons = []
    if safety_run and safety_report_end and (today - safety_report_end).days <= RECENT_SAFETY_EVENT_DAYS:
        reasons.append(
            Reason(
                Factor.SAFETY_EVENT,
                f"{safety_run} missed doses in a row in the pharmacy report to {_day(safety_report_end)}",
            )
        )
    shared = [
        what
        for what, yes in (
            ("a needle or syringe", shared_needle),
            ("a spoon, water or filter", shared_paraphernalia),
        )
        if yes
    ]
    if shared and top_on:
        reasons.append(
            Reason(
                Factor.SHARED_EQUIPMENT,
                f"injected with {' and '.join(shared)} used by someone else (TOP of {_day(top_on)})",
            )
        )
    if relapse_check_up_on:
        reasons.append(
            Reason(
                Factor.RELAPSE_SIGNS, f"early signs of relapse at the check-up of {_day(relapse_check_up_on)}"
            )
        )
    recent = [
        f"{what} on {_day(on)}"
        for on, what in transitions
        if _months_before(today, RECENT_TRANSITION_MONTHS) <= on <= today
    ]
    if recent:
        reasons.append(Reason(Factor.TRANSITION, "a transition in the last 3 months: " + "; ".join(recent)))
    if disengaged:
        reasons.append(Reason(Factor.DISENGAGEMENT, disengaged.summary))
    return reasons


def _months_before(on: date, months: int) -> date:
    """The same day `months` calendar months earlier (the last day of a shorter month)."""
    year, month = divmod(on.year * 12 + on.month - 1 - months, 12)
    month += 1
    for day in (on.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")
