"""The review scheduling policy (docs/design.md, "Review scheduling policy"), as pure Python.

No Django, no database, no clock: `today` is always passed in, so that the policy can be read, tested and
explained on its own. Every number is a named constant below, overridable by name through
Policy.from_overrides (settings.REVIEW_POLICY). The guidance is "Medications in recovery: best practice in
reviewing treatment" (PHE, 2013), cited by paragraph (§1.3, App. C 1).

What an episode owes (`owed`), each item with its own dates and reasons, earliest target first; no item hides
another, and `next_review` is the first of them:

1. while the episode is open, the strategic review: rule 1 (first review) or rule 2 (later reviews), then each
   rule of STRATEGIC_REVIEW_RULES in turn, a function (candidate, facts, policy) -> candidate: rule 5 (the
   date agreed at the last review; the only rule that may move the date later, with the §1.5 justification),
   then rules 3, 3b and 4, which can only move it earlier;
2. once it has ended, the next recovery check-up (rule 7), which rule 7c may bring earlier; nothing at all
   after an exit in NO_CHECK_UP_EXITS (rule 7, amended), and then `nothing_owed_reason` says why;
3. open or ended, a check-up after each element of treatment that ended while the episode stayed open, until
   held (rule 7b).

Each rule that shaped a date appends a sentence for clinicians, citing its paragraph, and its short code.
Rule 6 (§2.4, a review counts only once the patient took part) is applied by the caller: see ReviewFacts.
Rule 4b (missed doses read across reports) is the caller's too, with reviews.scheduling_missed_doses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from functools import cached_property, lru_cache
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
CHECK_UP_GRACE_DAYS = 14  # rules 7 and 7b: a check-up's deadline is its target + 14 days
TRANSITION_REVIEW_MONTHS = 3  # rule 3b: §1.6 "times of personal transition", App. C 2 "increased vigilance"
ELEMENT_CHECK_UP_DAYS = 14  # rule 7b: §1.7 "after the end of a specific element of treatment"
RELAPSE_CHECK_UP_DAYS = 14  # rule 7c: §1.7 "rapid access back into treatment at early signs of relapse risk"
MISSED_DOSE_SAFETY_RUN = 3  # rule 4b: three consecutive missed doses are a safety event (App. C 1)

STRATEGIC_REVIEW, RECOVERY_CHECK_UP = "strategic_review", "recovery_check_up"
ELEMENT_CHECK_UP = "element_check_up"  # rule 7b: after an element of treatment, the episode still open
KINDS = (STRATEGIC_REVIEW, RECOVERY_CHECK_UP, ELEMENT_CHECK_UP)  # also the order of items owed on one day
UPCOMING, DUE_SOON, DUE, OVERDUE = "upcoming", "due_soon", "due", "overdue"

# Rule 3: the §1.6 circumstances that call review earlier, by code, as clinicians would say them.
EARLIER_REVIEW_FACTORS = {
    "short_term_treatment": "short-term treatment",
    "complex_needs": "complex or co-morbid needs",
    "not_benefiting": "treatment not producing the expected benefit",
    "transition": "a personal transition or change of setting",
}

# Rule 7 (amended): the exit reason codes, as patients.models.record.ExitReason stores them (a test keeps the
# two lists equal), and those after which no recovery check-up is owed here, with why, as clinicians say it.
DIED, TRANSFERRED, TRANSFERRED_CUSTODY = "died", "transferred", "transferred_custody"
_COMPLETED = ("completed_drug_free", "completed_alcohol_free", "completed_occasional")
EXIT_REASONS = (*_COMPLETED, "dropped_out", "declined", DIED, TRANSFERRED, TRANSFERRED_CUSTODY, "other")
NO_CHECK_UP_EXITS = {
    DIED: "the person died",
    TRANSFERRED: "they were transferred to another service, which now reviews them",
    TRANSFERRED_CUSTODY: "they were transferred to custody, where another service now reviews them",
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
    transition_review_months: int = TRANSITION_REVIEW_MONTHS
    element_check_up_days: int = ELEMENT_CHECK_UP_DAYS
    relapse_check_up_days: int = RELAPSE_CHECK_UP_DAYS
    missed_dose_safety_run: int = MISSED_DOSE_SAFETY_RUN

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

    The second edition's facts (docs/design.md, rule 3b and after), all optional:
    transitions: dates of treatment transitions (rule 3b): the start or end of OST, detox, residential
    rehabilitation or inpatient treatment, a reduction of the OST daily dose, a change of OST medicine. One on
    the entry date is the entry itself, not a transition, and is not counted. Every date in element_ends is
    counted as a transition too, as rule 3b defines the end of those elements as one.
    exit_reason: the episode's exit reason code (EXIT_REASONS) when exit_date is set (rule 7, amended).
    element_ends: dates on which OST, detox, residential or inpatient treatment ended while the episode stayed
    open (rule 7b); a date given twice is one check-up. An end on the exit date ended with the episode: rule
    7's first check-up, on the same day, is its check-up.
    element_check_ups: those element_ends dates whose 14-day check-up has been held (rule 7b).
    relapse_risk_on: the date of the latest held check-up when that check-up found early signs of relapse
    (rule 7c); None once a later check-up is held that did not. An attempt recorded as "could not be reached"
    is not a held check-up: the caller leaves it out here and in completed_check_ups, so the same check-up
    stays owed. For an ended episode it is a check-up held on or after exit.
    """

    entry_date: date
    completed_reviews: tuple[date, ...] = ()
    earlier_review_factors: frozenset[str] = frozenset()
    adherence_deteriorated_on: date | None = None
    agreed_next_date: date | None = None
    extension_justified: bool = False
    exit_date: date | None = None
    completed_check_ups: tuple[int, ...] = ()
    transitions: tuple[date, ...] = ()
    exit_reason: str | None = None
    element_ends: tuple[date, ...] = ()
    element_check_ups: tuple[date, ...] = ()
    relapse_risk_on: date | None = None

    # Remembered (asked ~5 times an episode) in __dict__: not a field, so equality, hash and replace() ignore it.
    @cached_property
    def last_review(self) -> date | None:
        return max(self.completed_reviews, default=None)


@dataclass(frozen=True)
class ReviewDue:
    kind: str  # one of KINDS
    target: date
    deadline: date
    reasons: tuple[str, ...]  # sentences for clinicians, each citing the guidance
    rules: tuple[str, ...] = ()  # short codes of the rules that shaped the dates, in order
    element_end: date | None = None  # ELEMENT_CHECK_UP only: the element end it follows (rule 7b)

    def with_dates(self, target: date, deadline: date, reason: str, rule: str) -> ReviewDue:
        # What dataclasses.replace would build, built directly: replace() costs several times as much.
        return ReviewDue(
            self.kind, target, deadline, (*self.reasons, reason), (*self.rules, rule), self.element_end
        )


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=65536)
def _d(day: date) -> str:
    """15 Jan 2026, whatever the locale. Remembered: the nightly recompute writes the same days ~700,000 times."""
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


@lru_cache(maxsize=65536)
def _months(day: date, months: int) -> date:
    """Calendar months; a day missing from the month falls back to its last day (31 Jan -> 28 Feb). Remembered:
    the nightly recompute asks this of the same few thousand days some 400,000 times (3 s of relativedelta)."""
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
    # The codes not in EARLIER_REVIEW_FACTORS, without a copy of it as a set; most episodes record no code.
    factors = facts.earlier_review_factors
    unknown = sorted({code for code in factors if code not in EARLIER_REVIEW_FACTORS}) if factors else ()
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
    if facts.completed_check_ups:  # most episodes are open, with none: nothing to check
        sequences = [offset.sequence for offset in policy.check_up_offsets]
        bad = sorted(s for s in facts.completed_check_ups if s not in sequences)
        if bad:
            raise ValueError(
                f"completed_check_ups: sequence numbers must be {sequences[0]} to {sequences[-1]}, not {bad}."
            )
        if facts.exit_date is None:
            raise ValueError(
                "completed_check_ups: recovery check-ups are recorded but the episode has no exit date."
            )
    _check_second_edition(facts)


def _check_second_edition(facts: ReviewFacts) -> None:
    """The facts of rules 3b, 7 (amended), 7b and 7c, checked after the first edition's."""
    entry, exit_date = facts.entry_date, facts.exit_date
    for name, days, what in (
        ("transitions", facts.transitions, "a transition"),
        ("element_ends", facts.element_ends, "an element of treatment ending"),
    ):
        if not days:  # the usual case: no sort of an empty tuple
            continue
        for day in sorted(days):
            if day < entry:
                raise ValueError(f"{name}: {what} on {_d(day)}, before entry on {_d(entry)}.")
            if exit_date is not None and day > exit_date:
                raise ValueError(f"{name}: {what} on {_d(day)}, after exit on {_d(exit_date)}.")
    reason = facts.exit_reason
    if reason is not None and exit_date is None:
        raise ValueError(f"exit_reason: {reason} is recorded but the episode has no exit date.")
    if reason is not None and reason not in EXIT_REASONS:
        raise ValueError(f"exit_reason: unknown code {reason}; known: {', '.join(EXIT_REASONS)}.")
    # Most episodes hold no element check-up: then none can be stray, and no sets are built.
    stray = sorted(set(facts.element_check_ups) - set(facts.element_ends)) if facts.element_check_ups else ()
    if stray:
        raise ValueError(f"element_check_ups: {_d(stray[0])} is not among element_ends.")
    relapse = facts.relapse_risk_on
    if relapse is None:
        return
    if exit_date is not None and relapse < exit_date:
        raise ValueError(
            f"relapse_risk_on: {_d(relapse)} is before exit on {_d(exit_date)}; once the episode has ended it "
            "is the date of a check-up held on or after exit."
        )
    # A check-up after exit, or after an element that had ended by that day (so never before entry).
    if not facts.completed_check_ups and not any(end <= relapse for end in facts.element_check_ups):
        raise ValueError(f"relapse_risk_on: {_d(relapse)}, but no check-up held by then is recorded.")


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
    if on is None or on < (facts.last_review or facts.entry_date):  # last_review read only when needed
        return due
    by = on + timedelta(days=policy.adherence_rereview_days)
    reason = (
        f"Adherence deteriorated on {_d(on)}: re-review within {policy.adherence_rereview_days} days, "
        f"by {_d(by)} (App. C 1)."
    )
    return _no_later_than(due, by, reason, "deteriorating_adherence")


def treatment_transitions(due: ReviewDue, facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 3b (§1.6, App. C 2): each treatment transition on or after the date of the last completed review
    (after entry when there is none) brings the review within 3 months of it; the earliest binds. One on the
    day of the last review counts, as rule 4 counts a deterioration found that day: the safer reading of
    "after", since the review may have been the one that planned the change. Element ends are transitions."""
    if not facts.transitions and not facts.element_ends:  # the usual case: no set to build, nothing to sort
        return due
    since = facts.last_review
    counted = sorted(
        day
        for day in {*facts.transitions, *facts.element_ends}
        if day > facts.entry_date and (since is None or day >= since)
    )
    if not counted:
        return due
    by = _months(counted[0], policy.transition_review_months)
    others = f" (the first of {len(counted)} since {'the last review' if since else 'entry'})"
    reason = (
        f"Treatment transition on {_d(counted[0])}{others if len(counted) > 1 else ''}: vigilance during and "
        f"after a change of treatment or setting calls for review within {policy.transition_review_months} "
        f"months, by {_d(by)} (§1.6, App. C 2)."
    )
    return _no_later_than(due, by, reason, "treatment_transition")


STRATEGIC_REVIEW_RULES: tuple[Rule, ...] = (
    agreed_next_date,
    earlier_review_factors,
    treatment_transitions,
    deteriorating_adherence,
)


# --- Rules 7, 7c and 7b: check-ups ------------------------------------------------------------------------


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


def relapse_risk(due: ReviewDue, facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 7c (§1.7): a check-up that found early signs of relapse brings the next check-up after exit within
    14 days of it, target and deadline alike. Only that one: a check-up after an element that ended by then is
    due no later anyway, one after an element that ended since is due 14 days after its own end, and in an
    open episode no check-up after exit is owed yet. After the fourth check-up nothing is owed (the text names
    no fifth): nothing_owed_reason then says the last found early signs of relapse."""
    on = facts.relapse_risk_on
    if on is None or due.kind != RECOVERY_CHECK_UP:
        return due
    by = on + timedelta(days=policy.relapse_check_up_days)
    reason = (
        f"The check-up of {_d(on)} found early signs of relapse: the next check-up is due within "
        f"{policy.relapse_check_up_days} days, by {_d(by)}, with rapid access back into treatment (§1.7)."
    )
    return _no_later_than(due, by, reason, "relapse_risk")


def element_check_ups(facts: ReviewFacts, policy: Policy) -> list[ReviewDue]:
    """Rule 7b (§1.7): a check-up 14 days after each element of treatment that ended while the episode stayed
    open, with 14 days' grace, owed until held, beside whatever else is owed. One not held by the exit stays
    owed after it ("until it is held"), except after an exit in NO_CHECK_UP_EXITS, when nothing is owed."""
    items = []
    if not facts.element_ends:  # the usual case: no sets to build, nothing to sort
        return items
    for end in sorted(set(facts.element_ends) - set(facts.element_check_ups)):
        if facts.exit_date is not None and end >= facts.exit_date:
            continue  # it ended with the episode: rule 7's first check-up is the one that follows it
        target = end + timedelta(days=policy.element_check_up_days)
        deadline = target + timedelta(days=policy.check_up_grace_days)
        reason = (
            f"An element of treatment (OST, detox, residential or inpatient) ended on {_d(end)}: a recovery "
            f"check-up is due {policy.element_check_up_days} days after, on {_d(target)}, and no later than "
            f"{_d(deadline)} (§1.7)."
        )
        items.append(ReviewDue(ELEMENT_CHECK_UP, target, deadline, (reason,), ("element_check_up",), end))
    return items


# --- The whole policy --------------------------------------------------------------------------------------


def strategic_review(facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rules 1 to 5 and 3b for an open episode: the default, then each rule of STRATEGIC_REVIEW_RULES."""
    due = first_review(facts, policy) if facts.last_review is None else later_review(facts, policy)
    for rule in STRATEGIC_REVIEW_RULES:
        due = rule(due, facts, policy)
    return due


def _order(due: ReviewDue) -> tuple:
    return due.target, due.deadline, KINDS.index(due.kind), due.element_end or date.min


def owed(facts: ReviewFacts, policy: Policy = DEFAULT_POLICY) -> tuple[ReviewDue, ...]:
    """Every item the episode owes now, each with its own dates and reasons, earliest target first (then
    deadline, then STRATEGIC_REVIEW, RECOVERY_CHECK_UP, ELEMENT_CHECK_UP). Empty when nothing is owed:
    nothing_owed_reason says why. Raises ValueError for inconsistent facts."""
    check_facts(facts, policy)
    if facts.exit_reason in NO_CHECK_UP_EXITS:
        return ()
    items = element_check_ups(facts, policy)
    if facts.exit_date is None:
        items.append(strategic_review(facts, policy))
    elif (check_up := recovery_check_up(facts, policy)) is not None:
        items.append(relapse_risk(check_up, facts, policy))
    if len(items) < 2:  # the usual case, one item: already in order
        return tuple(items)
    return tuple(sorted(items, key=_order))


def next_review(facts: ReviewFacts, policy: Policy = DEFAULT_POLICY) -> ReviewDue | None:
    """The first item of owed(facts), with its reasons; None when nothing more is owed. Raises ValueError for
    inconsistent facts."""
    items = owed(facts, policy)
    return items[0] if items else None


def nothing_owed_reason(facts: ReviewFacts, policy: Policy = DEFAULT_POLICY) -> str | None:
    """Why nothing is owed, as a sentence for the pages citing §1.7; None while something is owed."""
    if owed(facts, policy):
        return None
    ended = f"Treatment ended on {_d(facts.exit_date)}"
    if facts.exit_reason in NO_CHECK_UP_EXITS:
        return (
            f"{ended} because {NO_CHECK_UP_EXITS[facts.exit_reason]}: no recovery check-ups are owed (§1.7)."
        )
    reason = f"{ended} and every recovery check-up was held: nothing more is owed (§1.7)."
    if facts.relapse_risk_on is not None:
        reason += (
            f" The last, on {_d(facts.relapse_risk_on)}, found early signs of relapse: offer rapid access back "
            "into treatment."
        )
    return reason


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
