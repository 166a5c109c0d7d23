"""The kept counts of owed items (reviews.dashboards.owed_counts; docs/design.md, Figures kept between requests) are
always the count over the items: random additions, removals, edits, bulk updates, patients moved between teams
and keyworkers, rebuilds and days passing, compared after every step with the live count, for every grouping the
pages use and for users of different scope. A change rolled back leaves no trace; a rebuild absorbs the changes."""

import io
import random
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Q

from patients.models import Patient, TreatmentEpisode
from recovery_reviews.models import Role
from reviews.dashboards import owed_counts as kept
from reviews.dashboards.forecast import workload_forecast
from reviews.dashboards.status import status_counts_by_keyworker, status_counts_by_team
from reviews.models import (
    AwaitingPatientEpisode,
    OwedCount,
    OwedCountChange,
    OwedCountRebuild,
    OwedItem,
    ReviewStatus,
    StrategicReview,
)
from reviews.scheduling import KINDS
from reviews.tasks import rebuild_owed_counts
from tests.support.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 6, 1)
GROUPINGS = [
    ("team_id", "status"),
    ("keyworker_id", "status"),
    ("team_id", "keyworker_id", "status"),
    ("team_id", "kind", "week"),
    ("team_id", "kind", "status", "week"),
]
KIND_CHOICES = [*KINDS, "record_error"]
OPEN_STATUSES = [ReviewStatus.DRAFT, ReviewStatus.AWAITING_PATIENT]  # a completed review needs its date


@pytest.fixture
def service(team, other_team, alice, olga, mona, sam):
    """Two teams, three keyworkers, twelve open episodes; the manager manages both teams."""
    mona.managed_teams.add(other_team)
    bob = UserFactory(username="bob", role=Role.KEYWORKER, team=team)
    episodes = []
    for i in range(12):
        keyworker = (alice, bob, olga)[i % 3]
        patient = PatientFactory(team=keyworker.team, keyworker=keyworker)
        episodes.append(EpisodeFactory(patient=patient))
    return {"episodes": episodes, "keyworkers": [alice, bob, olga], "users": [mona, sam, alice, olga, bob]}


def _random_item(rng, episode) -> OwedItem:
    target = TODAY + timedelta(days=rng.randint(-120, 150))
    kind = rng.choice(KIND_CHOICES)
    return OwedItem(
        episode=episode,
        kind=kind,
        target=target,
        deadline=target + timedelta(days=rng.choice([0, 1, 14, 90])),
        element_end=target - timedelta(days=14) if kind == "element_check_up" else None,
    )


def _step(rng, service, today):
    """One random change of the kind the application (or an administrator) makes."""
    episodes, keyworkers = service["episodes"], service["keyworkers"]
    items = list(OwedItem.objects.values_list("pk", flat=True))
    action = rng.choice(["add", "add", "remove", "edit", "bulk", "move", "rolled back", "rebuild"])
    if action == "add" or not items:
        OwedItem.objects.bulk_create(
            [_random_item(rng, rng.choice(episodes)) for _ in range(rng.randint(1, 4))]
        )
    elif action == "remove":
        OwedItem.objects.filter(pk__in=rng.sample(items, min(len(items), rng.randint(1, 3)))).delete()
    elif action == "edit":
        item = OwedItem.objects.get(pk=rng.choice(items))
        item.target = item.target + timedelta(days=rng.randint(-30, 30))
        item.deadline = item.target + timedelta(days=rng.choice([0, 14]))
        item.save()
    elif action == "bulk":
        shift = timedelta(days=rng.randint(1, 20))
        OwedItem.objects.filter(pk__in=rng.sample(items, min(len(items), 5))).update(
            target=F("target") + shift, deadline=F("deadline") + shift
        )
    elif action == "move":
        keyworker = rng.choice(keyworkers)
        patient = rng.choice(episodes).patient
        Patient.objects.filter(pk=patient.pk).update(team=keyworker.team, keyworker=keyworker)
    elif action == "rolled back":
        with pytest.raises(RuntimeError), transaction.atomic():
            OwedItem.objects.bulk_create([_random_item(rng, rng.choice(episodes))])
            OwedItem.objects.filter(pk__in=items[:2]).delete()
            raise RuntimeError("the change fails half-way")
    else:
        kept.rebuild(today=today)
    return action


def _assert_exact(service, today):
    # A manager of both teams, a senior practitioner of one; keyworkers (counted live: the reference itself).
    for user in service["users"]:
        for by in GROUPINGS:
            assert kept.owed_counts(user, today=today, by=by) == kept.live_counts(user, today=today, by=by), (
                user,
                by,
            )
        where = Q(kind__in=KINDS, week__lt=kept.WEEKS)
        assert kept.owed_counts(user, today=today, by=("team_id", "week"), where=where) == kept.live_counts(
            user, today=today, by=("team_id", "week"), where=where
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_counts_equal_the_live_count_after_every_random_change(service, seed):
    rng = random.Random(seed)
    today = TODAY
    actions = set()
    for step in range(60):
        if step % 20 == 19:  # a day passes: the kept rows are as of yesterday and must not be read
            today += timedelta(days=rng.randint(1, 10))
        with time_machine.travel(today, tick=False):
            actions.add(_step(rng, service, today))
            _assert_exact(service, today)
    assert {"add", "remove", "edit", "bulk", "move", "rolled back", "rebuild"} <= actions
    assert OwedItem.objects.exists()


def test_a_rebuild_absorbs_the_changes_and_records_its_day(service):
    rng = random.Random(7)
    OwedItem.objects.bulk_create([_random_item(rng, episode) for episode in service["episodes"]])
    # On SQLite each insert is followed by the copy of its team (reviews 0007): a -1 and a +1 more for each.
    assert sum(OwedCountChange.objects.values_list("sign", flat=True)) == 12
    assert not OwedCount.objects.exists()
    assert kept.rebuild(today=TODAY) == 12
    assert not OwedCountChange.objects.exists()
    assert sum(OwedCount.objects.values_list("n", flat=True)) == 12
    assert OwedCountRebuild.objects.get().as_of == TODAY
    assert kept.rebuild(today=TODAY, force=False) is None  # already as of today: nothing to do


def test_a_change_rolled_back_leaves_no_change_behind(service):
    with pytest.raises(RuntimeError), transaction.atomic():
        OwedItem.objects.bulk_create([_random_item(random.Random(1), service["episodes"][0])])
        raise RuntimeError("crash mid-change")
    assert not OwedCountChange.objects.exists()


def test_counts_of_another_day_are_rebuilt_before_they_are_read(service, mona):
    episode = service["episodes"][0]
    OwedItem.objects.create(episode=episode, kind="strategic_review", target=TODAY, deadline=TODAY)
    kept.rebuild(today=TODAY - timedelta(days=3))
    counts = kept.owed_counts(mona, today=TODAY, by=("status",))
    assert counts == {("due_soon",): 1}  # as of today, not "upcoming" as of three days before
    assert OwedCountRebuild.objects.get().as_of == TODAY


def test_the_dashboard_and_the_forecast_read_the_kept_counts(service, mona, team):
    rng = random.Random(11)
    OwedItem.objects.bulk_create(
        [_random_item(rng, episode) for episode in service["episodes"] for _ in "ab"]
    )
    kept.rebuild(today=TODAY)
    OwedItem.objects.bulk_create([_random_item(rng, episode) for episode in service["episodes"][:5]])
    live = kept.live_counts(mona, today=TODAY, by=("team_id", "status"))
    rows = status_counts_by_team(mona, today=TODAY)
    assert {
        (row.id, status): n
        for row in rows
        for status, n in row.counts.items()
        if n and status != "awaiting_patient"
    } == live
    by_keyworker = status_counts_by_keyworker(mona, team_id=team.pk, today=TODAY)
    live_kw = kept.live_counts(mona, today=TODAY, by=("keyworker_id", "status"), where=Q(team_id=team.pk))
    assert {
        (row.id, s): n for row in by_keyworker for s, n in row.counts.items() if n and s != "awaiting_patient"
    } == live_kw
    forecasts = {f.team_id: f for f in workload_forecast(mona, today=TODAY)}
    live_weeks = kept.live_counts(mona, today=TODAY, by=("team_id", "kind", "week"), where=Q(kind__in=KINDS))
    for (team_id, kind, week), n in live_weeks.items():
        forecast = forecasts[team_id]
        if week == kept.PAST:
            assert (
                forecast.backlog_reviews if kind == "strategic_review" else forecast.backlog_check_ups
            ) >= n
        elif week < kept.WEEKS:
            weeks = forecast.reviews if kind == "strategic_review" else forecast.check_ups
            assert weeks[week] >= n
    assert sum(f.total + f.backlog for f in forecasts.values()) == sum(
        n for (_, _, week), n in live_weeks.items() if week < kept.WEEKS
    )


def _awaiting_live() -> set[tuple]:
    episodes = TreatmentEpisode.objects.filter(
        next_review_target__isnull=False, strategic_reviews__status=ReviewStatus.AWAITING_PATIENT
    )
    return set(episodes.values_list("pk", "team_id", "keyworker_id").distinct())


def test_the_episodes_awaiting_the_patient_are_kept_through_every_change(service, sam):
    """reviews 0012's rows: an episode owing a review with a review awaiting the patient, with its team and
    keyworker, whatever changes the reviews' statuses, the episode's next review or the patient's team."""
    rng = random.Random(5)
    episodes, keyworkers = service["episodes"], service["keyworkers"]
    for step in range(80):
        episode = rng.choice(episodes)
        action = rng.choice(["review", "status", "delete", "schedule", "move"])
        reviews = list(StrategicReview.objects.filter(episode=episode))
        if action == "review" or not reviews:
            StrategicReviewFactory(episode=episode, status=rng.choice(OPEN_STATUSES))
        elif action == "status":
            StrategicReview.objects.filter(pk=rng.choice(reviews).pk).update(status=rng.choice(OPEN_STATUSES))
        elif action == "delete":
            rng.choice(reviews).delete()
        elif action == "schedule":
            target = rng.choice([None, TODAY + timedelta(days=rng.randint(-30, 90))])
            TreatmentEpisode.objects.filter(pk=episode.pk).update(next_review_target=target)
        else:
            keyworker = rng.choice(keyworkers)
            Patient.objects.filter(pk=episode.patient_id).update(team=keyworker.team, keyworker=keyworker)
        kept_rows = set(AwaitingPatientEpisode.objects.values_list("episode_id", "team_id", "keyworker_id"))
        assert kept_rows == _awaiting_live(), (step, action)
    assert kept_rows  # the walk reached episodes that wait


def test_the_rebuild_command_and_the_nightly_task_count_as_of_the_day(service, mona):
    rng = random.Random(3)
    OwedItem.objects.bulk_create([_random_item(rng, episode) for episode in service["episodes"]])
    out = io.StringIO()
    call_command("rebuild_owed_counts", "--today", "2026-05-30", stdout=out)
    assert "12 owed items counted as of 2026-05-30" in out.getvalue()
    assert rebuild_owed_counts() == 12  # the task: as of today (1 Jun), since the counts were of 30 May
    assert rebuild_owed_counts() == 0  # already as of today: nothing done
    assert OwedCountRebuild.objects.get().as_of == TODAY
    assert kept.owed_counts(mona, today=TODAY, by=("status",)) == kept.live_counts(
        mona, today=TODAY, by=("status",)
    )


def test_the_task_folds_the_changes_in_when_many_wait(service, monkeypatch):
    rng = random.Random(4)
    kept.rebuild(today=TODAY)
    monkeypatch.setattr(
        kept, "FOLD_CHANGES_OVER", 20
    )  # change rows (SQLite writes three an insert, see above)
    OwedItem.objects.bulk_create([_random_item(rng, episode) for episode in service["episodes"][:3]])
    assert rebuild_owed_counts() == 0  # today's counts and few changes: nothing to do
    assert OwedCountChange.objects.exists()
    OwedItem.objects.bulk_create(
        [_random_item(rng, episode) for episode in service["episodes"] for _ in "ab"]
    )
    assert rebuild_owed_counts() == 27  # more than 20 changes waiting: folded in
    assert not OwedCountChange.objects.exists()
