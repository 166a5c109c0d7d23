"""Workload forecast: strategic reviews and check-ups (after exit, or after an element of treatment) falling due in each of the next 12 weeks, per team,
against the reviews a week the team's senior practitioners can hold (set by the manager). The guidance asks
commissioners to resource reviews; this is the number to take to them.

A review falls in the week of its target date. Reviews already past their target are the backlog, shown
before week 1: they have to be held too, on top of the weeks to come. The items owed are counted by team, kind
and week from the counts kept between requests (reviews.dashboards.owed_counts), not over every item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from django.db.models import Q

from recovery_reviews.access import teams_for_user
from reviews.dashboards.owed_counts import LATER, PAST, WEEKS, owed_counts
from reviews.scheduling import KINDS, STRATEGIC_REVIEW


@dataclass
class TeamForecast:
    team_id: int
    name: str
    capacity: int
    reviews: list[int] = field(default_factory=lambda: [0] * WEEKS)
    check_ups: list[int] = field(default_factory=lambda: [0] * WEEKS)
    backlog_reviews: int = 0
    backlog_check_ups: int = 0

    @cached_property  # read per cell by the page: worked out once, after the counts are in
    def weeks(self) -> list[dict]:
        return [
            {
                "reviews": r,
                "check_ups": c,
                "total": r + c,
                "over": r + c > self.capacity,
            }
            for r, c in zip(self.reviews, self.check_ups, strict=True)
        ]

    @property
    def total(self) -> int:
        return sum(self.reviews) + sum(self.check_ups)

    @property
    def weeks_over_capacity(self) -> int:
        return sum(week["over"] for week in self.weeks)

    @property
    def backlog(self) -> int:
        return self.backlog_reviews + self.backlog_check_ups

    @property
    def weeks_to_clear_backlog(self) -> float | None:
        """At capacity, with nothing else falling due: how long the backlog alone would take."""
        return self.backlog / self.capacity if self.capacity else None


def week_starts(today: date) -> list[date]:
    """Week 1 starts today; each week is seven days."""
    return [today + timedelta(days=7 * i) for i in range(WEEKS)]


def workload_forecast(user, *, today: date, team_id: int | None = None) -> list[TeamForecast]:
    teams = teams_for_user(user)
    if team_id:
        teams = teams.filter(pk=team_id)
    forecasts = {
        team.pk: TeamForecast(team.pk, team.name, team.weekly_review_capacity)
        for team in teams.only("pk", "name", "weekly_review_capacity")
    }
    counts = owed_counts(
        user,
        today=today,
        by=("team_id", "kind", "week"),
        # The scope already holds the user's teams: a list of them here would only lengthen the statement.
        where=Q(kind__in=KINDS, week__lt=LATER) & (Q(team_id=team_id) if team_id else Q()),
    )
    for (team, kind, week), n in counts.items():
        forecast = forecasts.get(team)
        if forecast is None:  # items of a team the user's scope reaches but teams_for_user does not list
            continue
        is_review = kind == STRATEGIC_REVIEW
        if week == PAST:
            if is_review:
                forecast.backlog_reviews += n
            else:
                forecast.backlog_check_ups += n
            continue
        (forecast.reviews if is_review else forecast.check_ups)[week] += n
    return sorted(forecasts.values(), key=lambda f: f.name)


def combined(forecasts: list[TeamForecast]) -> TeamForecast:
    """All the teams shown, added together (capacity too)."""
    total = TeamForecast(0, "All these teams", sum(f.capacity for f in forecasts))
    for forecast in forecasts:
        total.backlog_reviews += forecast.backlog_reviews
        total.backlog_check_ups += forecast.backlog_check_ups
        for week in range(WEEKS):
            total.reviews[week] += forecast.reviews[week]
            total.check_ups[week] += forecast.check_ups[week]
    return total
