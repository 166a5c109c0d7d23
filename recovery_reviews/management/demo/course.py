"""One episode's story, which every record of the episode tells, and small helpers for drawing it."""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from patients.models import Intervention, TreatmentEpisode
from patients.validators import nhs_number_check_digit


def weighted(rng: random.Random, pairs):
    """One value of (value, weight) pairs."""
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def days_between(start: date, end: date) -> int:
    return (end - start).days


def date_between(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=rng.randint(0, days_between(low, high)))


def demo_nhs_number(rng: random.Random, taken: set) -> str:
    """A valid NHS number in the 999 range, which NHS England keeps for test data, so that a demo number can
    never be a real person's: six random digits after 999, then the modulus-11 check digit (a number with no
    valid check digit is skipped)."""
    while True:
        first_nine = f"999{rng.randrange(1_000_000):06d}"
        check = nhs_number_check_digit(first_nine)
        number = f"{first_nine}{check}"
        if check is not None and number not in taken:
            taken.add(number)
            return number


@dataclass
class Course:
    """How the patient fares over the episode and what the service does about it.

    The level of problem use runs from 1 (as bad as at the worst) to 0 (none): improving falls to near 0,
    plateaued falls to about half and stays there, deteriorating falls at first then climbs back to the end.
    """

    episode: TreatmentEpisode
    trajectory: str
    end: date  # today for an open episode, the exit date for one that ended
    fate: str = "natural"  # open episodes: natural, overdue (latest review not held), awaiting (§2.4)
    story: str = ""  # one of the patients whose record shows a risky moment (stories.py); "" for the rest
    reviews_until: date | None = None  # a story's: the reviews of the bulk load stop here (else at `end`)
    reports_until: date | None = None  # a story's: the pharmacy reports of the bulk load end by here
    steady: bool = False  # a story's: no run of missed doses in the bulk load (its own are told)
    back_on: date | None = None  # an ended episode's: the patient came back into treatment on this day
    plot: dict = field(default_factory=dict)  # a story's own dates and records, for what the services record
    shape: tuple = ()  # level at entry, level it falls to, days it takes, level at the end (deteriorating)
    peaks: dict = field(default_factory=dict)  # TOP prefix -> days used in 28 at the worst
    amounts: dict = field(default_factory=dict)  # TOP prefix -> amount on a using day at the worst
    other_name: str = ""
    injector: bool = False
    crime: float = 0.0
    ratings: dict = field(default_factory=dict)  # TOP rating -> (at the worst, at the best)
    work: int = 0
    housing: float = 0.0
    ost: list[Intervention] = field(default_factory=list)
    elements: list[Intervention] = field(default_factory=list)  # OST, detox, residential, inpatient (rule 3b)
    circumstances: list = field(default_factory=list)
    reports: list = field(default_factory=list)  # (period start, period end, missed days)
    missed: list[date] = field(default_factory=list)  # every missed dose of the episode's reports, in order
    runs: list[date] = field(default_factory=list)  # third day of each run of 3+ in a row, across reports
    tops: list = field(default_factory=list)
    take_home: list = field(default_factory=list)  # (effective from, take-home doses a week), in order
    arrangements: list = field(default_factory=list)  # the dispensing arrangements, as recorded

    def level(self, day: date) -> float:
        start, low, turn, final = self.shape
        t = days_between(self.episode.entry_date, day)
        if t <= turn:
            return start + (low - start) * t / turn
        if self.trajectory != "deteriorating":
            return low
        span = max(1, days_between(self.episode.entry_date, self.end) - turn)
        return low + (final - low) * min(1.0, (t - turn) / span)

    def rising(self, day: date) -> bool:
        """Deteriorating and past the turn: use is climbing again."""
        return (
            self.trajectory == "deteriorating" and days_between(self.episode.entry_date, day) > self.shape[2]
        )

    def on_ost(self, day: date) -> Intervention | None:
        return next(
            (i for i in self.ost if i.started_on <= day and (i.ended_on is None or i.ended_on >= day)), None
        )

    def take_home_on(self, day: date) -> int:
        return next((doses for since, doses in reversed(self.take_home) if since <= day), 0)
