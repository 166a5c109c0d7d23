"""Managers' reports, each figure checked against a hand-built data set: first-review timeliness (§1.3), the
workload forecast and capacity, the unmet-need register and its CSV (§2.14), TOP outcomes."""

import csv
import io
from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from dateutil.relativedelta import relativedelta
from django.db.models import F
from django.urls import reverse

from patients.models import ExitReason, TopStage, TreatmentEpisode
from recovery_reviews.models import Team
from reviews.dashboards.timeliness import AddMonths
from reviews.models import ReviewStatus, UnmetNeedCategory, UnmetNeedKind
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import (
    EpisodeFactory,
    PatientFactory,
    StrategicReviewFactory,
    TopAssessmentFactory,
    UnmetNeedFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 5, 1)


def entered(on, keyworker, *, reviewed_on=None, awaiting_on=None, **extra):
    episode = EpisodeFactory(
        patient=PatientFactory(team=keyworker.team, keyworker=keyworker), entry_date=on, **extra
    )
    if reviewed_on:
        StrategicReviewFactory(
            episode=episode,
            held_on=reviewed_on,
            status=ReviewStatus.COMPLETED,
            patient_took_part=True,
            completed_on=reviewed_on,
        )
    if awaiting_on:
        StrategicReviewFactory(episode=episode, held_on=awaiting_on, status=ReviewStatus.AWAITING_PATIENT)
    episode_schedule_refresh(episode)
    return episode


# --- First-review timeliness -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [date(2026, 1, 31), date(2025, 8, 31), date(2024, 2, 29), date(2025, 12, 31), date(2026, 3, 15)],
)
def test_months_are_added_in_the_database_as_the_policy_adds_them(patient, entry):
    """31 Aug + 6 months is 28 Feb on SQLite and PostgreSQL alike, as dateutil counts it."""
    episode = EpisodeFactory(patient=patient, entry_date=entry)
    for months in (1, 3, 6, 12):
        stored = (
            TreatmentEpisode.objects.filter(pk=episode.pk)
            .annotate(limit=AddMonths(F("entry_date"), months))
            .values_list("limit", flat=True)
            .get()
        )
        stored = date.fromisoformat(stored) if isinstance(stored, str) else stored
        assert stored == entry + relativedelta(months=months)


@pytest.fixture
def entrants(alice, olga):
    """North's entrants over four quarters (2025 Q3 to 2026 Q2), and one in South."""
    return {
        # 2025 Q3
        "month_end": entered(
            date(2025, 8, 31), alice, reviewed_on=date(2026, 2, 28)
        ),  # 6-month limit is 28 Feb
        "on_time": entered(date(2025, 7, 15), alice, reviewed_on=date(2025, 9, 1)),
        "never": entered(date(2025, 7, 20), alice),
        "left_early": entered(
            date(2025, 9, 10), alice, exit_date=date(2025, 10, 1), exit_reason=ExitReason.DROPPED_OUT
        ),
        "without_patient": entered(date(2025, 7, 5), alice, awaiting_on=date(2025, 9, 1)),  # does not count
        # 2025 Q4
        "late_in_time_for_6": entered(date(2025, 12, 20), alice),
        # 2026 Q1
        "prompt": entered(date(2026, 1, 10), alice, reviewed_on=date(2026, 3, 1)),
        "recent": entered(date(2026, 3, 1), alice),
        # South
        "south": entered(date(2025, 8, 1), olga, reviewed_on=date(2025, 10, 1)),
    }


def test_timeliness_counts_met_missed_in_time_and_left_per_quarter(client, mona, entrants):
    client.force_login(mona)
    response = client.get(reverse("reviews:timeliness"), {"quarters": 4})
    report = response.context["report"]
    assert report.quarters == [date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1)]
    q3 = report.by_quarter[date(2025, 7, 1)]
    assert q3.entrants == 5
    assert (q3.met[3], q3.missed(3), q3.pending[3], q3.left[3]) == (1, 3, 0, 1)
    assert (q3.met[6], q3.missed(6), q3.pending[6], q3.left[6]) == (2, 2, 0, 1)
    assert (q3.share(3), q3.share(6)) == (1 / 4, 2 / 4)
    q4 = report.by_quarter[date(2025, 10, 1)]
    assert (q4.entrants, q4.met[3], q4.missed(3), q4.pending[6], q4.share(3), q4.share(6)) == (
        1,
        0,
        1,
        1,
        0,
        None,
    )
    q1 = report.by_quarter[date(2026, 1, 1)]
    assert (q1.entrants, q1.met[3], q1.pending[3], q1.share(3), q1.share(6)) == (2, 1, 1, 1.0, 1.0)
    assert report.by_quarter[date(2026, 4, 1)].entrants == 0
    assert report.teams == [(mona.managed_teams.get().pk, "North")]  # South's entrant is not Mona's

    page = response.content.decode()
    assert "25%" in page and "50%" in page
    chart = response.context["chart"]
    assert chart["labels"] == ["2025 Q3", "2025 Q4", "2026 Q1", "2026 Q2"]
    assert chart["series"][0]["data"] == [25.0, 0.0, 100.0, None]
    assert chart["series"][1]["data"] == [50.0, None, 100.0, None]


def test_timeliness_by_team_for_a_manager_of_two(client, mona, other_team, entrants):
    mona.managed_teams.add(other_team)
    client.force_login(mona)
    report = client.get(reverse("reviews:timeliness"), {"quarters": 4}).context["report"]
    assert [name for _, name in report.teams] == ["North", "South"]
    south = report.by_team[other_team.pk]
    assert (south.entrants, south.share(3), south.share(6)) == (1, 1.0, 1.0)
    assert report.by_quarter[date(2025, 7, 1)].entrants == 6


def test_the_first_review_is_the_first_completed_with_the_patient(alice, sam):
    """Involvement recorded later completes the review on that date (§2.4): that is the date that counts."""
    episode = entered(date(2025, 7, 1), alice, awaiting_on=date(2025, 9, 20))
    review = episode.strategic_reviews.get()
    review.status, review.patient_involved_on, review.completed_on = (
        ReviewStatus.COMPLETED,
        date(2025, 10, 3),
        date(2025, 10, 3),
    )
    review.patient_took_part = True
    review.save()
    episode_schedule_refresh(episode)
    assert TreatmentEpisode.objects.get(pk=episode.pk).first_review_completed_on == date(2025, 10, 3)


# --- Workload forecast -----------------------------------------------------------------------------------------


@pytest.fixture
def workload(alice, team):
    """First reviews fall due 3 months after entry; a check-up 14 days after exit (§1.7)."""
    team.weekly_review_capacity = 1
    team.save()
    for entry in (
        date(2026, 2, 1),  # target 1 May: week 1 (today)
        date(2026, 2, 7),  # 7 May: week 1
        date(2026, 2, 8),  # 8 May: week 2
        date(2026, 4, 23),  # 23 Jul: week 12, the last day shown
        date(2026, 4, 24),  # 24 Jul: beyond the 12 weeks
        date(2026, 1, 20),  # 20 Apr: already past target, the backlog
        date(2025, 10, 1),  # overdue: backlog
    ):
        entered(entry, alice)
    entered(date(2025, 6, 1), alice, exit_date=date(2026, 4, 30), exit_reason=ExitReason.COMPLETED_DRUG_FREE)


def test_the_forecast_counts_reviews_and_check_ups_per_week_against_capacity(client, mona, workload, team):
    client.force_login(mona)
    response = client.get(reverse("reviews:forecast"))
    (north,) = response.context["forecasts"]
    assert north.reviews == [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert north.check_ups == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # 14 May
    assert (north.backlog_reviews, north.backlog_check_ups) == (2, 0)
    assert [w["over"] for w in north.weeks][:3] == [True, True, False]
    assert north.weeks_over_capacity == 2
    assert response.context["weeks"][0] == TODAY and response.context["weeks"][11] == date(2026, 7, 17)
    assert response.context["chart"]["series"][2]["data"] == [1] * 12
    assert f'data-testid="capacity-form-{team.pk}"' in response.content.decode()


def test_a_manager_sets_a_teams_capacity_and_it_is_logged(client, mona, team):
    client.force_login(mona)
    response = client.post(reverse("reviews:capacity_set", args=[team.pk]), {"weekly_review_capacity": "12"})
    assert response.status_code == 302
    assert Team.objects.get(pk=team.pk).weekly_review_capacity == 12
    entry = LogEntry.objects.get_for_object(team).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == mona and entry.changes_dict["weekly_review_capacity"] == ["10", "12"]
    page = client.get(response["Location"]).content.decode()
    assert "North: capacity set to 12 reviews a week." in page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "Enter a whole number of reviews a week, such as 12."),
        ("-3", "Capacity cannot be negative: enter 0 or more."),
        ("900", "That is more than any team can hold: enter at most 500 reviews a week."),
        ("", "Enter how many reviews the team can hold in a week, such as 12."),
    ],
)
def test_bad_capacity_is_refused_with_its_reason_and_nothing_changes(client, mona, team, value, message):
    client.force_login(mona)
    response = client.post(
        reverse("reviews:capacity_set", args=[team.pk]), {"weekly_review_capacity": value}, follow=True
    )
    assert f"North: capacity not changed. {message}" in response.content.decode()
    assert Team.objects.get(pk=team.pk).weekly_review_capacity == 10


def test_only_the_teams_manager_sets_its_capacity(client, sam, mona, team, other_team):
    client.force_login(sam)
    assert (
        client.post(
            reverse("reviews:capacity_set", args=[team.pk]), {"weekly_review_capacity": "3"}
        ).status_code
        == 403
    )
    client.force_login(mona)
    response = client.post(
        reverse("reviews:capacity_set", args=[other_team.pk]), {"weekly_review_capacity": "3"}
    )
    assert response.status_code == 404
    assert Team.objects.get(pk=team.pk).weekly_review_capacity == 10
    assert Team.objects.get(pk=other_team.pk).weekly_review_capacity == 10


# --- Unmet needs -----------------------------------------------------------------------------------------------


@pytest.fixture
def needs(alice, olga):
    north = entered(date(2025, 6, 1), alice)
    south = entered(date(2025, 6, 1), olga)
    rehab = {"category": UnmetNeedCategory.SETTING, "kind": UnmetNeedKind.RESIDENTIAL_REHAB}
    housing = {"category": UnmetNeedCategory.SETTING, "kind": UnmetNeedKind.HOUSING}
    keywork = {"category": UnmetNeedCategory.INTENSITY, "kind": UnmetNeedKind.MORE_FREQUENT_KEYWORKING}
    for on, kind in (
        (date(2026, 1, 10), rehab),
        (date(2026, 2, 10), rehab),
        (date(2026, 4, 10), rehab),
        (date(2026, 4, 11), keywork),
        (date(2025, 3, 31), housing),  # before the default period
    ):
        UnmetNeedFactory(episode=north, recorded_on=on, recorded_by=alice, **kind)
    UnmetNeedFactory(episode=south, recorded_on=date(2026, 2, 1), recorded_by=olga, **housing)


def test_the_register_counts_needs_by_kind_and_quarter(client, mona, needs):
    client.force_login(mona)
    response = client.get(reverse("reviews:unmet_needs"))
    register = response.context["register"]
    period = response.context["period"]
    assert (period["start"], period["end"]) == (date(2025, 4, 1), TODAY)  # the quarter a year ago to today
    assert register.quarters[-3:] == [date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1)]
    rows = {row.kind: (row.category_label, row.by_quarter[-2:], row.total) for row in register.rows}
    assert rows == {
        "more_frequent_keyworking": ("Intensity", [0, 1], 1),
        "residential_rehab": ("Setting", [2, 1], 3),
    }
    assert register.total == 4 and register.teams == [(mona.managed_teams.get().pk, "North", 4)]
    assert "Residential rehabilitation was needed" in response.content.decode()


def test_the_commissioners_csv_is_the_counts_without_patients(client, mona, other_team, needs):
    mona.managed_teams.add(other_team)
    client.force_login(mona)
    response = client.get(reverse("reviews:unmet_needs_csv"), {"start": "2026-01-01", "end": "2026-04-30"})
    assert 'filename="unmet-needs-2026-01-01-to-2026-04-30.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows == [
        {"Quarter": "2026 Q1", "Quarter starts": "2026-01-01", "Team": "North", "Category": "Setting",
         "Unmet need": "Residential rehabilitation", "Count": "2"},
        {"Quarter": "2026 Q1", "Quarter starts": "2026-01-01", "Team": "South", "Category": "Setting",
         "Unmet need": "Stable housing", "Count": "1"},
        {"Quarter": "2026 Q2", "Quarter starts": "2026-04-01", "Team": "North", "Category": "Intensity",
         "Unmet need": "More frequent keyworking", "Count": "1"},
        {"Quarter": "2026 Q2", "Quarter starts": "2026-04-01", "Team": "North", "Category": "Setting",
         "Unmet need": "Residential rehabilitation", "Count": "1"},
    ]  # fmt: skip
    assert "Pat" not in response.content.decode() and "description" not in response.content.decode().lower()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"start": "2026-04-01", "end": "2026-01-01"},
            "The start of the period is after its end: swap the dates.",
        ),
        ({"start": "2015-01-01", "end": "2026-01-01"}, "Choose a period of five years or less."),
        ({"start": "yesterday"}, "Enter a valid date."),
    ],
)
def test_a_bad_period_is_refused_with_its_reason(client, mona, needs, params, message):
    client.force_login(mona)
    for name in ("reviews:unmet_needs", "reviews:unmet_needs_csv"):
        response = client.get(reverse(name), params)
        assert response.status_code == 400
        assert message in response.content.decode()


# --- Outcomes --------------------------------------------------------------------------------------------------


def top(episode, on, stage, **answers):
    return TopAssessmentFactory(episode=episode, assessed_on=on, stage=stage, **answers)


def test_outcomes_compare_entry_with_the_latest_review_top(client, mona, alice, team):
    better = entered(date(2025, 6, 1), alice)
    top(better, date(2025, 6, 1), TopStage.START, opiates_week1=7, opiates_week2=7, opiates_week3=7,
        opiates_week4=7, psychological_health=6, acute_housing_problem=True)  # fmt: skip
    top(better, date(2025, 9, 1), TopStage.REVIEW, opiates_week1=5, psychological_health=3)  # not the latest
    top(better, date(2026, 3, 1), TopStage.REVIEW, opiates_week1=0, opiates_week2=0, opiates_week3=1,
        opiates_week4=1, psychological_health=12, acute_housing_problem=False)  # fmt: skip
    worse = entered(date(2025, 7, 1), alice)
    top(worse, date(2025, 7, 1), TopStage.START, opiates_week1=1, opiates_week2=1, opiates_week3=1,
        opiates_week4=1, psychological_health=10)  # fmt: skip
    top(worse, date(2026, 1, 1), TopStage.REVIEW, opiates_week1=3, opiates_week2=3, opiates_week3=3,
        opiates_week4=3, psychological_health=10)  # fmt: skip
    no_review_yet = entered(date(2026, 3, 1), alice)
    top(no_review_yet, date(2026, 3, 1), TopStage.START, psychological_health=2)
    ended = entered(date(2025, 1, 1), alice, exit_date=date(2026, 1, 1), exit_reason=ExitReason.DROPPED_OUT)
    top(ended, date(2025, 1, 1), TopStage.START, psychological_health=1)
    top(ended, date(2025, 6, 1), TopStage.REVIEW, psychological_health=20)

    client.force_login(mona)
    response = client.get(reverse("reviews:outcomes"))
    report = response.context["report"]
    assert (report.patients, report.without_review_top) == (2, 1)
    domains = {d.domain: d for d in report.domains}
    items = {o.item.key: o for d in report.domains for o in d.items}
    opiates = items["opiates_days_used"]
    assert (opiates.pairs, opiates.mean_at_entry, opiates.mean_latest) == (2, 16.0, 7.0)  # (28+4)/2, (2+12)/2
    assert (opiates.better, opiates.worse, opiates.better_share) == (1, 1, 0.5)
    mood = items["psychological_health"]
    assert (mood.pairs, mood.mean_at_entry, mood.mean_latest, mood.better, mood.same) == (2, 8.0, 11.0, 1, 1)
    housing = items["acute_housing_problem"]
    assert (housing.pairs, housing.better) == (1, 1)  # unanswered by the second patient: left out, not "no"
    assert items["alcohol_days_used"].pairs == 0
    drugs = domains["drug_alcohol_use"]
    assert (drugs.patients, drugs.improved, drugs.deteriorated) == (2, 1, 1)
    health = domains["health"]
    assert (health.patients, health.improved, health.unchanged) == (2, 1, 1)
    assert f"in {team.name} with a TOP at entry and at a review" in response.content.decode()


def test_outcomes_for_a_team_outside_scope_are_refused(client, mona, other_team):
    client.force_login(mona)
    response = client.get(reverse("reviews:outcomes"), {"team": other_team.pk})
    assert response.status_code == 400
    assert "That team is not one of yours" in response.content.decode()


# --- Queries do not grow with rows -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # (after a change, and again): a kept figure made stale by a change is read (1), computed and kept (2
        # more), then read (reviews.dashboards.kept); a manager's teams are read once a request
        ("/reviews/timeliness/", (8, 6)),
        ("/reviews/forecast/", (7, 7)),
        ("/reviews/unmet-needs/", (9, 7)),
        ("/reviews/unmet-needs.csv", (6, 4)),
        ("/reviews/outcomes/", (9, 7)),
    ],
)
def test_report_pages_take_the_same_queries_for_few_or_many_records(client, mona, alice, url, expected):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n):
        for i in range(n):
            episode = entered(date(2025, 7, 1) + timedelta(days=i), alice, reviewed_on=date(2025, 10, 1))
            top(episode, episode.entry_date, TopStage.START, psychological_health=5)
            top(episode, date(2025, 10, 1), TopStage.REVIEW, psychological_health=9)
            UnmetNeedFactory(episode=episode, recorded_on=date(2026, 1, 5), recorded_by=alice)

    client.force_login(mona)
    add(2)
    client.get(url)
    counts = []
    for n in (1, 30):
        add(n)
        for _ in expected:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
    assert counts == [*expected, *expected]
