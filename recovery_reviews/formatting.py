"""How dates are written in sentences: messages, errors, timeline entries and the names of records. One
format, the one pages show (settings.DATE_FORMAT "j M Y"): 1 Mar 2026, the day without a leading zero.

English month names, whatever the locale, as reviews.scheduling._d writes them (that module is pure Python and
keeps its own copy; tests/recovery_reviews/test_formatting.py checks the two agree)."""

from datetime import date, datetime

from django.utils import timezone

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_short(d: date) -> str:
    """1 Mar: a day whose year the sentence already gives."""
    return f"{d.day} {_MONTH_NAMES[d.month - 1]}"


def day(d: date) -> str:
    """1 Mar 2026."""
    return f"{day_short(d)} {d.year}"


def day_or_blank(d: date | None) -> str:
    """1 Mar 2026, or nothing for no date: what the pages' |date writes (tests/recovery_reviews/test_formatting.py
    holds the two equal), for the lists written in Python."""
    return day(d) if d else ""


def day_and_time(moment: datetime) -> str:
    """1 Mar 2026 at 14:05, in the service's local time (an aware datetime from the database is in UTC)."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{day(moment)} at {moment:%H:%M}"
