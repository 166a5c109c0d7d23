"""Invariants of the scheduling policy (docs/design.md, "Review scheduling policy") as Hypothesis properties over
any consistent facts: the promises of §1.3, §1.5, §1.6 and App. C 1 that must hold whatever the dates."""

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from reviews.scheduling import EARLIER_REVIEW_FACTORS, ReviewFacts, next_review, review_status

STATUS_ORDER = ("upcoming", "due_soon", "due", "overdue")
PROPERTY = settings(max_examples=250, deadline=None)

days = st.integers(0, 900).map(lambda n: timedelta(days=n))
factor_codes = st.sampled_from(sorted(EARLIER_REVIEW_FACTORS))


@st.composite
def open_episode_facts(draw, *, reviews=True):
    """An episode in treatment: reviews at any intervals (several on one day too), any circumstances, an
    adherence event anywhere after entry (before the last review too), and any agreed date after the last."""
    entry = draw(st.dates(date(2020, 1, 1), date(2035, 12, 31)))
    completed, day = [], entry
    for gap in draw(st.lists(st.integers(0, 400), max_size=4 if reviews else 0)):
        day += timedelta(days=gap)
        completed.append(day)
    agreed = None
    if completed and draw(st.booleans()):
        agreed = completed[-1] + timedelta(days=draw(st.integers(1, 600)))
    return ReviewFacts(
        entry_date=entry,
        completed_reviews=tuple(draw(st.permutations(completed))),
        earlier_review_factors=draw(st.frozensets(factor_codes)),
        adherence_deteriorated_on=draw(st.none() | days.map(lambda d: entry + d)),
        agreed_next_date=agreed,
        extension_justified=draw(st.booleans()),
    )


@st.composite
def ended_episode_facts(draw):
    facts = draw(open_episode_facts())
    exit_date = max((facts.entry_date, *facts.completed_reviews)) + draw(days)
    held = draw(st.sets(st.integers(1, 4)))
    return replace(facts, exit_date=exit_date, completed_check_ups=tuple(held))


any_facts = open_episode_facts() | ended_episode_facts()


def later(a, b):
    """True when `a` is later than `b` in target or deadline."""
    return a.target > b.target or a.deadline > b.deadline


@PROPERTY
@given(open_episode_facts(reviews=False))
def test_the_first_review_is_never_due_beyond_six_months_of_entry(facts):
    due = next_review(facts)
    assert due.rules[0] == "first_review"
    assert due.target <= facts.entry_date + relativedelta(months=3)
    assert due.deadline <= facts.entry_date + relativedelta(months=6)


@PROPERTY
@given(any_facts)
def test_the_target_is_never_after_the_deadline(facts):
    due = next_review(facts)
    if due is not None:
        assert due.target <= due.deadline


@PROPERTY
@given(open_episode_facts())
def test_the_next_review_always_falls_after_the_last_review_and_entry(facts):
    due = next_review(facts)
    assert due.target > max((facts.entry_date, *facts.completed_reviews))


@PROPERTY
@given(open_episode_facts(), factor_codes)
def test_a_circumstance_calling_for_earlier_review_never_makes_a_date_later(facts, factor):
    before = next_review(facts)
    after = next_review(replace(facts, earlier_review_factors=facts.earlier_review_factors | {factor}))
    assert not later(after, before)


@PROPERTY
@given(open_episode_facts(), days)
def test_an_adherence_event_never_makes_a_date_later(facts, since_entry):
    before = next_review(replace(facts, adherence_deteriorated_on=None))
    after = next_review(replace(facts, adherence_deteriorated_on=facts.entry_date + since_entry))
    assert not later(after, before)


@PROPERTY
@given(open_episode_facts(), days)
def test_an_adherence_event_since_the_last_review_brings_the_deadline_within_28_days(facts, since):
    on = max((facts.entry_date, *facts.completed_reviews)) + since
    due = next_review(replace(facts, adherence_deteriorated_on=on))
    assert due.deadline <= on + timedelta(days=28)


@PROPERTY
@given(open_episode_facts().filter(lambda facts: facts.completed_reviews))
def test_without_a_justified_extension_no_review_is_more_than_six_months_after_the_last(facts):
    due = next_review(replace(facts, extension_justified=False))
    assert due.deadline <= max(facts.completed_reviews) + relativedelta(months=6)


@PROPERTY
@given(open_episode_facts().filter(lambda facts: facts.completed_reviews))
def test_no_review_is_ever_more_than_twelve_months_after_the_last(facts):
    due = next_review(facts)
    assert due.deadline <= max(facts.completed_reviews) + relativedelta(months=12)


@PROPERTY
@given(open_episode_facts().filter(lambda facts: facts.completed_reviews and facts.earlier_review_factors))
def test_while_a_circumstance_is_current_a_later_review_is_within_three_months_of_the_last(facts):
    due = next_review(facts)
    assert due.deadline <= max(facts.completed_reviews) + relativedelta(months=3)


@PROPERTY
@given(any_facts, st.randoms(use_true_random=False))
def test_the_order_in_which_reviews_and_check_ups_are_listed_does_not_matter(facts, rng: random.Random):
    shuffled = replace(
        facts,
        completed_reviews=tuple(rng.sample(facts.completed_reviews, len(facts.completed_reviews))),
        completed_check_ups=tuple(rng.sample(facts.completed_check_ups, len(facts.completed_check_ups))),
    )
    assert next_review(shuffled) == next_review(facts)


@PROPERTY
@given(any_facts)
def test_every_rule_that_shaped_the_date_gives_a_reason_citing_the_guidance(facts):
    due = next_review(facts)
    if due is not None:
        assert len(due.reasons) == len(due.rules) >= 1
        assert all("§" in reason or "App. C 1" in reason for reason in due.reasons)


@PROPERTY
@given(ended_episode_facts())
def test_after_exit_only_check_ups_are_due_each_later_than_the_last_until_none_remain(facts):
    held, previous = set(), None
    for _ in range(4):
        due = next_review(replace(facts, completed_check_ups=tuple(held)))
        assert due.kind == "recovery_check_up"
        assert facts.exit_date < due.target and due.deadline == due.target + timedelta(days=14)
        assert previous is None or due.target > previous.target
        held.add(len(held) + 1)
        previous = due
    assert next_review(replace(facts, completed_check_ups=tuple(held))) is None


@PROPERTY
@given(any_facts, st.integers(-500, 500), st.integers(1, 500))
def test_status_only_moves_forward_through_upcoming_due_soon_due_and_overdue(facts, offset, step):
    due = next_review(facts)
    if due is None:
        return
    today = due.target + timedelta(days=offset)
    now, then = review_status(due, today=today), review_status(due, today=today + timedelta(days=step))
    assert STATUS_ORDER.index(now) <= STATUS_ORDER.index(then)


@PROPERTY
@given(any_facts)
def test_status_is_upcoming_then_due_soon_then_due_then_overdue_around_the_dates(facts):
    due = next_review(facts)
    if due is None:
        return
    one_day = timedelta(days=1)
    soon = due.target - timedelta(days=14)
    assert review_status(due, today=soon - one_day) == "upcoming"
    assert review_status(due, today=soon) == "due_soon"
    assert review_status(due, today=due.target) == "due_soon"
    assert review_status(due, today=due.deadline + one_day) == "overdue"
    if due.deadline > due.target:
        assert review_status(due, today=due.target + one_day) == "due"
        assert review_status(due, today=due.deadline) == "due"


@PROPERTY
@given(open_episode_facts(), st.dates(date(2000, 1, 1), date(2040, 1, 1)))
def test_a_review_dated_before_entry_is_always_refused_naming_the_fact(facts, completed):
    if completed >= facts.entry_date:
        completed = facts.entry_date - timedelta(days=1)
    with pytest.raises(ValueError, match="^completed_reviews: "):
        next_review(replace(facts, completed_reviews=(*facts.completed_reviews, completed)))
