"""Shared by the tests of the patient record."""

from datetime import date

import pytest

from reviews.services.schedule import episode_schedule_refresh


@pytest.fixture
def open_episode(episode):
    """North's patient in treatment since 1 March 2026, their first review scheduled (target 1 June)."""
    episode.entry_date = date(2026, 3, 1)
    episode.save()
    episode_schedule_refresh(episode)
    return episode


def report_with_run(episode, by, **more):
    """A pharmacy report of 10-23 April 2026 with three missed doses in a row (20-22 April): a safety event."""
    from patients import services

    return services.pharmacy_report_record(
        episode=episode,
        pharmacy_name="Boots",
        period_start=date(2026, 4, 10),
        period_end=date(2026, 4, 23),
        doses_due=14,
        supervised_doses_taken=11,
        take_home_doses_collected=0,
        missed_dates=[date(2026, 4, 20), date(2026, 4, 21), date(2026, 4, 22)],
        by=by,
        **more,
    )
