"""The scheduling policy, rule by rule (docs/design.md, "Review scheduling policy"), as tables: each row is a case
a clinician could state, with the dates and rule codes it must give. Month ends and leap days are rows too."""

import ast
import dataclasses
from datetime import date
from pathlib import Path

import pytest

from reviews import scheduling
from reviews.scheduling import (
    CHECK_UP_OFFSETS,
    DEFAULT_POLICY,
    EARLIER_REVIEW_FACTORS,
    Policy,
    ReviewDue,
    ReviewFacts,
    next_review,
    review_status,
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


def test_the_policy_module_imports_only_the_standard_library_and_dateutil():
    tree = ast.parse(Path(scheduling.__file__).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "collections", "dataclasses", "datetime", "typing", "dateutil"}, (
        imported
    )
