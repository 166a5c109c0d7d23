"""The scheduling policy as a table: each row is a case a clinician could state, with the dates it must give."""

from datetime import date

import pytest

from reviews.scheduling import (
    DEFAULT_POLICY,
    Policy,
    ReviewDue,
    ReviewFacts,
    next_review,
    review_status,
)

D = date
ENTRY = D(2026, 1, 15)

CASES = [
    # (name, facts, kind, target, deadline, rules)
    (
        "first review 3 months, deadline 6",
        ReviewFacts(entry_date=ENTRY),
        "strategic_review",
        D(2026, 4, 15),
        D(2026, 7, 15),
        ("first_review",),
    ),
    (
        "month end falls back to the last day",
        ReviewFacts(entry_date=D(2025, 11, 30)),
        "strategic_review",
        D(2026, 2, 28),
        D(2026, 5, 30),
        ("first_review",),
    ),
    (
        "leap day: 30 Nov 2027 + 3 months is 29 Feb 2028",
        ReviewFacts(entry_date=D(2027, 11, 30)),
        "strategic_review",
        D(2028, 2, 29),
        D(2028, 5, 30),
        ("first_review",),
    ),
    (
        "later reviews six-monthly, deadline = target",
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 4, 1),)),
        "strategic_review",
        D(2026, 10, 1),
        D(2026, 10, 1),
        ("later_review",),
    ),
    (
        "the last of several reviews counts",
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 10, 1), D(2026, 4, 1))),
        "strategic_review",
        D(2027, 4, 1),
        D(2027, 4, 1),
        ("later_review",),
    ),
    (
        "31 Aug + 6 months = 28 Feb",
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 8, 31),)),
        "strategic_review",
        D(2027, 2, 28),
        D(2027, 2, 28),
        ("later_review",),
    ),
    (
        "§1.6 factor: first deadline becomes its target",
        ReviewFacts(entry_date=ENTRY, earlier_review_factors=frozenset({"complex_needs"})),
        "strategic_review",
        D(2026, 4, 15),
        D(2026, 4, 15),
        ("first_review", "earlier_review_factor"),
    ),
    (
        "§1.6 factor: later review within 3 months",
        ReviewFacts(
            entry_date=ENTRY,
            completed_reviews=(D(2026, 4, 1),),
            earlier_review_factors=frozenset({"transition"}),
        ),
        "strategic_review",
        D(2026, 7, 1),
        D(2026, 7, 1),
        ("later_review", "earlier_review_factor"),
    ),
    (
        "adherence before any review: within 28 days",
        ReviewFacts(entry_date=ENTRY, adherence_deteriorated_on=D(2026, 2, 3)),
        "strategic_review",
        D(2026, 3, 3),
        D(2026, 3, 3),
        ("first_review", "deteriorating_adherence"),
    ),
    (
        "adherence after the last review: within 28 days",
        ReviewFacts(
            entry_date=ENTRY, completed_reviews=(D(2026, 4, 1),), adherence_deteriorated_on=D(2026, 6, 10)
        ),
        "strategic_review",
        D(2026, 7, 8),
        D(2026, 7, 8),
        ("later_review", "deteriorating_adherence"),
    ),
    (
        "adherence before the last review is spent",
        ReviewFacts(
            entry_date=ENTRY, completed_reviews=(D(2026, 4, 1),), adherence_deteriorated_on=D(2026, 3, 10)
        ),
        "strategic_review",
        D(2026, 10, 1),
        D(2026, 10, 1),
        ("later_review",),
    ),
    (
        "adherence found at the last review itself calls a re-review",
        ReviewFacts(
            entry_date=ENTRY, completed_reviews=(D(2026, 4, 1),), adherence_deteriorated_on=D(2026, 4, 1)
        ),
        "strategic_review",
        D(2026, 4, 29),
        D(2026, 4, 29),
        ("later_review", "deteriorating_adherence"),
    ),
    (
        "adherence late in the window does not push the first target later",
        ReviewFacts(entry_date=ENTRY, adherence_deteriorated_on=D(2026, 4, 1)),
        "strategic_review",
        D(2026, 4, 15),
        D(2026, 4, 29),
        ("first_review", "deteriorating_adherence"),
    ),
    (
        "agreed earlier date stands",
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 4, 1),), agreed_next_date=D(2026, 6, 1)),
        "strategic_review",
        D(2026, 6, 1),
        D(2026, 6, 1),
        ("later_review", "agreed_date"),
    ),
    (
        "agreed later date without §1.5 justification is refused",
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 4, 1),), agreed_next_date=D(2027, 1, 1)),
        "strategic_review",
        D(2026, 10, 1),
        D(2026, 10, 1),
        ("later_review", "agreed_date_refused"),
    ),
    (
        "agreed later date with §1.5 justification stands",
        ReviewFacts(
            entry_date=ENTRY,
            completed_reviews=(D(2026, 4, 1),),
            agreed_next_date=D(2027, 1, 1),
            extension_justified=True,
        ),
        "strategic_review",
        D(2027, 1, 1),
        D(2027, 1, 1),
        ("later_review", "agreed_extension"),
    ),
    (
        "justified extension capped at 12 months",
        ReviewFacts(
            entry_date=ENTRY,
            completed_reviews=(D(2026, 4, 1),),
            agreed_next_date=D(2027, 9, 1),
            extension_justified=True,
        ),
        "strategic_review",
        D(2027, 4, 1),
        D(2027, 4, 1),
        ("later_review", "agreed_date_capped"),
    ),
    (
        "factor still pulls a justified extension earlier",
        ReviewFacts(
            entry_date=ENTRY,
            completed_reviews=(D(2026, 4, 1),),
            agreed_next_date=D(2027, 1, 1),
            extension_justified=True,
            earlier_review_factors=frozenset({"not_benefiting"}),
        ),
        "strategic_review",
        D(2026, 7, 1),
        D(2026, 7, 1),
        ("later_review", "agreed_extension", "earlier_review_factor"),
    ),
    (
        "adherence pulls an agreed date earlier",
        ReviewFacts(
            entry_date=ENTRY,
            completed_reviews=(D(2026, 4, 1),),
            agreed_next_date=D(2026, 9, 1),
            adherence_deteriorated_on=D(2026, 5, 1),
        ),
        "strategic_review",
        D(2026, 5, 29),
        D(2026, 5, 29),
        ("later_review", "agreed_date", "deteriorating_adherence"),
    ),
    (
        "after exit: first check-up at 14 days",
        ReviewFacts(entry_date=ENTRY, exit_date=D(2026, 6, 1)),
        "recovery_check_up",
        D(2026, 6, 15),
        D(2026, 6, 29),
        ("recovery_check_up",),
    ),
    (
        "after exit: next check-up is the first not held",
        ReviewFacts(entry_date=ENTRY, exit_date=D(2026, 6, 1), completed_check_ups=(1, 2)),
        "recovery_check_up",
        D(2026, 12, 1),
        D(2026, 12, 15),
        ("recovery_check_up",),
    ),
    (
        "after exit: 12-month check-up",
        ReviewFacts(entry_date=ENTRY, exit_date=D(2026, 6, 1), completed_check_ups=(1, 2, 3)),
        "recovery_check_up",
        D(2027, 6, 1),
        D(2027, 6, 15),
        ("recovery_check_up",),
    ),
    (
        "after exit factors and adherence no longer apply",
        ReviewFacts(
            entry_date=ENTRY,
            exit_date=D(2026, 6, 1),
            earlier_review_factors=frozenset({"transition"}),
            adherence_deteriorated_on=D(2026, 5, 30),
        ),
        "recovery_check_up",
        D(2026, 6, 15),
        D(2026, 6, 29),
        ("recovery_check_up",),
    ),
]


@pytest.mark.parametrize(
    ("name", "facts", "kind", "target", "deadline", "rules"), CASES, ids=[c[0] for c in CASES]
)
def test_policy_table(name, facts, kind, target, deadline, rules):
    due = next_review(facts)
    assert (due.kind, due.target, due.deadline, due.rules) == (kind, target, deadline, rules)
    assert len(due.reasons) == len(rules)


def test_nothing_is_due_once_every_check_up_was_held():
    assert (
        next_review(ReviewFacts(entry_date=ENTRY, exit_date=D(2026, 6, 1), completed_check_ups=(1, 2, 3, 4)))
        is None
    )


def test_reasons_cite_the_guidance_and_read_as_sentences():
    due = next_review(
        ReviewFacts(
            entry_date=ENTRY,
            earlier_review_factors=frozenset({"complex_needs"}),
            adherence_deteriorated_on=D(2026, 2, 3),
        )
    )
    assert due.reasons == (
        "First strategic review within 3 months of entry on 15 Jan 2026 (§1.3); no later than 15 Jul 2026.",
        "Earlier review: complex or co-morbid needs recorded (§1.6), so the review is due by 15 Apr 2026.",
        "Adherence deteriorated on 3 Feb 2026: re-review within 28 days, by 3 Mar 2026 (App. C 1).",
    )


def test_a_refused_agreed_date_says_why():
    due = next_review(
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 4, 1),), agreed_next_date=D(2027, 1, 1))
    )
    assert "did not record clear, continuing benefit" in due.reasons[-1]
    assert "(§1.5)" in due.reasons[-1]


INCONSISTENT = [
    (ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 1, 1),)), "completed_reviews"),
    (ReviewFacts(entry_date=ENTRY, exit_date=D(2026, 1, 1)), "exit_date"),
    (
        ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 4, 1),), agreed_next_date=D(2026, 4, 1)),
        "agreed_next_date",
    ),
    (ReviewFacts(entry_date=ENTRY, agreed_next_date=D(2026, 4, 1)), "agreed_next_date"),
    (
        ReviewFacts(entry_date=ENTRY, earlier_review_factors=frozenset({"bad_weather"})),
        "earlier_review_factors",
    ),
    (ReviewFacts(entry_date=ENTRY, adherence_deteriorated_on=D(2025, 12, 1)), "adherence_deteriorated_on"),
    (ReviewFacts(entry_date=ENTRY, exit_date=D(2026, 6, 1), completed_check_ups=(5,)), "completed_check_ups"),
    (ReviewFacts(entry_date=ENTRY, completed_check_ups=(1,)), "completed_check_ups"),
]


@pytest.mark.parametrize(("facts", "fact"), INCONSISTENT, ids=[f for _, f in INCONSISTENT])
def test_inconsistent_facts_raise_naming_the_fact(facts, fact):
    with pytest.raises(ValueError, match=f"^{fact}:"):
        next_review(facts)


DUE = ReviewDue("strategic_review", D(2026, 4, 15), D(2026, 7, 15), ())
STATUSES = [
    (D(2026, 3, 31), "upcoming"),
    (D(2026, 4, 1), "due_soon"),
    (D(2026, 4, 15), "due_soon"),
    (D(2026, 4, 16), "due"),
    (D(2026, 7, 15), "due"),
    (D(2026, 7, 16), "overdue"),
]


@pytest.mark.parametrize(("today", "status"), STATUSES, ids=[str(t) for t, _ in STATUSES])
def test_status_on_a_given_day(today, status):
    assert review_status(DUE, today=today) == status


def test_settings_can_override_a_policy_number():
    policy = Policy.from_overrides({"review_interval_months": 4})
    due = next_review(ReviewFacts(entry_date=ENTRY, completed_reviews=(D(2026, 4, 1),)), policy=policy)
    assert due.target == D(2026, 8, 1)
    assert DEFAULT_POLICY.review_interval_months == 6


@pytest.mark.parametrize(
    "overrides", [{"review_intervals": 6}, {"review_interval_months": 0}, {"due_soon_days": "14"}]
)
def test_a_bad_policy_override_fails_loudly(overrides):
    with pytest.raises(ValueError, match="REVIEW_POLICY"):
        Policy.from_overrides(overrides)
