"""The review scheduling policy (docs/design.md, "Review scheduling policy"), as pure Python.

No Django, no database, no clock: `today` is always passed in, so that the policy can be read, tested and
explained on its own. Every number is a named constant below, overridable by name through
Policy.from_overrides (settings.REVIEW_POLICY). The guidance is "Medications in recovery: best practice in
reviewing treatment" (PHE, 2013), cited by paragraph (§1.3, App. C 1).

How the next review is found, earliest wins:

1. the default: rule 1 (first review) or rule 2 (later reviews); once the episode has ended, rule 7 alone
   (recovery check-ups);
2. then each rule of STRATEGIC_REVIEW_RULES in turn, a function (candidate, facts, policy) -> candidate:
   rule 5 (the date agreed at the last review; the only rule that may move the date later, with the §1.5
   justification), then rules 3 and 4, which can only move it earlier.

Each rule that shaped the date appends a sentence for clinicians, citing its paragraph, and its short code.
Rule 6 (§2.4, a review counts only once the patient took part) is applied by the caller: see ReviewFacts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import NamedTuple

from dateutil.relativedelta import relativedelta

# --- The policy's numbers (docs/design.md, Review scheduling policy) --------------------------------------------


class CheckUpOffset(NamedTuple):
    """When recovery check-up number `sequence` falls after exit (§1.7): calendar months, then days."""

    sequence: int
    months: int = 0
    days: int = 0

    def after(self, exit_date: date) -> date:
        return exit_date + relativedelta(months=self.months, days=self.days)

    def describe(self) -> str:
        parts = [(self.months, "month"), (self.days, "day")]
        return " and ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n) or "0 days"


FIRST_REVIEW_TARGET_MONTHS = 3  # §1.3 "within three months ..."
FIRST_REVIEW_DEADLINE_MONTHS = 6  # §1.3 "... (and no later than six months) of treatment entry"
REVIEW_INTERVAL_MONTHS = 6  # §1.3 "repeated at six-monthly intervals"
EARLIER_REVIEW_INTERVAL_MONTHS = 3  # §1.3 "this interval may be shortened", §1.6
ADHERENCE_REREVIEW_DAYS = 28  # App. C 1 "a schedule of earlier re-review"
MAX_AGREED_INTERVAL_MONTHS = 12  # §1.3 "(or in carefully considered cases extended)", §1.5
DUE_SOON_DAYS = 14  # rule 8
CHECK_UP_OFFSETS = (  # §1.7 "pre-scheduled recovery check-ups", after exit
    CheckUpOffset(1, days=14),
    CheckUpOffset(2, months=3),
    CheckUpOffset(3, months=6),
    CheckUpOffset(4, months=12),
)
CHECK_UP_GRACE_DAYS = 14  # rule 7: a check-up's deadline is its target + 14 days

STRATEGIC_REVIEW, RECOVERY_CHECK_UP = "strategic_review", "recovery_check_up"
UPCOMING, DUE_SOON, DUE, OVERDUE = "upcoming", "due_soon", "due", "overdue"

# Rule 3: the §1.6 circumstances that call review earlier, by code, as clinicians would say them.
EARLIER_REVIEW_FACTORS = {
    "short_term_treatment": "short-term treatment",
    "complex_needs": "complex or co-morbid needs",
    "not_benefiting": "treatment not producing the expected benefit",
    "transition": "a personal transition or change of setting",
}


@dataclass(frozen=True)
class Policy:
    """Every number of the policy, by name, with its default (docs/design.md, Review scheduling policy)."""

    first_review_target_months: int = FIRST_REVIEW_TARGET_MONTHS
    first_review_deadline_months: int = FIRST_REVIEW_DEADLINE_MONTHS
    review_interval_months: int = REVIEW_INTERVAL_MONTHS
    earlier_review_interval_months: int = EARLIER_REVIEW_INTERVAL_MONTHS
    adherence_rereview_days: int = ADHERENCE_REREVIEW_DAYS
    max_agreed_interval_months: int = MAX_AGREED_INTERVAL_MONTHS
    due_soon_days: int = DUE_SOON_DAYS
    check_up_offsets: tuple[CheckUpOffset, ...] = CHECK_UP_OFFSETS
    check_up_grace_days: int = CHECK_UP_GRACE_DAYS

    def __post_init__(self) -> None:
        """Numbers that contradict each other would give dates the guidance cannot mean."""
        for shorter, longer in (
            ("first_review_target_months", "first_review_deadline_months"),
            ("earlier_review_interval_months", "review_interval_months"),
            ("review_interval_months", "max_agreed_interval_months"),
        ):
            if getattr(self, shorter) > getattr(self, longer):
                raise ValueError(f"REVIEW_POLICY: {shorter} must not be more than {longer}.")

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, object] | None) -> Policy:
        """The default policy with some numbers overridden by field name (settings.REVIEW_POLICY).
        Fails loudly on a name that is not a policy number or a value that is not a positive whole number."""
        known = {f.name for f in fields(cls)} - {"check_up_offsets"}
        for name, value in (overrides or {}).items():
            if name not in known:
                raise ValueError(
                    f"REVIEW_POLICY: {name!r} is not a policy number; known: {', '.join(sorted(known))}."
                )
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"REVIEW_POLICY: {name} must be a positive whole number, not {value!r}.")
        return replace(cls(), **dict(overrides or {}))


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class ReviewFacts:
    """What the policy needs to know about one treatment episode.

    completed_reviews: the dates on which strategic reviews became complete. Rule 6 (§2.4) is the caller's: a
    review held without the patient is left out until the patient's involvement is recorded, and then counts
    from that date, so the clock does not reset before then.
    earlier_review_factors: codes of the rule 3 circumstances (§1.6) current today (EARLIER_REVIEW_FACTORS).
    adherence_deteriorated_on: the deterioration event that binds (rule 4, App. C 1), or None.
    agreed_next_date, extension_justified: recorded at the last completed review (rule 5, §1.3-1.5); the
    extension is justified when that review recorded clear, continuing benefit, no significant change
    envisaged and the patient's agreement (§1.5).
    completed_check_ups: the sequence numbers (1-4) of the recovery check-ups held after exit (rule 7, §1.7).
    """

    entry_date: date
    completed_reviews: tuple[date, ...] = ()
    earlier_review_factors: frozenset[str] = frozenset()
    adherence_deteriorated_on: date | None = None
    agreed_next_date: date | None = None
    extension_justified: bool = False
    exit_date: date | None = None
    completed_check_ups: tuple[int, ...] = ()

    @property
    def last_review(self) -> date | None:
        return max(self.completed_reviews, default=None)


@dataclass(frozen=True)
class ReviewDue:
    kind: str  # STRATEGIC_REVIEW or RECOVERY_CHECK_UP
    target: date
    deadline: date
    reasons: tuple[str, ...]  # sentences for clinicians, each citing the guidance
    rules: tuple[str, ...] = ()  # short codes of the rules that shaped the dates, in order

    def with_dates(self, target: date, deadline: date, reason: str, rule: str) -> ReviewDue:
        return ReviewDue(self.kind, target, deadline, (*self.reasons, reason), (*self.rules, rule))


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _d(day: date) -> str:
    """15 Jan 2026, whatever the locale."""
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def _months(day: date, months: int) -> date:
    """Calendar months; a day missing from the month falls back to its last day (31 Jan -> 28 Feb)."""
    return day + relativedelta(months=months)


# --- Consistency -------------------------------------------------------------------------------------------


def check_facts(facts: ReviewFacts, policy: Policy = DEFAULT_POLICY) -> None:
    """Raise ValueError, the message starting with the fact's name: inconsistent facts never yield a date."""
    entry = facts.entry_date
    for completed in facts.completed_reviews:
        if completed < entry:
            raise ValueError(
                f"completed_reviews: a review completed on {_d(completed)}, before entry on {_d(entry)}."
            )
    if facts.exit_date is not None and facts.exit_date < entry:
        raise ValueError(f"exit_date: {_d(facts.exit_date)} is before entry on {_d(entry)}.")
    unknown = sorted(set(facts.earlier_review_factors) - set(EARLIER_REVIEW_FACTORS))
    if unknown:
        raise ValueError(f"earlier_review_factors: unknown code(s) {', '.join(unknown)}.")
    deteriorated = facts.adherence_deteriorated_on
    if deteriorated is not None and deteriorated < entry:
        raise ValueError(f"adherence_deteriorated_on: {_d(deteriorated)} is before entry on {_d(entry)}.")
    if facts.agreed_next_date is not None:
        last = facts.last_review
        if last is None:
            raise ValueError("agreed_next_date: there is no completed review that could have agreed it.")
        if facts.agreed_next_date <= last:
            raise ValueError(
                f"agreed_next_date: {_d(facts.agreed_next_date)} is not after the review of {_d(last)} "
                "that agreed it."
            )
    sequences = [offset.sequence for offset in policy.check_up_offsets]
    bad = sorted(s for s in facts.completed_check_ups if s not in sequences)
    if bad:
        raise ValueError(
            f"completed_check_ups: sequence numbers must be {sequences[0]} to {sequences[-1]}, not {bad}."
        )
    if facts.completed_check_ups and facts.exit_date is None:
        raise ValueError(
            "completed_check_ups: recovery check-ups are recorded but the episode has no exit date."
        )


# --- Rules 1 and 2: the default ----------------------------------------------------------------------------


def first_review(facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 1 (§1.3): within 3 months of treatment entry, and no later than 6 months."""
    target = _months(facts.entry_date, policy.first_review_target_months)
    deadline = _months(facts.entry_date, policy.first_review_deadline_months)
    reason = (
        f"First strategic review within {policy.first_review_target_months} months of entry on "
        f"{_d(facts.entry_date)} (§1.3); no later than {_d(deadline)}."
    )
    return ReviewDue(STRATEGIC_REVIEW, target, deadline, (reason,), ("first_review",))


def later_review(facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 2 (§1.3): six-monthly after the last completed review; the deadline is the target."""
    last = facts.last_review
    target = _months(last, policy.review_interval_months)
    reason = (
        f"Strategic review every {policy.review_interval_months} months: the last was completed on "
        f"{_d(last)} (§1.3), so the next is due by {_d(target)}."
    )
    return ReviewDue(STRATEGIC_REVIEW, target, target, (reason,), ("later_review",))


# --- Rules 5, 3 and 4: each (candidate, facts, policy) -> candidate ----------------------------------------

Rule = Callable[[ReviewDue, ReviewFacts, Policy], ReviewDue]


def agreed_next_date(due: ReviewDue, facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 5 (§1.3-1.5): the next date agreed with the patient at the last review. An earlier date always
    stands. A later one stands only with the §1.5 justification, and never beyond 12 months after that review;
    otherwise the default stands, and the reason says why the agreed date was not used."""
    agreed, last = facts.agreed_next_date, facts.last_review
    if agreed is None or last is None:
        return due
    if agreed <= due.target:
        reason = f"Next review agreed with the patient for {_d(agreed)} at the review of {_d(last)} (§1.3)."
        return due.with_dates(agreed, agreed, reason, "agreed_date")
    if not facts.extension_justified:
        reason = (
            f"The agreed date of {_d(agreed)} is more than {policy.review_interval_months} months after the "
            f"review of {_d(last)}, which did not record clear, continuing benefit with no significant "
            f"change envisaged and the patient's agreement (§1.5), so {_d(due.target)} stands."
        )
        return due.with_dates(due.target, due.deadline, reason, "agreed_date_refused")
    cap = _months(last, policy.max_agreed_interval_months)
    if agreed > cap:
        reason = (
            f"An extended interval was justified (§1.5), but the agreed date of {_d(agreed)} is more than "
            f"{policy.max_agreed_interval_months} months after the review of {_d(last)}: due by {_d(cap)}."
        )
        return due.with_dates(cap, cap, reason, "agreed_date_capped")
    reason = (
        f"Interval extended to {_d(agreed)} as agreed with the patient at the review of {_d(last)}: clear, "
        f"continuing benefit and no significant change envisaged (§1.3, §1.5)."
    )
    return due.with_dates(agreed, agreed, reason, "agreed_extension")


def _no_later_than(due: ReviewDue, by: date, reason: str, rule: str) -> ReviewDue:
    """Earliest wins: target and deadline no later than `by`. A rule that moved neither date says nothing."""
    target, deadline = min(due.target, by), min(due.deadline, by)
    if (target, deadline) == (due.target, due.deadline):
        return due
    return due.with_dates(target, deadline, reason, rule)


def earlier_review_factors(due: ReviewDue, facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 3 (§1.3, §1.6): while a circumstance calling for earlier review is current, the first review's
    deadline becomes its target (entry + 3 months), and a later review is due within 3 months of the last."""
    if not facts.earlier_review_factors:
        return due
    if facts.last_review is None:
        by = _months(facts.entry_date, policy.first_review_target_months)
    else:
        by = _months(facts.last_review, policy.earlier_review_interval_months)
    named = [EARLIER_REVIEW_FACTORS[code] for code in sorted(facts.earlier_review_factors)]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    reason = f"Earlier review: {listed} recorded (§1.6), so the review is due by {_d(by)}."
    return _no_later_than(due, by, reason, "earlier_review_factor")


def deteriorating_adherence(due: ReviewDue, facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 4 (App. C 1): adherence deteriorating since the last completed review (or since entry) calls for
    re-review within 28 days. A deterioration found at the last review itself (dated that day) counts, as
    App. C 1 makes it the reason for "a schedule of earlier re-review"; one before that review was dealt with
    there, and says nothing."""
    on = facts.adherence_deteriorated_on
    since = facts.last_review or facts.entry_date
    if on is None or on < since:
        return due
    by = on + timedelta(days=policy.adherence_rereview_days)
    reason = (
        f"Adherence deteriorated on {_d(on)}: re-review within {policy.adherence_rereview_days} days, "
        f"by {_d(by)} (App. C 1)."
    )
    return _no_later_than(due, by, reason, "deteriorating_adherence")


STRATEGIC_REVIEW_RULES: tuple[Rule, ...] = (agreed_next_date, earlier_review_factors, deteriorating_adherence)


# --- Rule 7: after treatment -------------------------------------------------------------------------------


def recovery_check_up(facts: ReviewFacts, policy: Policy) -> ReviewDue | None:
    """Rule 7 (§1.7): once the episode has ended, strategic reviews stop and recovery check-ups are due at
    exit + 14 days, 3, 6 and 12 months, each with 14 days' grace; the next is the first not yet held."""
    held = set(facts.completed_check_ups)
    for offset in policy.check_up_offsets:
        if offset.sequence in held:
            continue
        target = offset.after(facts.exit_date)
        deadline = target + timedelta(days=policy.check_up_grace_days)
        reason = (
            f"Treatment ended on {_d(facts.exit_date)}: recovery check-up {offset.sequence} of "
            f"{len(policy.check_up_offsets)} is due {offset.describe()} after exit, on {_d(target)}, "
            f"and no later than {_d(deadline)} (§1.7)."
        )
        return ReviewDue(RECOVERY_CHECK_UP, target, deadline, (reason,), ("recovery_check_up",))
    return None


# --- The whole policy --------------------------------------------------------------------------------------


def next_review(facts: ReviewFacts, policy: Policy = DEFAULT_POLICY) -> ReviewDue | None:
    """The next strategic review or recovery check-up the episode needs, with its reasons; None when nothing
    more is due (the episode ended and every check-up was held). Raises ValueError for inconsistent facts."""
    check_facts(facts, policy)
    if facts.exit_date is not None:
        return recovery_check_up(facts, policy)
    due = first_review(facts, policy) if facts.last_review is None else later_review(facts, policy)
    for rule in STRATEGIC_REVIEW_RULES:
        due = rule(due, facts, policy)
    return due


def review_status(due: ReviewDue, today: date, policy: Policy = DEFAULT_POLICY) -> str:
    """Rule 8: upcoming until 14 days before the target; due soon from then through the target; due after
    the target through the deadline; overdue after the deadline."""
    if today > due.deadline:
        return OVERDUE
    if today > due.target:
        return DUE
    if today >= due.target - timedelta(days=policy.due_soon_days):
        return DUE_SOON
    return UPCOMING
