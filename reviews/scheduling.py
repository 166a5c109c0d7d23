"""The review scheduling policy (DESIGN.md, "Review scheduling policy"), as pure Python.

No Django, no database, no clock: `today` is always passed in, so that the policy can be read, tested and
explained on its own. Each rule of DESIGN.md is one small function below, named for its rule, and every number
is a named constant that settings can override through Policy.from_overrides (settings.REVIEW_POLICY).

How the next review is found: the default date comes from rule 1 (first review) or rule 2 (later reviews), or
rule 7 once the episode has ended; rule 5 may replace it with the date agreed at the last review; then rules 3
and 4 may only pull it earlier. Each rule that moved the date adds a sentence for clinicians, citing the
paragraph of the guidance ("Medications in recovery: best practice in reviewing treatment", 2013) behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

# --- The policy's numbers (DESIGN.md defaults) -------------------------------------------------------------------

FIRST_REVIEW_TARGET_MONTHS = 3  # §1.3 "within three months ..."
FIRST_REVIEW_DEADLINE_MONTHS = 6  # §1.3 "... and no later than six months of treatment entry"
REVIEW_INTERVAL_MONTHS = 6  # §1.3 "repeated at six-monthly intervals"
EARLIER_REVIEW_INTERVAL_MONTHS = 3  # §1.3 "this interval may be shortened", §1.6
ADHERENCE_REREVIEW_DAYS = 28  # App. C 1 "a schedule of earlier re-review"
MAX_AGREED_INTERVAL_MONTHS = 12  # §1.3 "in carefully considered cases extended", §1.5
DUE_SOON_DAYS = 14  # rule 8
CHECK_UP_OFFSETS = ((1, 0, 14), (2, 3, 0), (3, 6, 0), (4, 12, 0))  # §1.7: (sequence, months, days) after exit
CHECK_UP_GRACE_DAYS = 14  # rule 7: deadline = target + 14 days

STRATEGIC_REVIEW = "strategic_review"
RECOVERY_CHECK_UP = "recovery_check_up"

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
    first_review_target_months: int = FIRST_REVIEW_TARGET_MONTHS
    first_review_deadline_months: int = FIRST_REVIEW_DEADLINE_MONTHS
    review_interval_months: int = REVIEW_INTERVAL_MONTHS
    earlier_review_interval_months: int = EARLIER_REVIEW_INTERVAL_MONTHS
    adherence_rereview_days: int = ADHERENCE_REREVIEW_DAYS
    max_agreed_interval_months: int = MAX_AGREED_INTERVAL_MONTHS
    due_soon_days: int = DUE_SOON_DAYS
    check_up_offsets: tuple = CHECK_UP_OFFSETS
    check_up_grace_days: int = CHECK_UP_GRACE_DAYS

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, object] | None) -> Policy:
        """The default policy with some numbers overridden (settings.REVIEW_POLICY). Fails loudly on a name
        that is not a policy number or a value that is not a positive whole number."""
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

    completed_reviews are the dates on which strategic reviews became complete. Rule 6 (§2.4) is applied by
    the caller: a review held without the patient is absent until the patient's involvement is recorded, and
    then counts from that date. agreed_next_date and extension_justified come from the last completed review.
    completed_check_ups are the sequence numbers (1-4) of the recovery check-ups held.
    """

    entry_date: date
    completed_reviews: tuple[date, ...] = ()
    earlier_review_factors: frozenset[str] = frozenset()
    adherence_deteriorated_on: date | None = None
    agreed_next_date: date | None = None
    extension_justified: bool = False
    exit_date: date | None = None
    completed_check_ups: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReviewDue:
    kind: str
    target: date
    deadline: date
    reasons: tuple[str, ...]
    rules: tuple[str, ...] = ()


def _d(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _months(day: date, months: int) -> date:
    """Calendar months; a day that does not exist in the month falls back to its last day."""
    return day + relativedelta(months=months)


# --- Consistency ----------------------------------------------------------------------------------------------


def check_facts(facts: ReviewFacts) -> None:
    """Raise ValueError naming the inconsistent fact; an inconsistent record never yields a date."""
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
    if facts.adherence_deteriorated_on is not None and facts.adherence_deteriorated_on < entry:
        raise ValueError(
            f"adherence_deteriorated_on: {_d(facts.adherence_deteriorated_on)} is before entry on {_d(entry)}."
        )
    if facts.agreed_next_date is not None:
        if not facts.completed_reviews:
            raise ValueError("agreed_next_date: there is no completed review that could have agreed it.")
        last = max(facts.completed_reviews)
        if facts.agreed_next_date <= last:
            raise ValueError(
                f"agreed_next_date: {_d(facts.agreed_next_date)} is not after the review of {_d(last)} that agreed it."
            )
    bad = sorted(s for s in facts.completed_check_ups if s not in (1, 2, 3, 4))
    if bad:
        raise ValueError(f"completed_check_ups: sequence numbers must be 1 to 4, not {bad}.")
    if facts.completed_check_ups and facts.exit_date is None:
        raise ValueError(
            "completed_check_ups: recovery check-ups are recorded but the episode has no exit date."
        )


# --- Rules 1, 2 and 5: the default date ----------------------------------------------------------------------


def first_review(facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 1 (§1.3): within 3 months of entry, no later than 6 months."""
    target = _months(facts.entry_date, policy.first_review_target_months)
    deadline = _months(facts.entry_date, policy.first_review_deadline_months)
    reason = (
        f"First strategic review within {policy.first_review_target_months} months of entry on "
        f"{_d(facts.entry_date)} (§1.3); no later than {_d(deadline)}."
    )
    return ReviewDue(STRATEGIC_REVIEW, target, deadline, (reason,), ("first_review",))


def later_review(facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 2 (§1.3): six-monthly after the last completed review."""
    last = max(facts.completed_reviews)
    target = _months(last, policy.review_interval_months)
    reason = (
        f"Strategic review every {policy.review_interval_months} months: the last was completed on {_d(last)} "
        f"(§1.3), so the next is due by {_d(target)}."
    )
    return ReviewDue(STRATEGIC_REVIEW, target, target, (reason,), ("later_review",))


def agreed_date(due: ReviewDue, facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 5 (§1.3-1.5): the date agreed with the patient at the last review. An earlier date always stands;
    a later one only with the §1.5 justification, and never beyond 12 months after that review."""
    agreed = facts.agreed_next_date
    if agreed is None or not facts.completed_reviews:
        return due
    last = max(facts.completed_reviews)
    if agreed <= due.target:
        reason = f"Next review agreed with the patient for {_d(agreed)} at the review of {_d(last)} (§1.3)."
        return ReviewDue(due.kind, agreed, agreed, (*due.reasons, reason), (*due.rules, "agreed_date"))
    if not facts.extension_justified:
        reason = (
            f"The agreed date of {_d(agreed)} is later than {policy.review_interval_months} months, and the review "
            f"did not record clear, continuing benefit with no significant change envisaged and the patient's "
            f"agreement (§1.5), so {_d(due.target)} stands."
        )
        return ReviewDue(
            due.kind, due.target, due.deadline, (*due.reasons, reason), (*due.rules, "agreed_date_refused")
        )
    cap = _months(last, policy.max_agreed_interval_months)
    if agreed > cap:
        reason = (
            f"An extended interval was justified (§1.5), but the agreed date of {_d(agreed)} is more than "
            f"{policy.max_agreed_interval_months} months after the review of {_d(last)}: due by {_d(cap)}."
        )
        return ReviewDue(due.kind, cap, cap, (*due.reasons, reason), (*due.rules, "agreed_date_capped"))
    reason = (
        f"Interval extended to {_d(agreed)} as agreed with the patient: clear, continuing benefit and no significant "
        f"change envisaged (§1.5)."
    )
    return ReviewDue(due.kind, agreed, agreed, (*due.reasons, reason), (*due.rules, "agreed_extension"))


# --- Rules 3 and 4: only ever earlier ------------------------------------------------------------------------


def _pull_earlier(due: ReviewDue, by: date, reason: str, rule: str) -> ReviewDue:
    target, deadline = min(due.target, by), min(due.deadline, by)
    if (target, deadline) == (due.target, due.deadline):
        return due
    return ReviewDue(due.kind, target, deadline, (*due.reasons, reason), (*due.rules, rule))


def earlier_review_factors(due: ReviewDue, facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 3 (§1.3, §1.6): while a circumstance calling for earlier review is current, the first review's
    deadline becomes its target, and a later review is due within 3 months of the last."""
    if not facts.earlier_review_factors:
        return due
    named = ", ".join(EARLIER_REVIEW_FACTORS[code] for code in sorted(facts.earlier_review_factors))
    if facts.completed_reviews:
        by = _months(max(facts.completed_reviews), policy.earlier_review_interval_months)
    else:
        by = _months(facts.entry_date, policy.first_review_target_months)
    reason = f"Earlier review: {named} recorded (§1.6), so the review is due by {_d(by)}."
    return _pull_earlier(due, by, reason, "earlier_review_factor")


def deteriorating_adherence(due: ReviewDue, facts: ReviewFacts, policy: Policy) -> ReviewDue:
    """Rule 4 (App. C 1): deteriorating adherence since the last completed review (or since entry) calls for
    re-review within 28 days. A finding at the last review itself counts: it is the reason for the re-review."""
    on = facts.adherence_deteriorated_on
    since = max(facts.completed_reviews) if facts.completed_reviews else facts.entry_date
    if on is None or on < since:
        return due
    by = on + timedelta(days=policy.adherence_rereview_days)
    reason = f"Adherence deteriorated on {_d(on)}: re-review within {policy.adherence_rereview_days} days, by {_d(by)} (App. C 1)."
    return _pull_earlier(due, by, reason, "deteriorating_adherence")


# --- Rule 7: after treatment ---------------------------------------------------------------------------------


def recovery_check_up(facts: ReviewFacts, policy: Policy) -> ReviewDue | None:
    """Rule 7 (§1.7): after exit, check-ups at exit + 14 days, 3, 6 and 12 months; the first not yet held."""
    done = set(facts.completed_check_ups)
    for sequence, months, days in policy.check_up_offsets:
        if sequence in done:
            continue
        target = _months(facts.exit_date, months) + timedelta(days=days)
        deadline = target + timedelta(days=policy.check_up_grace_days)
        after = f"{days} days" if months == 0 else f"{months} months"
        reason = (
            f"Treatment ended on {_d(facts.exit_date)}: recovery check-up {sequence} of {len(policy.check_up_offsets)} "
            f"is due {after} after exit, on {_d(target)}, and no later than {_d(deadline)} (§1.7)."
        )
        return ReviewDue(RECOVERY_CHECK_UP, target, deadline, (reason,), ("recovery_check_up",))
    return None


# --- The whole policy ----------------------------------------------------------------------------------------


def next_review(facts: ReviewFacts, policy: Policy = DEFAULT_POLICY) -> ReviewDue | None:
    """The next strategic review or recovery check-up an episode needs, with the reasons; None when nothing more
    is due (the episode ended and every check-up was held)."""
    check_facts(facts)
    if facts.exit_date is not None:
        return recovery_check_up(facts, policy)
    if facts.completed_reviews:
        due = agreed_date(later_review(facts, policy), facts, policy)
    else:
        due = first_review(facts, policy)
    for rule in (earlier_review_factors, deteriorating_adherence):
        due = rule(due, facts, policy)
    return due


def review_status(due: ReviewDue, today: date, policy: Policy = DEFAULT_POLICY) -> str:
    """Rule 8: upcoming until 14 days before the target; due soon until the target; due until the deadline;
    overdue after it."""
    if today > due.deadline:
        return OVERDUE
    if today > due.target:
        return DUE
    if today >= due.target - timedelta(days=policy.due_soon_days):
        return DUE_SOON
    return UPCOMING
