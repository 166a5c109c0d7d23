"""Invariants of the scheduling policy, as Hypothesis properties over any consistent facts."""

from dataclasses import replace
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from reviews.scheduling import EARLIER_REVIEW_FACTORS, ReviewFacts, next_review, review_status

STATUS_ORDER = ["upcoming", "due_soon", "due", "overdue"]


@st.composite
def open_episode_facts(draw):
    entry = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    gaps = draw(st.lists(st.integers(1, 400), max_size=4))
    reviews, day = [], entry
    for gap in gaps:
        day += timedelta(days=gap)
        reviews.append(day)
    factors = draw(st.frozensets(st.sampled_from(sorted(EARLIER_REVIEW_FACTORS))))
    adherence = draw(st.none() | st.integers(0, 900).map(lambda n: entry + timedelta(days=n)))
    agreed, justified = None, False
    if reviews and draw(st.booleans()):
        agreed = reviews[-1] + timedelta(days=draw(st.integers(1, 600)))
        justified = draw(st.booleans())
    return ReviewFacts(
        entry_date=entry,
        completed_reviews=tuple(reviews),
        earlier_review_factors=factors,
        adherence_deteriorated_on=adherence,
        agreed_next_date=agreed,
        extension_justified=justified,
    )


@settings(max_examples=300)
@given(open_episode_facts())
def test_target_is_never_after_deadline(facts):
    due = next_review(facts)
    assert due.target <= due.deadline


@settings(max_examples=300)
@given(open_episode_facts())
def test_the_first_deadline_is_never_beyond_six_months_of_entry(facts):
    facts = replace(facts, completed_reviews=(), agreed_next_date=None, extension_justified=False)
    assert next_review(facts).deadline <= facts.entry_date + relativedelta(months=6)


@settings(max_examples=300)
@given(open_episode_facts(), st.sampled_from(sorted(EARLIER_REVIEW_FACTORS)))
def test_a_circumstance_never_makes_a_date_later(facts, factor):
    before = next_review(facts)
    after = next_review(replace(facts, earlier_review_factors=facts.earlier_review_factors | {factor}))
    assert after.target <= before.target and after.deadline <= before.deadline


@settings(max_examples=300)
@given(open_episode_facts(), st.integers(0, 900))
def test_an_adherence_event_never_makes_a_date_later(facts, days):
    before = next_review(replace(facts, adherence_deteriorated_on=None))
    after = next_review(replace(facts, adherence_deteriorated_on=facts.entry_date + timedelta(days=days)))
    assert after.target <= before.target and after.deadline <= before.deadline


@settings(max_examples=300)
@given(open_episode_facts())
def test_without_a_justified_extension_no_review_is_more_than_six_months_after_the_last(facts):
    facts = replace(facts, extension_justified=False)
    if facts.completed_reviews:
        assert next_review(facts).deadline <= max(facts.completed_reviews) + relativedelta(months=6)


@settings(max_examples=300)
@given(open_episode_facts())
def test_no_review_is_ever_more_than_twelve_months_after_the_last(facts):
    if facts.completed_reviews:
        assert next_review(facts).deadline <= max(facts.completed_reviews) + relativedelta(months=12)


@settings(max_examples=200)
@given(open_episode_facts(), st.integers(-400, 400), st.integers(1, 200))
def test_status_only_moves_forward_as_days_pass(facts, offset, step):
    due = next_review(facts)
    today = due.target + timedelta(days=offset)
    earlier, later = review_status(due, today), review_status(due, today + timedelta(days=step))
    assert STATUS_ORDER.index(earlier) <= STATUS_ORDER.index(later)


@settings(max_examples=200)
@given(
    st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    st.integers(0, 400),
    st.sets(st.integers(1, 4), max_size=3),
)
def test_check_ups_follow_exit_in_order_and_never_before_it(entry, length, done):
    facts = ReviewFacts(
        entry_date=entry, exit_date=entry + timedelta(days=length), completed_check_ups=tuple(sorted(done))
    )
    due = next_review(facts)
    assert due.kind == "recovery_check_up"
    assert facts.exit_date < due.target < due.deadline
