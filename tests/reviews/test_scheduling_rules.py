"""The scheduling policy, rule by rule (docs/design.md, "Review scheduling policy"), as tables: each row is a case
a clinician could state, with the dates and rule codes it must give. Month ends and leap days are rows too."""

import ast
import dataclasses
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from reviews import scheduling, scheduling_missed_doses
from reviews.scheduling import (
    CHECK_UP_OFFSETS,
    DEFAULT_POLICY,
    DIED,
    EARLIER_REVIEW_FACTORS,
    EXIT_REASONS,
    NO_CHECK_UP_EXITS,
    TRANSFERRED,
    TRANSFERRED_CUSTODY,
    Policy,
    ReviewDue,
    ReviewFacts,
    check_facts,
    next_review,
    nothing_owed_reason,
    owed,
    review_status,
)
from reviews.scheduling_missed_doses import (
    MissedDoseRun,
    missed_dose_deterioration,
    missed_dose_runs,
    safety_events,
)

D = date
ENTRY = D(2026, 1, 15)
REVIEWED = D(2026, 4, 1)  # a first review completed with the patient (rule 6 already applied)
SR, CU = "strategic_review", "recovery_check_up"


def row(facts, target, deadline, *rules, kind=SR, id):
    return pytest.param(facts, kind, target, deadline, rules, id=id)


def after_review(**facts):
    return ReviewFacts(entry_date=ENTRY, completed_reviews=(REVIEWED,), **facts)


def assert_due(facts, kind, target, deadline, rules):
    due = next_review(facts)
    assert (due.kind, due.target, due.deadline, due.rules) == (kind, target, deadline, rules)
    assert len(due.reasons) == len(rules), "one sentence for each rule that shaped the date"
    assert all("§" in reason or "App. C" in reason for reason in due.reasons), due.reasons


TABLE_ARGS = ("facts", "kind", "target", "deadline", "rules")

# --- Rule 1 (§1.3): first review within 3 months of entry, no later than 6 ----------------------------------

RULE_1 = [
    row(ReviewFacts(entry_date=ENTRY), D(2026, 4, 15), D(2026, 7, 15), "first_review", id="mid-month entry"),
    row(
        ReviewFacts(entry_date=D(2025, 8, 31)),
        D(2025, 11, 30),
        D(2026, 2, 28),
        "first_review",
        id="31 Aug entry falls back to 30 Nov and 28 Feb",
    ),
    row(
        ReviewFacts(entry_date=D(2025, 11, 30)),
        D(2026, 2, 28),
        D(2026, 5, 30),
        "first_review",
        id="30 Nov entry gives 28 Feb in a common year",
    ),
    row(
        ReviewFacts(entry_date=D(2027, 11, 30)),
        D(2028, 2, 29),
        D(2028, 5, 30),
        "first_review",
        id="30 Nov entry gives 29 Feb in a leap year",
    ),
    row(
        ReviewFacts(entry_date=D(2028, 2, 29)),
        D(2028, 5, 29),
        D(2028, 8, 29),
        "first_review",
        id="leap-day entry keeps the 29th",
    ),
    row(
        ReviewFacts(entry_date=D(2025, 12, 31)),
        D(2026, 3, 31),
        D(2026, 6, 30),
        "first_review",
        id="31 Dec entry crosses the year",
    ),
]


@pytest.mark.parametrize(TABLE_ARGS, RULE_1)
def test_first_review_is_due_within_three_months_of_entry_and_no_later_than_six(
    facts, kind, target, deadline, rules
):
    assert_due(facts, kind, target, deadline, rules)


# --- Rule 2 (§1.3): six-monthly after the last completed review, deadline = target --------------------------

RULE_2 = [
    row(after_review(), D(2026, 10, 1), D(2026, 10, 1), "later_review", id="six months after the review"),
    row(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 10, 1), REVIEWED)),
        D(2027, 4, 1),
        D(2027, 4, 1),
        "later_review",
        id="the latest of several reviews counts whatever their order",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(ENTRY,)),
        D(2026, 7, 15),
        D(2026, 7, 15),
        "later_review",
        id="a review on the day of entry counts",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 8, 31),)),
        D(2027, 2, 28),
        D(2027, 2, 28),
        "later_review",
        id="31 Aug plus six months is 28 Feb",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2027, 8, 31),)),
        D(2028, 2, 29),
        D(2028, 2, 29),
        "later_review",
        id="31 Aug plus six months is 29 Feb in a leap year",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2028, 2, 29),)),
        D(2028, 8, 29),
        D(2028, 8, 29),
        "later_review",
        id="a review on a leap day",
    ),
    # Rule 6 (§2.4) is the caller's: a review held on 1 Apr without the patient completes when the patient's
    # involvement is recorded on 20 Apr, and is passed with that date.
    row(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 4, 20),)),
        D(2026, 10, 20),
        D(2026, 10, 20),
        "later_review",
        id="a review counts from the day the patient's involvement completed it",
    ),
]


@pytest.mark.parametrize(TABLE_ARGS, RULE_2)
def test_later_reviews_are_due_six_months_after_the_last_completed_review(
    facts, kind, target, deadline, rules
):
    assert_due(facts, kind, target, deadline, rules)


# --- Rule 3 (§1.3, §1.6): earlier review while a circumstance is current -----------------------------------


@pytest.mark.parametrize("factor", sorted(EARLIER_REVIEW_FACTORS))
def test_each_circumstance_makes_the_first_review_deadline_its_target(factor):
    facts = ReviewFacts(entry_date=ENTRY, earlier_review_factors=frozenset({factor}))
    assert_due(facts, SR, D(2026, 4, 15), D(2026, 4, 15), ("first_review", "earlier_review_factor"))
    assert EARLIER_REVIEW_FACTORS[factor] in next_review(facts).reasons[-1]


@pytest.mark.parametrize("factor", sorted(EARLIER_REVIEW_FACTORS))
def test_each_circumstance_brings_a_later_review_within_three_months_of_the_last(factor):
    facts = after_review(earlier_review_factors=frozenset({factor}))
    assert_due(facts, SR, D(2026, 7, 1), D(2026, 7, 1), ("later_review", "earlier_review_factor"))


RULE_3 = [
    row(
        ReviewFacts(entry_date=D(2025, 8, 31), earlier_review_factors=frozenset({"complex_needs"})),
        D(2025, 11, 30),
        D(2025, 11, 30),
        "first_review",
        "earlier_review_factor",
        id="first review from 31 Aug is due by 30 Nov",
    ),
    row(
        ReviewFacts(
            entry_date=ENTRY,
            completed_reviews=(D(2027, 11, 30),),
            earlier_review_factors=frozenset({"transition"}),
        ),
        D(2028, 2, 29),
        D(2028, 2, 29),
        "later_review",
        "earlier_review_factor",
        id="later review from 30 Nov is due by 29 Feb in a leap year",
    ),
    row(
        after_review(earlier_review_factors=frozenset({"transition", "not_benefiting"})),
        D(2026, 7, 1),
        D(2026, 7, 1),
        "later_review",
        "earlier_review_factor",
        id="two circumstances move the date once",
    ),
]


@pytest.mark.parametrize(TABLE_ARGS, RULE_3)
def test_circumstances_calling_for_earlier_review_at_month_ends(facts, kind, target, deadline, rules):
    assert_due(facts, kind, target, deadline, rules)


def test_two_circumstances_are_named_in_one_sentence():
    due = next_review(after_review(earlier_review_factors=frozenset({"transition", "not_benefiting"})))
    assert due.reasons[-1] == (
        "Earlier review: treatment not producing the expected benefit and a personal transition or change of "
        "setting recorded (§1.6), so the review is due by 1 Jul 2026."
    )


# --- Rule 4 (App. C 1): deteriorating adherence, re-review within 28 days -----------------------------------

RULE_4 = [
    row(
        ReviewFacts(entry_date=ENTRY, adherence_deteriorated_on=D(2026, 2, 3)),
        D(2026, 3, 3),
        D(2026, 3, 3),
        "first_review",
        "deteriorating_adherence",
        id="before any review, 28 days from the event",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, adherence_deteriorated_on=ENTRY),
        D(2026, 2, 12),
        D(2026, 2, 12),
        "first_review",
        "deteriorating_adherence",
        id="an event on the day of entry counts",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, adherence_deteriorated_on=D(2026, 4, 1)),
        D(2026, 4, 15),
        D(2026, 4, 29),
        "first_review",
        "deteriorating_adherence",
        id="a late event moves the first deadline but never the target later",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, adherence_deteriorated_on=D(2026, 7, 1)),
        D(2026, 4, 15),
        D(2026, 7, 15),
        "first_review",
        id="an event whose re-review falls after the deadline changes nothing and says nothing",
    ),
    row(
        after_review(adherence_deteriorated_on=D(2026, 6, 10)),
        D(2026, 7, 8),
        D(2026, 7, 8),
        "later_review",
        "deteriorating_adherence",
        id="after the last review, 28 days from the event",
    ),
    row(
        after_review(adherence_deteriorated_on=REVIEWED),
        D(2026, 4, 29),
        D(2026, 4, 29),
        "later_review",
        "deteriorating_adherence",
        id="a deterioration found at the last review calls the earlier re-review",
    ),
    row(
        after_review(adherence_deteriorated_on=D(2026, 3, 10)),
        D(2026, 10, 1),
        D(2026, 10, 1),
        "later_review",
        id="an event before the last review was dealt with there and says nothing",
    ),
    row(
        ReviewFacts(entry_date=D(2027, 12, 1), adherence_deteriorated_on=D(2028, 2, 1)),
        D(2028, 2, 29),
        D(2028, 2, 29),
        "first_review",
        "deteriorating_adherence",
        id="28 days from 1 Feb in a leap year is 29 Feb",
    ),
]


@pytest.mark.parametrize(TABLE_ARGS, RULE_4)
def test_deteriorating_adherence_brings_a_re_review_within_28_days(facts, kind, target, deadline, rules):
    assert_due(facts, kind, target, deadline, rules)


# --- Rule 5 (§1.3-1.5): the next date agreed at the last review --------------------------------------------

RULE_5 = [
    row(
        after_review(agreed_next_date=D(2026, 6, 1)),
        D(2026, 6, 1),
        D(2026, 6, 1),
        "later_review",
        "agreed_date",
        id="an earlier agreed date stands",
    ),
    row(
        after_review(agreed_next_date=D(2026, 6, 1), extension_justified=True),
        D(2026, 6, 1),
        D(2026, 6, 1),
        "later_review",
        "agreed_date",
        id="an earlier agreed date stands with or without justification",
    ),
    row(
        after_review(agreed_next_date=D(2026, 10, 1)),
        D(2026, 10, 1),
        D(2026, 10, 1),
        "later_review",
        "agreed_date",
        id="an agreed date on the six-month date stands",
    ),
    row(
        after_review(agreed_next_date=D(2027, 1, 1)),
        D(2026, 10, 1),
        D(2026, 10, 1),
        "later_review",
        "agreed_date_refused",
        id="a later agreed date without the §1.5 justification is not used",
    ),
    row(
        after_review(agreed_next_date=D(2027, 1, 1), extension_justified=True),
        D(2027, 1, 1),
        D(2027, 1, 1),
        "later_review",
        "agreed_extension",
        id="a later agreed date with the §1.5 justification stands",
    ),
    row(
        after_review(agreed_next_date=D(2027, 4, 1), extension_justified=True),
        D(2027, 4, 1),
        D(2027, 4, 1),
        "later_review",
        "agreed_extension",
        id="a justified extension of exactly 12 months stands",
    ),
    row(
        after_review(agreed_next_date=D(2027, 4, 2), extension_justified=True),
        D(2027, 4, 1),
        D(2027, 4, 1),
        "later_review",
        "agreed_date_capped",
        id="a justified extension one day past 12 months is capped",
    ),
    row(
        ReviewFacts(
            entry_date=ENTRY,
            completed_reviews=(D(2028, 2, 29),),
            agreed_next_date=D(2029, 6, 1),
            extension_justified=True,
        ),
        D(2029, 2, 28),
        D(2029, 2, 28),
        "later_review",
        "agreed_date_capped",
        id="12 months from a leap day is 28 Feb",
    ),
    row(
        after_review(extension_justified=True),
        D(2026, 10, 1),
        D(2026, 10, 1),
        "later_review",
        id="a justification without an agreed date changes nothing",
    ),
]


@pytest.mark.parametrize(TABLE_ARGS, RULE_5)
def test_the_date_agreed_with_the_patient(facts, kind, target, deadline, rules):
    assert_due(facts, kind, target, deadline, rules)


# --- Combinations: earliest wins; rules 3 and 4 still pull an agreed date earlier ---------------------------

COMBINATIONS = [
    row(
        ReviewFacts(
            entry_date=ENTRY,
            earlier_review_factors=frozenset({"complex_needs"}),
            adherence_deteriorated_on=D(2026, 2, 3),
        ),
        D(2026, 3, 3),
        D(2026, 3, 3),
        "first_review",
        "earlier_review_factor",
        "deteriorating_adherence",
        id="first review: adherence earlier than the circumstance wins",
    ),
    row(
        ReviewFacts(
            entry_date=ENTRY,
            earlier_review_factors=frozenset({"complex_needs"}),
            adherence_deteriorated_on=D(2026, 4, 1),
        ),
        D(2026, 4, 15),
        D(2026, 4, 15),
        "first_review",
        "earlier_review_factor",
        id="first review: the circumstance earlier than adherence wins, adherence says nothing",
    ),
    row(
        after_review(
            agreed_next_date=D(2027, 1, 1),
            extension_justified=True,
            earlier_review_factors=frozenset({"not_benefiting"}),
        ),
        D(2026, 7, 1),
        D(2026, 7, 1),
        "later_review",
        "agreed_extension",
        "earlier_review_factor",
        id="a circumstance pulls a justified extension back to three months",
    ),
    row(
        after_review(agreed_next_date=D(2027, 1, 1), earlier_review_factors=frozenset({"transition"})),
        D(2026, 7, 1),
        D(2026, 7, 1),
        "later_review",
        "agreed_date_refused",
        "earlier_review_factor",
        id="a refused agreed date and a circumstance",
    ),
    row(
        after_review(agreed_next_date=D(2026, 5, 1), earlier_review_factors=frozenset({"transition"})),
        D(2026, 5, 1),
        D(2026, 5, 1),
        "later_review",
        "agreed_date",
        id="an agreed date earlier than the circumstance's stands",
    ),
    row(
        after_review(agreed_next_date=D(2026, 9, 1), adherence_deteriorated_on=D(2026, 5, 1)),
        D(2026, 5, 29),
        D(2026, 5, 29),
        "later_review",
        "agreed_date",
        "deteriorating_adherence",
        id="adherence pulls an agreed date earlier",
    ),
    row(
        after_review(
            agreed_next_date=D(2028, 1, 1), extension_justified=True, adherence_deteriorated_on=D(2026, 11, 1)
        ),
        D(2026, 11, 29),
        D(2026, 11, 29),
        "later_review",
        "agreed_date_capped",
        "deteriorating_adherence",
        id="adherence pulls a capped extension earlier",
    ),
    row(
        after_review(
            agreed_next_date=D(2027, 1, 1),
            extension_justified=True,
            earlier_review_factors=frozenset({"complex_needs"}),
            adherence_deteriorated_on=D(2026, 4, 20),
        ),
        D(2026, 5, 18),
        D(2026, 5, 18),
        "later_review",
        "agreed_extension",
        "earlier_review_factor",
        "deteriorating_adherence",
        id="every rule at once: the earliest date wins and each rule that moved it says why",
    ),
]


@pytest.mark.parametrize(TABLE_ARGS, COMBINATIONS)
def test_combined_rules_take_the_earliest_date(facts, kind, target, deadline, rules):
    assert_due(facts, kind, target, deadline, rules)


# --- Rule 7 (§1.7): recovery check-ups after exit ----------------------------------------------------------

EXIT = D(2026, 6, 1)
RULE_7 = [
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT),
        D(2026, 6, 15),
        D(2026, 6, 29),
        "recovery_check_up",
        kind=CU,
        id="check-up 1 at exit plus 14 days",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1,)),
        D(2026, 9, 1),
        D(2026, 9, 15),
        "recovery_check_up",
        kind=CU,
        id="check-up 2 at exit plus 3 months",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1, 2)),
        D(2026, 12, 1),
        D(2026, 12, 15),
        "recovery_check_up",
        kind=CU,
        id="check-up 3 at exit plus 6 months",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(3, 1, 2)),
        D(2027, 6, 1),
        D(2027, 6, 15),
        "recovery_check_up",
        kind=CU,
        id="check-up 4 at exit plus 12 months",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(2, 3)),
        D(2026, 6, 15),
        D(2026, 6, 29),
        "recovery_check_up",
        kind=CU,
        id="the first check-up not held is next even out of order",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1, 3)),
        D(2026, 9, 1),
        D(2026, 9, 15),
        "recovery_check_up",
        kind=CU,
        id="a gap in the check-ups is filled first",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=D(2026, 12, 20)),
        D(2027, 1, 3),
        D(2027, 1, 17),
        "recovery_check_up",
        kind=CU,
        id="14 days after exit crosses the year",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=D(2027, 11, 30), completed_check_ups=(1,)),
        D(2028, 2, 29),
        D(2028, 3, 14),
        "recovery_check_up",
        kind=CU,
        id="3 months after 30 Nov is 29 Feb in a leap year",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=D(2026, 8, 31), completed_check_ups=(1, 2)),
        D(2027, 2, 28),
        D(2027, 3, 14),
        "recovery_check_up",
        kind=CU,
        id="6 months after 31 Aug is 28 Feb",
    ),
    row(
        ReviewFacts(entry_date=D(2027, 2, 28), exit_date=D(2028, 2, 29), completed_check_ups=(1, 2, 3)),
        D(2029, 2, 28),
        D(2029, 3, 14),
        "recovery_check_up",
        kind=CU,
        id="12 months after a leap day is 28 Feb",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, exit_date=ENTRY),
        D(2026, 1, 29),
        D(2026, 2, 12),
        "recovery_check_up",
        kind=CU,
        id="an exit on the day of entry",
    ),
    row(
        ReviewFacts(
            entry_date=ENTRY,
            completed_reviews=(REVIEWED,),
            earlier_review_factors=frozenset({"transition"}),
            adherence_deteriorated_on=D(2026, 5, 30),
            agreed_next_date=D(2026, 7, 1),
            exit_date=EXIT,
        ),
        D(2026, 6, 15),
        D(2026, 6, 29),
        "recovery_check_up",
        kind=CU,
        id="strategic reviews stop at exit: circumstances, adherence and agreed dates no longer apply",
    ),
]


@pytest.mark.parametrize(TABLE_ARGS, RULE_7)
def test_recovery_check_ups_follow_exit(facts, kind, target, deadline, rules):
    assert_due(facts, kind, target, deadline, rules)


def test_nothing_more_is_due_once_the_episode_ended_and_every_check_up_was_held():
    assert (
        next_review(ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(4, 2, 1, 3))) is None
    )


def test_an_open_episode_always_has_a_strategic_review_due():
    assert next_review(ReviewFacts(entry_date=ENTRY)).kind == SR


# --- Rule 8: status on a given day -------------------------------------------------------------------------

FIRST = ReviewDue(SR, D(2026, 4, 15), D(2026, 7, 15), ())
LATER = ReviewDue(SR, D(2026, 10, 1), D(2026, 10, 1), ())
CHECK_UP = ReviewDue(CU, D(2026, 3, 1), D(2026, 3, 15), ())
STATUSES = [
    pytest.param(FIRST, D(2025, 12, 1), "upcoming", id="long before"),
    pytest.param(FIRST, D(2026, 3, 31), "upcoming", id="15 days before the target"),
    pytest.param(FIRST, D(2026, 4, 1), "due_soon", id="14 days before the target"),
    pytest.param(FIRST, D(2026, 4, 15), "due_soon", id="on the target"),
    pytest.param(FIRST, D(2026, 4, 16), "due", id="the day after the target"),
    pytest.param(FIRST, D(2026, 7, 15), "due", id="on the deadline"),
    pytest.param(FIRST, D(2026, 7, 16), "overdue", id="the day after the deadline"),
    pytest.param(LATER, D(2026, 9, 16), "upcoming", id="deadline = target: 15 days before"),
    pytest.param(LATER, D(2026, 9, 17), "due_soon", id="deadline = target: 14 days before"),
    pytest.param(LATER, D(2026, 10, 1), "due_soon", id="deadline = target: on the day"),
    pytest.param(LATER, D(2026, 10, 2), "overdue", id="deadline = target: the day after"),
    pytest.param(CHECK_UP, D(2026, 2, 14), "upcoming", id="check-up: 15 days before across February"),
    pytest.param(CHECK_UP, D(2026, 2, 15), "due_soon", id="check-up: 14 days before across February"),
    pytest.param(CHECK_UP, D(2026, 3, 10), "due", id="check-up: in its grace"),
    pytest.param(CHECK_UP, D(2026, 3, 16), "overdue", id="check-up: after its grace"),
]


@pytest.mark.parametrize(("due", "today", "status"), STATUSES)
def test_status_on_a_given_day(due, today, status):
    assert review_status(due, today=today) == status


def test_status_uses_the_policy_due_soon_window():
    policy = Policy.from_overrides({"due_soon_days": 7})
    assert review_status(FIRST, today=D(2026, 4, 7), policy=policy) == "upcoming"
    assert review_status(FIRST, today=D(2026, 4, 8), policy=policy) == "due_soon"


def test_a_computed_first_review_is_due_soon_two_weeks_before_its_target():
    due = next_review(ReviewFacts(entry_date=ENTRY))
    assert review_status(due, today=D(2026, 4, 2)) == "due_soon"


# --- Reasons for clinicians --------------------------------------------------------------------------------


def test_reasons_read_as_sentences_citing_the_guidance():
    due = next_review(
        ReviewFacts(
            entry_date=ENTRY,
            earlier_review_factors=frozenset({"complex_needs"}),
            adherence_deteriorated_on=D(2026, 3, 3),
        )
    )
    assert due.reasons == (
        "First strategic review within 3 months of entry on 15 Jan 2026 (§1.3); no later than 15 Jul 2026.",
        "Earlier review: complex or co-morbid needs recorded (§1.6), so the review is due by 15 Apr 2026.",
        "Adherence deteriorated on 3 Mar 2026: re-review within 28 days, by 31 Mar 2026 (App. C 1).",
    )
    assert (due.target, due.deadline) == (D(2026, 3, 31), D(2026, 3, 31))


def test_a_later_review_says_when_the_last_was_completed():
    assert next_review(after_review()).reasons == (
        "Strategic review every 6 months: the last was completed on 1 Apr 2026 (§1.3), so the next is due by "
        "1 Oct 2026.",
    )


def test_an_agreed_date_that_was_not_used_says_why():
    reason = next_review(after_review(agreed_next_date=D(2027, 1, 1))).reasons[-1]
    assert reason == (
        "The agreed date of 1 Jan 2027 is more than 6 months after the review of 1 Apr 2026, which did not "
        "record clear, continuing benefit with no significant change envisaged and the patient's agreement "
        "(§1.5), so 1 Oct 2026 stands."
    )


def test_a_capped_extension_says_it_was_capped_at_twelve_months():
    reason = next_review(after_review(agreed_next_date=D(2027, 9, 1), extension_justified=True)).reasons[-1]
    assert reason == (
        "An extended interval was justified (§1.5), but the agreed date of 1 Sep 2027 is more than 12 months "
        "after the review of 1 Apr 2026: due by 1 Apr 2027."
    )


def test_a_justified_extension_and_an_earlier_agreed_date_cite_the_guidance():
    extended = next_review(after_review(agreed_next_date=D(2027, 1, 1), extension_justified=True))
    earlier = next_review(after_review(agreed_next_date=D(2026, 6, 1)))
    assert "§1.5" in extended.reasons[-1] and "1 Jan 2027" in extended.reasons[-1]
    assert (
        earlier.reasons[-1]
        == "Next review agreed with the patient for 1 Jun 2026 at the review of 1 Apr 2026 (§1.3)."
    )


@pytest.mark.parametrize(
    ("done", "sentence"),
    [
        (
            (),
            "recovery check-up 1 of 4 is due 14 days after exit, on 15 Jun 2026, and no later than "
            "29 Jun 2026",
        ),
        (
            (1,),
            "recovery check-up 2 of 4 is due 3 months after exit, on 1 Sep 2026, and no later than "
            "15 Sep 2026",
        ),
        ((1, 2, 3), "recovery check-up 4 of 4 is due 12 months after exit, on 1 Jun 2027"),
    ],
)
def test_a_check_up_says_which_it_is_and_when(done, sentence):
    (reason,) = next_review(ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=done)).reasons
    assert reason.startswith("Treatment ended on 1 Jun 2026: ")
    assert sentence in reason and reason.endswith("(§1.7).")


# --- Inconsistent facts never yield a date ------------------------------------------------------------------

INCONSISTENT = [
    pytest.param(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 1, 14),)),
        "completed_reviews",
        id="a review completed the day before entry",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(REVIEWED, D(2025, 6, 1))),
        "completed_reviews",
        id="one of several reviews before entry",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_date=D(2026, 1, 14)), "exit_date", id="exit before entry"
    ),
    pytest.param(
        after_review(agreed_next_date=REVIEWED),
        "agreed_next_date",
        id="an agreed date on the day of its review",
    ),
    pytest.param(
        after_review(agreed_next_date=D(2026, 3, 1)),
        "agreed_next_date",
        id="an agreed date before its review",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, agreed_next_date=D(2026, 4, 1)),
        "agreed_next_date",
        id="an agreed date without any completed review",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, earlier_review_factors=frozenset({"complex_needs", "bad_weather"})),
        "earlier_review_factors",
        id="an unknown circumstance code",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, adherence_deteriorated_on=D(2026, 1, 14)),
        "adherence_deteriorated_on",
        id="adherence deteriorated before entry",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(0,)),
        "completed_check_ups",
        id="check-up number 0",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1, 5)),
        "completed_check_ups",
        id="check-up number 5",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, completed_check_ups=(1,)),
        "completed_check_ups",
        id="check-ups without an exit",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2025, 1, 1),), exit_date=EXIT),
        "completed_reviews",
        id="an ended episode is checked too",
    ),
]


@pytest.mark.parametrize(("facts", "fact"), INCONSISTENT)
def test_inconsistent_facts_raise_a_value_error_naming_the_fact(facts, fact):
    with pytest.raises(ValueError, match=f"^{fact}: "):
        next_review(facts)


def test_the_error_for_a_review_before_entry_shows_both_dates():
    with pytest.raises(ValueError, match="14 Jan 2026.*15 Jan 2026"):
        next_review(ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 1, 14),)))


def test_the_error_for_an_unknown_circumstance_names_the_code():
    with pytest.raises(ValueError, match="bad_weather"):
        next_review(ReviewFacts(entry_date=ENTRY, earlier_review_factors=frozenset({"bad_weather"})))


# --- The policy's numbers ----------------------------------------------------------------------------------


def test_the_default_policy_holds_the_design_numbers():
    assert dataclasses.asdict(DEFAULT_POLICY) == {
        "first_review_target_months": 3,
        "first_review_deadline_months": 6,
        "review_interval_months": 6,
        "earlier_review_interval_months": 3,
        "adherence_rereview_days": 28,
        "max_agreed_interval_months": 12,
        "due_soon_days": 14,
        "check_up_offsets": ((1, 0, 14), (2, 3, 0), (3, 6, 0), (4, 12, 0)),
        "check_up_grace_days": 14,
        # The second edition's numbers (rules 3b, 7b, 7c and 4b).
        "transition_review_months": 3,
        "element_check_up_days": 14,
        "relapse_check_up_days": 14,
        "missed_dose_safety_run": 3,
    }
    assert DEFAULT_POLICY.check_up_offsets is CHECK_UP_OFFSETS
    assert DEFAULT_POLICY.review_interval_months == scheduling.REVIEW_INTERVAL_MONTHS


def test_settings_override_a_policy_number_and_the_dates_and_reasons_follow():
    policy = Policy.from_overrides({"review_interval_months": 4, "adherence_rereview_days": 14})
    due = next_review(after_review(adherence_deteriorated_on=D(2026, 9, 1)), policy=policy)
    assert due.reasons[0].endswith("so the next is due by 1 Aug 2026.")
    assert (due.target, due.rules) == (D(2026, 8, 1), ("later_review",))
    due = next_review(after_review(adherence_deteriorated_on=D(2026, 6, 1)), policy=policy)
    assert due.target == D(2026, 6, 15) and "within 14 days" in due.reasons[-1]
    assert DEFAULT_POLICY.review_interval_months == 6


def test_no_overrides_give_the_default_policy():
    assert Policy.from_overrides({}) == DEFAULT_POLICY
    assert Policy.from_overrides(None) == DEFAULT_POLICY


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"review_intervals": 6}, "'review_intervals' is not a policy number", id="an unknown name"
        ),
        pytest.param({"check_up_offsets": ()}, "'check_up_offsets' is not a policy number", id="the offsets"),
        pytest.param({"review_interval_months": 0}, "review_interval_months must be a positive", id="zero"),
        pytest.param({"due_soon_days": -1}, "due_soon_days must be a positive", id="negative"),
        pytest.param({"due_soon_days": "14"}, "due_soon_days must be a positive", id="a string"),
        pytest.param({"due_soon_days": 1.5}, "due_soon_days must be a positive", id="a fraction"),
        pytest.param({"due_soon_days": True}, "due_soon_days must be a positive", id="a boolean"),
        pytest.param(
            {"first_review_target_months": 7},
            "first_review_target_months must not be more than",
            id="a first target after the first deadline",
        ),
        pytest.param(
            {"max_agreed_interval_months": 5},
            "review_interval_months must not be more than",
            id="a cap below the usual interval",
        ),
    ],
)
def test_a_bad_policy_override_fails_loudly(overrides, message):
    with pytest.raises(ValueError, match=f"^REVIEW_POLICY: {message}"):
        Policy.from_overrides(overrides)


# --- Shape -------------------------------------------------------------------------------------------------


def test_facts_and_answers_cannot_be_changed_after_the_fact():
    facts, due = ReviewFacts(entry_date=ENTRY), next_review(ReviewFacts(entry_date=ENTRY))
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.entry_date = D(2020, 1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        due.target = D(2020, 1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_POLICY.due_soon_days = 1


@pytest.mark.parametrize("module", [scheduling, scheduling_missed_doses], ids=lambda module: module.__name__)
def test_the_policy_modules_import_only_the_standard_library_dateutil_and_each_other(module):
    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    standard = {"__future__", "collections", "dataclasses", "datetime", "functools", "typing", "dateutil"}
    assert {name.split(".")[0] for name in imported} - {"reviews"} <= standard, imported
    assert {name for name in imported if name.startswith("reviews")} <= {"reviews.scheduling"}, imported


# === The second edition: the riskiest moments (docs/design.md, rule 3b and after) ============================

EC = "element_check_up"


def cites(reason):
    return "§" in reason or "App. C" in reason


def strategic(facts):
    """The strategic review among the items owed (rule 3b shapes it; check-ups sit beside it)."""
    (due,) = [due for due in owed(facts) if due.kind == SR]
    return due


def owed_items(facts):
    """(kind, target, deadline, rules) of every item owed, in order; each rule that shaped it says why."""
    items = owed(facts)
    for due in items:
        assert len(due.reasons) == len(due.rules) >= 1 and all(map(cites, due.reasons)), due
    return [(due.kind, due.target, due.deadline, due.rules) for due in items]


def item(kind, target, deadline, *rules):
    return (kind, target, deadline, rules)


# --- Rule 3b (§1.6, App. C 2): a treatment transition brings the review within 3 months ----------------------

RULE_3B = [
    row(
        ReviewFacts(entry_date=ENTRY, transitions=(D(2026, 2, 15),)),
        D(2026, 4, 15),
        D(2026, 5, 15),
        "first_review",
        "treatment_transition",
        id="before any review: the first deadline within 3 months of the transition",
    ),
    row(
        ReviewFacts(entry_date=D(2026, 6, 1), transitions=(D(2026, 8, 31),)),
        D(2026, 9, 1),
        D(2026, 11, 30),
        "first_review",
        "treatment_transition",
        id="31 Aug plus 3 months is 30 Nov",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 10, 1),), transitions=(D(2026, 11, 30),)),
        D(2027, 2, 28),
        D(2027, 2, 28),
        "later_review",
        "treatment_transition",
        id="30 Nov plus 3 months is 28 Feb",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2027, 10, 1),), transitions=(D(2027, 11, 30),)),
        D(2028, 2, 29),
        D(2028, 2, 29),
        "later_review",
        "treatment_transition",
        id="30 Nov plus 3 months is 29 Feb in a leap year",
    ),
    row(
        after_review(transitions=(D(2026, 5, 31),)),
        D(2026, 8, 31),
        D(2026, 8, 31),
        "later_review",
        "treatment_transition",
        id="after the last review: within 3 months of the transition",
    ),
    row(
        after_review(transitions=(REVIEWED,)),
        D(2026, 7, 1),
        D(2026, 7, 1),
        "later_review",
        "treatment_transition",
        id="a transition on the day of the last review counts",
    ),
    row(
        after_review(transitions=(D(2026, 3, 1),)),
        D(2026, 10, 1),
        D(2026, 10, 1),
        "later_review",
        id="a transition before the last review was dealt with there and says nothing",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, transitions=(ENTRY,)),
        D(2026, 4, 15),
        D(2026, 7, 15),
        "first_review",
        id="a start on the entry date is the entry, not a transition",
    ),
    row(
        after_review(transitions=(D(2026, 6, 10), D(2026, 5, 5))),
        D(2026, 8, 5),
        D(2026, 8, 5),
        "later_review",
        "treatment_transition",
        id="the earliest of several transitions binds whatever their order",
    ),
    row(
        ReviewFacts(entry_date=ENTRY, transitions=(D(2026, 6, 1),)),
        D(2026, 4, 15),
        D(2026, 7, 15),
        "first_review",
        id="a transition whose 3 months end after the deadline changes nothing and says nothing",
    ),
    row(
        after_review(element_ends=(D(2026, 5, 5),)),
        D(2026, 8, 5),
        D(2026, 8, 5),
        "later_review",
        "treatment_transition",
        id="the end of an element of treatment is a transition too",
    ),
    row(
        after_review(agreed_next_date=D(2027, 1, 1), extension_justified=True, transitions=(D(2026, 5, 31),)),
        D(2026, 8, 31),
        D(2026, 8, 31),
        "later_review",
        "agreed_extension",
        "treatment_transition",
        id="a transition pulls a justified extension back",
    ),
    row(
        after_review(earlier_review_factors=frozenset({"complex_needs"}), transitions=(D(2026, 4, 10),)),
        D(2026, 7, 1),
        D(2026, 7, 1),
        "later_review",
        "earlier_review_factor",
        id="a circumstance earlier than the transition wins, the transition says nothing",
    ),
    row(
        after_review(transitions=(D(2026, 4, 10),), adherence_deteriorated_on=D(2026, 5, 1)),
        D(2026, 5, 29),
        D(2026, 5, 29),
        "later_review",
        "treatment_transition",
        "deteriorating_adherence",
        id="adherence earlier than the transition wins, each says why",
    ),
]


@pytest.mark.parametrize(TABLE_ARGS, RULE_3B)
def test_a_treatment_transition_brings_the_strategic_review_within_three_months(
    facts, kind, target, deadline, rules
):
    due = strategic(facts)
    assert (due.kind, due.target, due.deadline, due.rules) == (kind, target, deadline, rules)
    assert len(due.reasons) == len(rules) and all(map(cites, due.reasons))


def test_a_transition_names_its_date_and_cites_the_guidance():
    reason = strategic(ReviewFacts(entry_date=D(2026, 6, 1), transitions=(D(2026, 8, 31),))).reasons[-1]
    assert reason == (
        "Treatment transition on 31 Aug 2026: vigilance during and after a change of treatment or setting "
        "calls for review within 3 months, by 30 Nov 2026 (§1.6, App. C 2)."
    )


def test_of_several_transitions_the_reason_names_the_earliest_and_counts_them():
    reason = strategic(after_review(transitions=(D(2026, 6, 10), D(2026, 5, 5)))).reasons[-1]
    assert reason.startswith("Treatment transition on 5 May 2026 (the first of 2 since the last review): ")
    assert reason.endswith("by 5 Aug 2026 (§1.6, App. C 2).")


def test_the_transition_interval_is_a_policy_number():
    policy = Policy.from_overrides({"transition_review_months": 2})
    due = next_review(after_review(transitions=(D(2026, 5, 31),)), policy=policy)
    assert (due.target, due.deadline) == (D(2026, 7, 31), D(2026, 7, 31))
    assert "within 2 months" in due.reasons[-1]


# --- Rule 3c: "not benefiting" from the last review, derived by the adapter ----------------------------------


def test_not_benefiting_derived_from_the_last_review_brings_the_next_within_three_months():
    """The adapter derives `not_benefiting` from the last review's App. C 3-4 finding; the policy takes it like
    any rule 3 circumstance (§1.6)."""
    facts = after_review(earlier_review_factors=frozenset({"not_benefiting"}))
    check_facts(facts)
    due = next_review(facts)
    assert (due.target, due.deadline, due.rules) == (
        D(2026, 7, 1),
        D(2026, 7, 1),
        ("later_review", "earlier_review_factor"),
    )
    assert "treatment not producing the expected benefit" in due.reasons[-1] and "(§1.6)" in due.reasons[-1]


# --- Rule 4b: missed doses are read across reports -----------------------------------------------------------

MAY = [D(2026, 5, n) for n in range(1, 32)]  # MAY[0] is 1 May


@pytest.mark.parametrize(
    ("reports", "runs"),
    [
        pytest.param([], [], id="no missed doses"),
        pytest.param([[MAY[0]]], [(MAY[0], MAY[0], 1)], id="one missed day"),
        pytest.param(
            [[D(2026, 4, 29), D(2026, 4, 30)], [MAY[0]]],
            [(D(2026, 4, 29), MAY[0], 3)],
            id="a run across two reports and a month end",
        ),
        pytest.param([[MAY[0], MAY[1]], [MAY[1], MAY[2]]], [(MAY[0], MAY[2], 3)], id="a day in two reports"),
        pytest.param([[MAY[2], MAY[0], MAY[1]]], [(MAY[0], MAY[2], 3)], id="in any order"),
        pytest.param(
            [[D(2026, 12, 30), D(2026, 12, 31)], [D(2027, 1, 1)]],
            [(D(2026, 12, 30), D(2027, 1, 1), 3)],
            id="across the year",
        ),
        pytest.param(
            [[D(2028, 2, 28), D(2028, 2, 29)], [D(2028, 3, 1)]],
            [(D(2028, 2, 28), D(2028, 3, 1), 3)],
            id="across a leap day",
        ),
        pytest.param(
            [[D(2027, 2, 27), D(2027, 2, 28)], [D(2027, 3, 1)]],
            [(D(2027, 2, 27), D(2027, 3, 1), 3)],
            id="across the end of February in a common year",
        ),
        pytest.param(
            [[MAY[0], MAY[1]], [MAY[3], MAY[4], MAY[5]]],
            [(MAY[0], MAY[1], 2), (MAY[3], MAY[5], 3)],
            id="a day taken breaks the run",
        ),
    ],
)
def test_missed_dose_runs_span_any_number_of_reports(reports, runs):
    found = missed_dose_runs(day for report in reports for day in report)
    assert found == runs
    assert all(isinstance(run, MissedDoseRun) for run in found)


@pytest.mark.parametrize(
    ("missed", "events"),
    [
        pytest.param(MAY[0:5], [MAY[2]], id="a run of five is one event, on its third day"),
        pytest.param(
            [*MAY[0:2], *MAY[3:6], *MAY[9:13]],
            [MAY[5], MAY[11]],
            id="two runs of three or more, earliest first",
        ),
        pytest.param(MAY[0:2], [], id="two in a row is not a safety event"),
        pytest.param([D(2026, 4, 30), *MAY[0:2]], [MAY[1]], id="three across a month end and two reports"),
    ],
)
def test_a_safety_event_is_dated_on_the_third_consecutive_missed_day(missed, events):
    assert safety_events(missed) == events


@pytest.mark.parametrize(
    ("missed", "since", "on"),
    [
        pytest.param(MAY[0:5], D(2026, 4, 1), MAY[2], id="a run since the last review: its third day"),
        pytest.param(MAY[0:5], MAY[3], MAY[3], id="a run going on at the review: the review's day"),
        pytest.param(MAY[0:3], MAY[2], MAY[2], id="a run whose third day is the review's day"),
        pytest.param(MAY[0:3], MAY[3], None, id="a run that ended before the review"),
        pytest.param(MAY[0:2], D(2026, 4, 1), None, id="no run of three"),
        pytest.param([*MAY[0:3], *MAY[9:12]], MAY[4], MAY[11], id="the first run since the review binds"),
    ],
)
def test_deterioration_from_missed_doses_is_the_first_day_of_three_in_a_row_since_the_review(
    missed, since, on
):
    assert missed_dose_deterioration(missed, since) == on


def test_three_missed_days_in_two_reports_call_a_re_review_from_the_third():
    first_report, second_report = [D(2026, 1, 30), D(2026, 1, 31)], [D(2026, 2, 1)]
    on = missed_dose_deterioration([*first_report, *second_report], ENTRY)
    assert on == D(2026, 2, 1)
    assert_due(
        ReviewFacts(entry_date=ENTRY, adherence_deteriorated_on=on),
        SR,
        D(2026, 3, 1),
        D(2026, 3, 1),
        ("first_review", "deteriorating_adherence"),
    )


def test_the_safety_run_is_a_policy_number():
    policy = Policy.from_overrides({"missed_dose_safety_run": 4})
    assert safety_events(MAY[0:3], policy) == []
    assert safety_events(MAY[0:4], policy) == [MAY[3]]
    assert missed_dose_deterioration(MAY[0:4], MAY[0], policy) == MAY[3]


# --- Rule 7, amended: no check-ups after death or a transfer ----------------------------------------------

NOT_CHECKED_UP = [
    pytest.param(DIED, "because the person died", id="died"),
    pytest.param(
        TRANSFERRED,
        "because they were transferred to another service, which now reviews them",
        id="transferred",
    ),
    pytest.param(
        TRANSFERRED_CUSTODY,
        "because they were transferred to custody, where another service now reviews them",
        id="transferred to custody",
    ),
]


@pytest.mark.parametrize(("reason", "why"), NOT_CHECKED_UP)
def test_no_check_up_is_owed_after_death_or_a_transfer_and_the_reason_says_why(reason, why):
    facts = ReviewFacts(entry_date=ENTRY, exit_date=EXIT, exit_reason=reason)
    assert owed(facts) == () and next_review(facts) is None
    assert (
        nothing_owed_reason(facts)
        == f"Treatment ended on 1 Jun 2026 {why}: no recovery check-ups are owed (§1.7)."
    )


@pytest.mark.parametrize(("reason", "why"), NOT_CHECKED_UP)
def test_after_death_or_a_transfer_no_element_check_up_or_relapse_follow_up_is_owed_either(reason, why):
    facts = ReviewFacts(
        entry_date=ENTRY,
        exit_date=EXIT,
        exit_reason=reason,
        element_ends=(D(2026, 5, 25),),
        completed_check_ups=(1,),
        relapse_risk_on=D(2026, 6, 15),
    )
    assert owed(facts) == ()
    assert why in nothing_owed_reason(facts)


@pytest.mark.parametrize("reason", sorted(set(EXIT_REASONS) - set(NO_CHECK_UP_EXITS)))
def test_check_ups_follow_an_exit_for_every_other_reason(reason):
    facts = ReviewFacts(entry_date=ENTRY, exit_date=EXIT, exit_reason=reason)
    assert owed_items(facts) == [item(CU, D(2026, 6, 15), D(2026, 6, 29), "recovery_check_up")]
    assert next_review(facts) == next_review(ReviewFacts(entry_date=ENTRY, exit_date=EXIT))
    assert nothing_owed_reason(facts) is None


def test_the_exit_reasons_are_the_records_codes():
    """The pure policy keeps its own copy of the codes; the two must not drift apart."""
    from patients.models.record import ExitReason

    assert set(EXIT_REASONS) == set(ExitReason.values)
    assert {DIED, TRANSFERRED, TRANSFERRED_CUSTODY} == {
        ExitReason.DIED,
        ExitReason.TRANSFERRED,
        ExitReason.TRANSFERRED_CUSTODY,
    }


def test_nothing_owed_once_every_check_up_was_held_says_so():
    facts = ReviewFacts(
        entry_date=ENTRY, exit_date=EXIT, exit_reason="dropped_out", completed_check_ups=(1, 2, 3, 4)
    )
    assert owed(facts) == ()
    assert nothing_owed_reason(facts) == (
        "Treatment ended on 1 Jun 2026 and every recovery check-up was held: nothing more is owed (§1.7)."
    )


def test_a_last_check_up_that_found_early_signs_of_relapse_is_named_when_nothing_more_is_owed():
    facts = ReviewFacts(
        entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1, 2, 3, 4), relapse_risk_on=D(2027, 6, 1)
    )
    assert owed(facts) == ()
    assert nothing_owed_reason(facts).endswith(
        "(§1.7). The last, on 1 Jun 2027, found early signs of relapse: offer rapid access back into treatment."
    )


@pytest.mark.parametrize(
    "facts",
    [
        pytest.param(ReviewFacts(entry_date=ENTRY), id="an open episode"),
        pytest.param(
            ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1,)), id="check-ups to go"
        ),
    ],
)
def test_there_is_no_nothing_owed_reason_while_something_is_owed(facts):
    assert nothing_owed_reason(facts) is None


# --- Rule 7b (§1.7): a check-up after each element of treatment, beside the strategic review ------------------

RULE_7B = [
    pytest.param(
        ReviewFacts(entry_date=ENTRY, element_ends=(D(2026, 5, 1),)),
        [
            item(SR, D(2026, 4, 15), D(2026, 7, 15), "first_review"),
            item(EC, D(2026, 5, 15), D(2026, 5, 29), "element_check_up"),
        ],
        id="14 days after the end, 14 days' grace, beside the strategic review",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, element_ends=(D(2026, 2, 17),)),
        [
            item(EC, D(2026, 3, 3), D(2026, 3, 17), "element_check_up"),
            item(SR, D(2026, 4, 15), D(2026, 5, 17), "first_review", "treatment_transition"),
        ],
        id="17 Feb plus 14 days is 3 Mar; the earlier item comes first and hides nothing",
    ),
    pytest.param(
        ReviewFacts(entry_date=D(2027, 12, 1), element_ends=(D(2028, 2, 17),)),
        [
            item(SR, D(2028, 3, 1), D(2028, 5, 17), "first_review", "treatment_transition"),
            item(EC, D(2028, 3, 2), D(2028, 3, 16), "element_check_up"),
        ],
        id="17 Feb plus 14 days is 2 Mar in a leap year",
    ),
    pytest.param(
        ReviewFacts(entry_date=D(2026, 10, 1), element_ends=(D(2026, 12, 20),)),
        [
            item(SR, D(2027, 1, 1), D(2027, 3, 20), "first_review", "treatment_transition"),
            item(EC, D(2027, 1, 3), D(2027, 1, 17), "element_check_up"),
        ],
        id="across the year",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, element_ends=(D(2026, 5, 1),), element_check_ups=(D(2026, 5, 1),)),
        [item(SR, D(2026, 4, 15), D(2026, 7, 15), "first_review")],
        id="a held check-up is owed no more",
    ),
    pytest.param(
        ReviewFacts(
            entry_date=ENTRY, element_ends=(D(2026, 5, 1), D(2026, 3, 1)), element_check_ups=(D(2026, 3, 1),)
        ),
        [
            item(SR, D(2026, 4, 15), D(2026, 6, 1), "first_review", "treatment_transition"),
            item(EC, D(2026, 5, 15), D(2026, 5, 29), "element_check_up"),
        ],
        id="of two ends, the one whose check-up was held owes nothing",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, element_ends=(D(2026, 3, 20), D(2026, 3, 1))),
        [
            item(EC, D(2026, 3, 15), D(2026, 3, 29), "element_check_up"),
            item(EC, D(2026, 4, 3), D(2026, 4, 17), "element_check_up"),
            item(SR, D(2026, 4, 15), D(2026, 6, 1), "first_review", "treatment_transition"),
        ],
        id="two ends owe two check-ups, each its own item",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, element_ends=(D(2026, 5, 1), D(2026, 5, 1))),
        [
            item(SR, D(2026, 4, 15), D(2026, 7, 15), "first_review"),
            item(EC, D(2026, 5, 15), D(2026, 5, 29), "element_check_up"),
        ],
        id="two elements ending on one day owe one check-up",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, element_ends=(D(2026, 5, 25),)),
        [
            item(EC, D(2026, 6, 8), D(2026, 6, 22), "element_check_up"),
            item(CU, D(2026, 6, 15), D(2026, 6, 29), "recovery_check_up"),
        ],
        id="one not held by the exit stays owed after it, beside the check-up after exit",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, element_ends=(EXIT,)),
        [item(CU, D(2026, 6, 15), D(2026, 6, 29), "recovery_check_up")],
        id="an element ending with the episode is followed by the first check-up after exit",
    ),
]


@pytest.mark.parametrize(("facts", "items"), RULE_7B)
def test_a_check_up_is_owed_after_each_element_of_treatment_until_held(facts, items):
    assert owed_items(facts) == items
    assert next_review(facts) == owed(facts)[0]


def test_an_element_check_up_names_the_end_it_follows_and_cites_the_guidance():
    (check_up,) = [
        due for due in owed(ReviewFacts(entry_date=ENTRY, element_ends=(D(2026, 5, 1),))) if due.kind == EC
    ]
    assert check_up.element_end == D(2026, 5, 1)
    assert check_up.reasons == (
        "An element of treatment (OST, detox, residential or inpatient) ended on 1 May 2026: a recovery check-up "
        "is due 14 days after, on 15 May 2026, and no later than 29 May 2026 (§1.7).",
    )


def test_an_element_check_up_comes_first_when_it_is_earliest_and_the_strategic_review_stays_owed():
    facts = ReviewFacts(entry_date=ENTRY, element_ends=(D(2026, 2, 17),))
    assert next_review(facts).kind == EC
    assert [due.kind for due in owed(facts)] == [EC, SR]
    assert review_status(owed(facts)[0], today=D(2026, 3, 18)) == "overdue"
    assert review_status(owed(facts)[1], today=D(2026, 3, 18)) == "upcoming"


def test_the_element_check_up_interval_is_a_policy_number():
    policy = Policy.from_overrides({"element_check_up_days": 7})
    (check_up,) = [
        d for d in owed(ReviewFacts(entry_date=ENTRY, element_ends=(D(2026, 5, 1),)), policy) if d.kind == EC
    ]
    assert (check_up.target, check_up.deadline) == (D(2026, 5, 8), D(2026, 5, 22))


# --- Rule 7c (§1.7): early signs of relapse bring the next check-up within 14 days --------------------------

RULE_7C = [
    row(
        ReviewFacts(
            entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1,), relapse_risk_on=D(2026, 6, 15)
        ),
        D(2026, 6, 29),
        D(2026, 6, 29),
        "recovery_check_up",
        "relapse_risk",
        kind=CU,
        id="check-up 2 within 14 days of the check-up that found early signs, no grace",
    ),
    row(
        ReviewFacts(
            entry_date=ENTRY,
            exit_date=D(2027, 2, 1),
            completed_check_ups=(1,),
            relapse_risk_on=D(2027, 2, 16),
        ),
        D(2027, 3, 2),
        D(2027, 3, 2),
        "recovery_check_up",
        "relapse_risk",
        kind=CU,
        id="16 Feb plus 14 days is 2 Mar",
    ),
    row(
        ReviewFacts(
            entry_date=D(2027, 6, 1),
            exit_date=D(2028, 2, 1),
            completed_check_ups=(1,),
            relapse_risk_on=D(2028, 2, 16),
        ),
        D(2028, 3, 1),
        D(2028, 3, 1),
        "recovery_check_up",
        "relapse_risk",
        kind=CU,
        id="16 Feb plus 14 days is 1 Mar in a leap year",
    ),
    row(
        ReviewFacts(
            entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1, 2, 3), relapse_risk_on=D(2027, 5, 25)
        ),
        D(2027, 6, 1),
        D(2027, 6, 8),
        "recovery_check_up",
        "relapse_risk",
        kind=CU,
        id="a finding close to the next check-up shortens its grace only",
    ),
    row(
        ReviewFacts(
            entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1, 2, 3), relapse_risk_on=D(2027, 6, 5)
        ),
        D(2027, 6, 1),
        D(2027, 6, 15),
        "recovery_check_up",
        kind=CU,
        id="a finding whose 14 days end after the deadline changes nothing and says nothing",
    ),
    # "Could not be reached" is not a held check-up (the adapter leaves it out of completed_check_ups): the
    # same facts, so check-up 2 stays owed by 29 Jun, and is overdue the day after.
    row(
        ReviewFacts(
            entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1,), relapse_risk_on=D(2026, 6, 15)
        ),
        D(2026, 6, 29),
        D(2026, 6, 29),
        "recovery_check_up",
        "relapse_risk",
        kind=CU,
        id="an attempt that could not reach the patient leaves the same check-up owed",
    ),
]


@pytest.mark.parametrize(TABLE_ARGS, RULE_7C)
def test_early_signs_of_relapse_bring_the_next_check_up_within_14_days(facts, kind, target, deadline, rules):
    assert_due(facts, kind, target, deadline, rules)


def test_early_signs_of_relapse_say_when_they_were_found_and_cite_the_guidance():
    due = next_review(
        ReviewFacts(
            entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1,), relapse_risk_on=D(2026, 6, 15)
        )
    )
    assert due.reasons[-1] == (
        "The check-up of 15 Jun 2026 found early signs of relapse: the next check-up is due within 14 days, by "
        "29 Jun 2026, with rapid access back into treatment (§1.7)."
    )
    assert review_status(due, today=D(2026, 6, 30)) == "overdue"


def test_early_signs_of_relapse_leave_an_element_check_up_and_an_open_episode_alone():
    ended = ReviewFacts(
        entry_date=ENTRY,
        exit_date=EXIT,
        element_ends=(D(2026, 5, 25),),
        completed_check_ups=(1,),
        relapse_risk_on=D(2026, 6, 15),
    )
    assert owed_items(ended) == [
        item(EC, D(2026, 6, 8), D(2026, 6, 22), "element_check_up"),
        item(CU, D(2026, 6, 29), D(2026, 6, 29), "recovery_check_up", "relapse_risk"),
    ]
    in_treatment = ReviewFacts(
        entry_date=ENTRY,
        element_ends=(D(2026, 3, 1),),
        element_check_ups=(D(2026, 3, 1),),
        relapse_risk_on=D(2026, 3, 15),
    )
    assert owed(in_treatment) == owed(replace(in_treatment, relapse_risk_on=None))


def test_the_relapse_follow_up_interval_is_a_policy_number():
    policy = Policy.from_overrides({"relapse_check_up_days": 7})
    facts = ReviewFacts(
        entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1,), relapse_risk_on=D(2026, 6, 15)
    )
    assert next_review(facts, policy).target == D(2026, 6, 22)


# --- The second edition's facts must agree with each other ---------------------------------------------------

HELD = D(2026, 3, 1)
INCONSISTENT_SECOND_EDITION = [
    pytest.param(
        ReviewFacts(entry_date=ENTRY, transitions=(D(2026, 1, 14),)),
        "transitions",
        id="a transition before entry",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, transitions=(D(2026, 6, 2),)),
        "transitions",
        id="a transition after exit",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, element_ends=(D(2026, 1, 14),)),
        "element_ends",
        id="an element end before entry",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, element_ends=(D(2026, 6, 2),)),
        "element_ends",
        id="an element end after exit",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, element_check_ups=(HELD,)),
        "element_check_ups",
        id="a check-up after an element that did not end",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, element_ends=(HELD,), element_check_ups=(HELD, D(2026, 3, 2))),
        "element_check_ups",
        id="one of two element check-ups not among the ends",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_reason=DIED), "exit_reason", id="an exit reason without an exit"
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, exit_reason="deceased"),
        "exit_reason",
        id="an unknown exit reason",
    ),
    pytest.param(
        ReviewFacts(
            entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1,), relapse_risk_on=D(2026, 5, 31)
        ),
        "relapse_risk_on",
        id="after exit, early signs found before exit",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, relapse_risk_on=D(2026, 6, 15)),
        "relapse_risk_on",
        id="after exit, early signs without any check-up held",
    ),
    pytest.param(
        ReviewFacts(entry_date=ENTRY, relapse_risk_on=HELD),
        "relapse_risk_on",
        id="in treatment, without a check-up held",
    ),
    pytest.param(
        ReviewFacts(
            entry_date=ENTRY, element_ends=(HELD,), element_check_ups=(HELD,), relapse_risk_on=D(2026, 2, 20)
        ),
        "relapse_risk_on",
        id="in treatment, before the element whose check-up was held had ended",
    ),
    pytest.param(
        ReviewFacts(
            entry_date=ENTRY, element_ends=(HELD,), element_check_ups=(HELD,), relapse_risk_on=D(2026, 1, 1)
        ),
        "relapse_risk_on",
        id="before entry",
    ),
]


@pytest.mark.parametrize(("facts", "fact"), INCONSISTENT_SECOND_EDITION)
def test_inconsistent_second_edition_facts_raise_a_value_error_naming_the_fact(facts, fact):
    for ask in (check_facts, owed, next_review, nothing_owed_reason):
        with pytest.raises(ValueError, match=f"^{fact}: "):
            ask(facts)


def test_the_errors_for_the_second_edition_facts_show_the_dates():
    with pytest.raises(ValueError, match="14 Jan 2026, before entry on 15 Jan 2026"):
        owed(ReviewFacts(entry_date=ENTRY, transitions=(D(2026, 1, 14),)))
    with pytest.raises(ValueError, match="2 Jun 2026, after exit on 1 Jun 2026"):
        owed(ReviewFacts(entry_date=ENTRY, exit_date=EXIT, element_ends=(D(2026, 6, 2),)))
    with pytest.raises(ValueError, match="deceased; known: .*died"):
        owed(ReviewFacts(entry_date=ENTRY, exit_date=EXIT, exit_reason="deceased"))


@pytest.mark.parametrize(
    "facts",
    [
        pytest.param(
            ReviewFacts(entry_date=ENTRY, exit_date=EXIT, transitions=(EXIT,)),
            id="a transition on the exit day",
        ),
        pytest.param(
            ReviewFacts(entry_date=ENTRY, element_ends=(ENTRY,)), id="an element ending on the entry day"
        ),
        pytest.param(
            ReviewFacts(entry_date=ENTRY, exit_date=EXIT, element_ends=(EXIT,)),
            id="an element ending with the episode",
        ),
        pytest.param(ReviewFacts(entry_date=ENTRY, exit_date=EXIT), id="an exit without a reason, as before"),
        pytest.param(
            ReviewFacts(
                entry_date=ENTRY, element_ends=(HELD,), element_check_ups=(HELD,), relapse_risk_on=HELD
            ),
            id="early signs found on the day the element ended",
        ),
        pytest.param(
            ReviewFacts(
                entry_date=ENTRY,
                exit_date=EXIT,
                element_ends=(D(2026, 5, 25),),
                element_check_ups=(D(2026, 5, 25),),
                relapse_risk_on=D(2026, 6, 5),
            ),
            id="early signs at an element check-up held after exit",
        ),
    ],
)
def test_consistent_edge_facts_are_accepted(facts):
    check_facts(facts)
    assert owed(facts) or nothing_owed_reason(facts)


def test_facts_without_the_second_editions_owe_exactly_what_next_review_gave():
    for facts in (
        ReviewFacts(entry_date=ENTRY),
        after_review(agreed_next_date=D(2027, 1, 1), extension_justified=True),
        ReviewFacts(entry_date=ENTRY, exit_date=EXIT, completed_check_ups=(1,)),
    ):
        (due,) = owed(facts)
        assert due == next_review(facts) and due.element_end is None


def test_calendar_months_are_remembered_and_the_same_as_relativedelta():
    """reviews.scheduling._months is cached (the nightly recompute asks it of the same days again and again): every
    day of a leap year, forward and back, is what relativedelta gives, and asking again is answered from the
    cache."""
    from dateutil.relativedelta import relativedelta

    from reviews.scheduling import _months

    days = [date(2028, 1, 1) + timedelta(days=n) for n in range(366)]
    for months in (-6, -3, 1, 3, 6, 12):
        assert [_months(d, months) for d in days] == [d + relativedelta(months=months) for d in days]
    before = _months.cache_info().hits
    assert _months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert _months.cache_info().hits == before + 1
