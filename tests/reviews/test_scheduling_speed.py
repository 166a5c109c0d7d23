"""What the nightly recompute's shortcuts in reviews/scheduling.py must not change: last_review remembered on the
instance, ReviewDue.with_dates built without dataclasses.replace, and day formatting remembered."""

import dataclasses
import pickle
from datetime import date, timedelta

from reviews.scheduling import ReviewDue, ReviewFacts, _d, owed

ENTRY = date(2025, 1, 10)
REVIEWS = (date(2025, 4, 2), date(2025, 10, 1), date(2025, 7, 3))


def test_the_remembered_last_review_follows_the_reviews_after_replace():
    facts = ReviewFacts(entry_date=ENTRY, completed_reviews=REVIEWS)
    assert facts.last_review == date(2025, 10, 1)
    later = dataclasses.replace(facts, completed_reviews=(*REVIEWS, date(2026, 3, 30)))
    assert later.last_review == date(2026, 3, 30)
    assert dataclasses.replace(facts, completed_reviews=()).last_review is None
    assert dataclasses.replace(
        later, earlier_review_factors=frozenset({"complex_needs"})
    ).last_review == date(2026, 3, 30)
    assert owed(later)[0].rules == ("later_review",) and "30 Mar 2026" in owed(later)[0].reasons[0]


def test_equality_hash_repr_and_fields_of_review_facts_ignore_the_remembered_last_review():
    asked, fresh = (ReviewFacts(entry_date=ENTRY, completed_reviews=REVIEWS) for _ in range(2))
    assert asked.last_review is not None
    assert asked == fresh and hash(asked) == hash(fresh) and repr(asked) == repr(fresh)
    assert "last_review" not in {f.name for f in dataclasses.fields(ReviewFacts)}
    assert "last_review" not in repr(asked)
    assert dataclasses.asdict(asked) == dataclasses.asdict(fresh)
    assert {asked: 1}[fresh] == 1
    assert pickle.loads(pickle.dumps(asked)) == fresh


def test_with_dates_builds_what_replace_would():
    due = ReviewDue("element_check_up", ENTRY, ENTRY + timedelta(days=14), ("one",), ("a",), ENTRY)
    moved = due.with_dates(ENTRY - timedelta(days=1), ENTRY, "two", "b")
    assert moved == dataclasses.replace(
        due, target=ENTRY - timedelta(days=1), deadline=ENTRY, reasons=("one", "two"), rules=("a", "b")
    )
    assert moved.element_end == ENTRY and type(moved) is ReviewDue
    assert due.reasons == ("one",) and due.rules == ("a",)


def test_remembered_day_formatting_is_the_same_for_every_day_of_a_leap_year():
    day = date(2024, 1, 1)
    while day.year == 2024:
        assert _d(day) == _d.__wrapped__(day)
        day += timedelta(days=1)
    assert (_d(date(2024, 2, 29)), _d(date(2024, 12, 31)), _d(date(2024, 1, 1))) == (
        "29 Feb 2024",
        "31 Dec 2024",
        "1 Jan 2024",
    )
