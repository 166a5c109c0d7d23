"""Invariants of the scheduling policy (docs/design.md, "Review scheduling policy") as Hypothesis properties over
any consistent facts: the promises of §1.3, §1.5, §1.6 and App. C 1 that must hold whatever the dates."""

import dataclasses
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from reviews.scheduling import (
    EARLIER_REVIEW_FACTORS,
    EXIT_REASONS,
    NO_CHECK_UP_EXITS,
    RECOVERY_CHECK_UP,
    STRATEGIC_REVIEW,
    ReviewFacts,
    next_review,
    nothing_owed_reason,
    owed,
    review_status,
)
from reviews.scheduling_missed_doses import missed_dose_deterioration, missed_dose_runs, safety_events

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


# === The second edition (docs/design.md, rule 3b and after) =================================================

NOT_CHECKED_UP = sorted(NO_CHECK_UP_EXITS)


def _day(draw, first, last):
    """A date from first to last inclusive, often soon after first."""
    span = (last - first).days
    return first + timedelta(days=draw(st.integers(0, span) | st.integers(0, min(span, 120))))


def _between(draw, first, last):
    return [_day(draw, first, last) for _ in range(draw(st.integers(0, 3)))]


@st.composite
def second_edition(draw, first_edition=any_facts):
    """Any consistent first-edition facts, with any consistent second-edition facts added: transitions (since
    entry and since the last review) and element ends from entry to exit (or 900 days on), some of the element
    check-ups held, any exit reason, and early signs of relapse at a check-up that could have found them."""
    facts = draw(first_edition)
    entry, exit_date = facts.entry_date, facts.exit_date
    last = exit_date or max((entry, *facts.completed_reviews)) + timedelta(days=900)
    since = max((entry, *facts.completed_reviews))
    ends = _between(draw, entry, last)
    held = [end for end in ends if draw(st.booleans())]
    relapse = None
    if draw(st.booleans()):
        if exit_date is not None and (facts.completed_check_ups or held):
            relapse = _day(draw, exit_date, exit_date + timedelta(days=400))
        elif exit_date is None and held:
            relapse = _day(draw, min(held), min(held) + timedelta(days=400))
    return replace(
        facts,
        transitions=(*_between(draw, entry, last), *_between(draw, min(since, last), last)),
        exit_reason=None if exit_date is None else draw(st.none() | st.sampled_from(EXIT_REASONS)),
        element_ends=tuple(ends),
        element_check_ups=tuple(held),
        relapse_risk_on=relapse,
    )


FIRST_EDITION_FIELDS = {f.name for f in dataclasses.fields(ReviewFacts)} - {
    "transitions",
    "exit_reason",
    "element_ends",
    "element_check_ups",
    "relapse_risk_on",
}


def first_edition_of(facts):
    return ReviewFacts(**{name: getattr(facts, name) for name in FIRST_EDITION_FIELDS})


def of_kind(items, kind):
    return [due for due in items if due.kind == kind]


@PROPERTY
@given(second_edition())
def test_the_next_review_is_the_first_item_owed(facts):
    items = owed(facts)
    assert next_review(facts) == (items[0] if items else None)


@PROPERTY
@given(second_edition())
def test_items_owed_are_in_order_of_target_and_each_target_is_not_after_its_deadline(facts):
    items = owed(facts)
    assert [due.target for due in items] == sorted(due.target for due in items)
    assert all(due.target <= due.deadline for due in items)


@PROPERTY
@given(second_edition())
def test_no_second_edition_fact_makes_the_strategic_review_or_a_check_up_later(facts):
    """Rules 3b and 7c only bring dates earlier, and 7b adds items beside the others: the first edition's
    strategic review or check-up is still owed, no later, unless rule 7 (amended) says nothing is owed."""
    before = next_review(first_edition_of(facts))
    items = owed(facts)
    if facts.exit_reason in NO_CHECK_UP_EXITS:
        assert items == ()
        return
    if before is None:
        assert of_kind(items, RECOVERY_CHECK_UP) == []
        return
    (after,) = of_kind(items, before.kind)
    assert not later(after, before)


@PROPERTY
@given(second_edition())
def test_every_item_owed_gives_its_reasons_each_citing_a_paragraph(facts):
    for due in owed(facts):
        assert len(due.reasons) == len(due.rules) >= 1
        assert all("§" in reason or "App." in reason for reason in due.reasons), due.reasons


@PROPERTY
@given(second_edition(ended_episode_facts()), st.sampled_from(NOT_CHECKED_UP))
def test_nothing_is_ever_owed_after_death_or_a_transfer_and_the_reason_says_why(facts, reason):
    facts = replace(facts, exit_reason=reason)
    assert owed(facts) == () and next_review(facts) is None
    assert nothing_owed_reason(facts).endswith("no recovery check-ups are owed (§1.7).")


@PROPERTY
@given(second_edition())
def test_no_item_hides_another(facts):
    """One check-up for every element end not held that ended while the episode stayed open, and the strategic
    review while it is open: none of them left out because another is earlier."""
    items = owed(facts)
    if facts.exit_reason in NO_CHECK_UP_EXITS:
        return
    unheld = set(facts.element_ends) - set(facts.element_check_ups)
    expected = {end for end in unheld if facts.exit_date is None or end < facts.exit_date}
    assert sorted(due.element_end for due in of_kind(items, "element_check_up")) == sorted(expected)
    assert len(of_kind(items, STRATEGIC_REVIEW)) == (facts.exit_date is None)
    assert len(of_kind(items, RECOVERY_CHECK_UP)) <= 1


@PROPERTY
@given(second_edition(open_episode_facts()))
def test_every_transition_since_the_last_review_brings_the_deadline_within_three_months_of_it(facts):
    (due,) = of_kind(owed(facts), STRATEGIC_REVIEW)
    since = max(facts.completed_reviews, default=None)
    for day in (*facts.transitions, *facts.element_ends):
        if day > facts.entry_date and (since is None or day >= since):
            assert due.deadline <= day + relativedelta(months=3)


@PROPERTY
@given(second_edition(ended_episode_facts()))
def test_after_early_signs_of_relapse_the_next_check_up_is_within_14_days(facts):
    if facts.relapse_risk_on is None:
        return
    by = facts.relapse_risk_on + timedelta(days=14)
    for due in of_kind(owed(facts), RECOVERY_CHECK_UP):
        assert due.target <= by and due.deadline <= by


@PROPERTY
@given(second_edition())
def test_nothing_owed_always_comes_with_a_reason_and_only_then(facts):
    reason = nothing_owed_reason(facts)
    assert (reason is None) == bool(owed(facts))
    assert reason is None or "(§1.7)" in reason


@PROPERTY
@given(second_edition(), st.randoms(use_true_random=False))
def test_the_order_in_which_second_edition_dates_are_listed_does_not_matter(facts, rng: random.Random):
    def shuffled(days):
        return tuple(rng.sample(days, len(days)))

    again = replace(
        facts,
        transitions=shuffled(facts.transitions),
        element_ends=shuffled(facts.element_ends),
        element_check_ups=shuffled(facts.element_check_ups),
    )
    assert owed(again) == owed(facts)


# --- Rule 4b: runs of missed doses across reports -------------------------------------------------------------

missed_days = st.lists(st.dates(date(2026, 1, 1), date(2026, 3, 31)), max_size=40)


@PROPERTY
@given(missed_days, st.randoms(use_true_random=False))
def test_runs_do_not_depend_on_how_the_days_are_split_between_reports(missed, rng: random.Random):
    """Two reports, overlapping or not, in any order, give the runs of their days together."""
    first = [day for day in missed if rng.random() < 0.5]
    second = [day for day in missed if day not in first or rng.random() < 0.3]
    assert missed_dose_runs([*second, *first]) == missed_dose_runs(missed)


@PROPERTY
@given(missed_days)
def test_runs_cover_every_missed_day_once_consecutive_and_apart(missed):
    runs = missed_dose_runs(missed)
    covered = [run.first + timedelta(days=n) for run in runs for n in range(run.length)]
    assert covered == sorted(set(missed))
    assert all(run.last - run.first == timedelta(days=run.length - 1) for run in runs)
    assert all(b.first - a.last > timedelta(days=1) for a, b in zip(runs, runs[1:], strict=False))


@PROPERTY
@given(missed_days, st.dates(date(2025, 12, 1), date(2026, 4, 30)))
def test_deterioration_is_the_first_day_since_on_which_three_doses_in_a_row_had_been_missed(missed, since):
    days = set(missed)
    three_in_a_row = [
        day
        for day in sorted(days)
        if day >= since and {day - timedelta(days=1), day - timedelta(days=2)} <= days
    ]
    assert missed_dose_deterioration(missed, since) == min(three_in_a_row, default=None)
    assert safety_events(missed) == [
        day
        for day in sorted(days)
        if {day - timedelta(days=n) for n in (1, 2)} <= days and day - timedelta(days=3) not in days
    ]
