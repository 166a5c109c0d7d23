"""The managers' kept figures (reviews.dashboards.kept; docs/design.md, Figures kept between requests): after any
random run of changes, every kept figure read equals the live computation; a figure computed while a change
commits is never taken as valid; a rolled-back change leaves the kept figures right; the rebuild command.
The same tests run on PostgreSQL (marked `postgres`, through the module's parametrised database fixture)."""

import io
import random
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from patients.models import ExitReason, Patient, TopAssessment, TopStage, TreatmentEpisode
from recovery_reviews.models import Role, Team
from reviews.dashboards import kept
from reviews.dashboards.outcomes import kept_outcomes, live_top_outcomes, top_outcomes
from reviews.dashboards.timeliness import first_review_timeliness, live_first_review_timeliness
from reviews.dashboards.unmet_needs import kept_unmet_needs, live_unmet_need_counts, unmet_need_counts
from reviews.kept_models import KeptFigure, KeptGeneration
from reviews.models import UnmetNeed, UnmetNeedCategory, UnmetNeedKind
from tests.support.factories import (
    EpisodeFactory,
    PatientFactory,
    TeamFactory,
    TopAssessmentFactory,
    UnmetNeedFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 5, 1)
KINDS = [
    (UnmetNeedCategory.SETTING, UnmetNeedKind.RESIDENTIAL_REHAB),
    (UnmetNeedCategory.SETTING, UnmetNeedKind.INPATIENT_DETOX),
    (UnmetNeedCategory.INTERVENTION, UnmetNeedKind.PSYCHOSOCIAL),
    (UnmetNeedCategory.INTERVENTION, UnmetNeedKind.HOUSING),
]


def _day(rng, start=date(2023, 6, 1), end=date(2026, 6, 30)) -> date:
    return start + timedelta(days=rng.randrange((end - start).days))


class World:
    """Three teams, their keyworkers, a manager of all of them and one of one team; changes picked at random."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.teams = [TeamFactory(name=name) for name in ("North", "South", "East")]
        self.keyworkers = [UserFactory(role=Role.KEYWORKER, team=team) for team in self.teams]
        self.manager = UserFactory(role=Role.MANAGER, team=None)
        self.manager.managed_teams.add(*self.teams)
        self.one_team = UserFactory(role=Role.SENIOR_PRACTITIONER, team=self.teams[1])
        for _ in range(12):
            self.entrant()

    def entrant(self):
        i = self.rng.randrange(len(self.teams))
        patient = PatientFactory(team=self.teams[i], keyworker=self.keyworkers[i])
        episode = EpisodeFactory(patient=patient, entry_date=_day(self.rng))
        TopAssessmentFactory(episode=episode, psychological_health=self.rng.randrange(21))

    def episode(self):
        return self.rng.choice(list(TreatmentEpisode.objects.all()))

    def change(self):
        """One random change of anything a kept figure depends on, by the ORM or by a bulk update."""
        rng, episode = self.rng, self.episode()
        what = rng.randrange(14)
        later = episode.entry_date + timedelta(days=rng.randrange(1, 300))
        episodes = TreatmentEpisode.objects.filter(pk=episode.pk)
        if what == 0:
            self.entrant()
        elif what == 1:  # a first review completed, or back-dated
            episodes.update(first_review_completed_on=later)
        elif what == 2:
            episodes.update(first_review_completed_on=None)
        elif what == 3:  # an exit, or an exit undone
            if episode.exit_date is None:
                episodes.update(exit_date=later, exit_reason=ExitReason.COMPLETED_DRUG_FREE)
            else:
                episodes.update(exit_date=None, exit_reason="")
        elif what == 4:
            day = _day(rng)
            episodes.update(entry_date=min(day, episode.exit_date) if episode.exit_date else day)
        elif what == 5:  # the patient moves team; the episode follows by trigger (patients 0004)
            i = rng.randrange(len(self.teams))
            Patient.objects.filter(pk=episode.patient_id).update(
                team=self.teams[i], keyworker=self.keyworkers[i]
            )
        elif what == 6:
            category, kind = rng.choice(KINDS)
            UnmetNeedFactory(episode=episode, category=category, kind=kind, recorded_on=_day(rng))
        elif what == 7 and UnmetNeed.objects.exists():
            UnmetNeed.objects.filter(pk=UnmetNeed.objects.order_by("?").first().pk).delete()
        elif what == 8 and UnmetNeed.objects.exists():
            need = UnmetNeed.objects.order_by("?").first()
            category, kind = rng.choice(KINDS)
            need.category, need.kind, need.recorded_on, need.episode = category, kind, _day(rng), episode
            need.save()
        elif what == 9:
            stage = rng.choice([TopStage.START, TopStage.REVIEW, TopStage.REVIEW])
            TopAssessmentFactory(
                episode=episode, stage=stage, assessed_on=later, psychological_health=rng.randrange(21)
            )
        elif what == 10 and TopAssessment.objects.exists():
            top = TopAssessment.objects.order_by("?").first()
            top.psychological_health, top.physical_health = rng.randrange(21), rng.choice([None, 5, 15])
            top.assessed_on = top.assessed_on + timedelta(days=rng.randrange(-30, 30))
            top.save()
        elif what == 11 and TopAssessment.objects.exists():  # marked entered in error: no longer counted
            TopAssessment.objects.filter(pk=TopAssessment.objects.order_by("?").first().pk).update(
                entered_in_error_at=timezone.now(),
                entered_in_error_by=self.manager,
                entered_in_error_reason="x",
            )
        elif what == 12:
            Team.objects.filter(pk=rng.choice(self.teams).pk).update(
                name=f"Team {rng.randrange(100)} {rng.randrange(10**6)}"
            )
        elif what == 13:
            TopAssessment._base_manager.filter(episode=episode).delete()

    def assert_exact(self):
        """Every figure the pages read, kept, equals the live computation: each scope, team, span and day."""
        rng = self.rng
        for user in (self.manager, self.one_team):
            for team_id in (None, *(t.pk for t in self.teams)):
                today = rng.choice([TODAY, TODAY, TODAY + timedelta(days=rng.randrange(1, 400))])
                quarters = rng.choice([4, 8, 12])
                args = {"today": today, "quarters": quarters, "team_id": team_id}
                assert first_review_timeliness(user, **args) == live_first_review_timeliness(user, **args)
                start = rng.choice([date(2025, 4, 1), _day(rng)])
                period = {
                    "start": start,
                    "end": max(start, rng.choice([TODAY, _day(rng)])),
                    "team_id": team_id,
                }
                assert unmet_need_counts(user, **period) == live_unmet_need_counts(user, **period)
                assert top_outcomes(user, team_id=team_id) == live_top_outcomes(user, team_id=team_id)


@pytest.mark.parametrize("seed", range(4))
def test_kept_figures_equal_the_live_ones_after_random_changes(seed):
    world = World(seed)
    for _ in range(25):
        for _ in range(world.rng.randrange(1, 4)):
            world.change()
        world.assert_exact()
        world.assert_exact()  # read back, kept


@pytest.mark.postgres
@pytest.mark.parametrize("seed", range(2))
def test_kept_figures_equal_the_live_ones_after_random_changes_on_postgresql(seed):
    assert connection.vendor == "postgresql"
    test_kept_figures_equal_the_live_ones_after_random_changes(seed)


def test_a_kept_figure_is_read_back_without_computing():
    world = World(7)
    first = top_outcomes(world.manager)
    figures = KeptFigure.objects.filter(report="outcomes").count()
    assert figures == len(world.teams)
    assert top_outcomes(world.manager) == first
    assert KeptFigure.objects.filter(report="outcomes").count() == figures


def test_the_trigger_bumps_the_generation_in_the_changing_transaction_and_a_rollback_undoes_both():
    world = World(3)
    unmet_need_counts(world.manager, start=date(2023, 1, 1), end=TODAY)
    generations = dict(
        KeptGeneration.objects.values_list("report", "generation").filter(team_id=world.teams[0].pk)
    )
    patient = PatientFactory(team=world.teams[0], keyworker=world.keyworkers[0])
    episode = EpisodeFactory(patient=patient, entry_date=date(2026, 1, 10))

    class Crash(Exception):
        pass

    with pytest.raises(Crash), transaction.atomic():
        UnmetNeedFactory(episode=episode, recorded_on=date(2026, 2, 1))
        bumped = KeptGeneration.objects.get(report="unmet", team_id=world.teams[0].pk).generation
        assert bumped > generations.get("unmet", 0)  # in the same transaction as the need
        raise Crash  # the crash: neither the need nor the bump is kept
    after = KeptGeneration.objects.filter(report="unmet", team_id=world.teams[0].pk).values_list("generation")
    assert (after.first() or (0,))[0] == generations.get("unmet", 0)
    period = {"start": date(2023, 1, 1), "end": TODAY}
    assert unmet_need_counts(world.manager, **period) == live_unmet_need_counts(world.manager, **period)


@pytest.mark.parametrize("when", ["before computing", "after computing"])
def test_a_figure_computed_while_a_change_commits_is_never_taken_as_valid(when):
    """The cache race: a reader reads the generation, then a writer's change commits before the reader computes
    (it may see it) or after it computed (it did not), before it keeps its figure. Either way the kept figure is
    not used afterwards: the next read equals the live computation."""
    world = World(11)
    teams = [t.pk for t in world.teams]
    period = {"start": date(2023, 1, 1), "end": TODAY}
    live_compute = {}

    def racing_compute(stale_teams):
        def change():
            UnmetNeedFactory(
                episode=TreatmentEpisode.objects.filter(team=world.teams[0]).first(),
                recorded_on=date(2025, 11, 3),
            )

        if when == "before computing":
            change()
        figures = live_compute["compute"](stale_teams)
        if when == "after computing":
            change()
        return figures

    real = kept.kept_figures

    def spying(report, team_ids, keys, compute, **kwargs):
        live_compute["compute"] = compute
        return real(report, team_ids, keys, racing_compute, **kwargs)

    kept.kept_figures = spying
    try:
        kept_unmet_needs(teams, **period)
    finally:
        kept.kept_figures = real
    assert unmet_need_counts(world.manager, **period) == live_unmet_need_counts(world.manager, **period)


def test_a_move_between_teams_bumps_both_teams():
    world = World(5)
    episode = TreatmentEpisode.objects.filter(team=world.teams[0]).first()
    before = {(g.report, g.team_id): g.generation for g in KeptGeneration.objects.all()}
    Patient.objects.filter(pk=episode.patient_id).update(team=world.teams[2])
    after = {(g.report, g.team_id): g.generation for g in KeptGeneration.objects.all()}
    for report in kept.REPORTS:
        for team in (world.teams[0], world.teams[2]):
            assert after[(report, team.pk)] > before.get((report, team.pk), 0)
        assert after.get((report, world.teams[1].pk)) == before.get((report, world.teams[1].pk))


def test_the_rebuild_command_recomputes_every_figure():
    world = World(9)
    kept_outcomes([t.pk for t in world.teams])
    KeptFigure.objects.update(
        figures=[0, 0, []]
    )  # a damaged figure, as a load bypassing the triggers could leave
    call_command("rebuild_kept_figures", "--everything", stdout=io.StringIO())
    assert KeptFigure.objects.filter(report="timeliness").count() == 3 * 12
    assert top_outcomes(world.manager) == live_top_outcomes(world.manager)
    args = {"today": TODAY, "quarters": 12}
    assert first_review_timeliness(world.manager, **args) == live_first_review_timeliness(
        world.manager, **args
    )


def test_a_keyworker_is_answered_live():
    world = World(2)
    keyworker = world.keyworkers[0]
    assert kept.scope_teams(keyworker) is None
    assert top_outcomes(keyworker) == live_top_outcomes(keyworker)
    assert not KeptFigure.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("when", ["before computing", "after computing"])
def test_the_race_with_a_writer_committing_on_another_connection(when):
    """The cache race on PostgreSQL with two connections: the writer's transaction (a need recorded, its trigger
    bumping the generation) commits on its own connection between the reader's read of the generation and the
    reader keeping its figure."""
    import threading

    from django.db import connections

    world = World(13)
    teams = [t.pk for t in world.teams]
    period = {"start": date(2023, 1, 1), "end": TODAY}
    episode = TreatmentEpisode.objects.filter(team=world.teams[0]).first()

    def commit_a_change():
        def write():
            try:
                with transaction.atomic():
                    UnmetNeedFactory(episode=episode, recorded_on=date(2025, 11, 3))
            finally:
                connections.close_all()

        writer = threading.Thread(target=write)
        writer.start()
        writer.join()

    real = kept.kept_figures

    def racing(report, team_ids, keys, compute, **kwargs):
        def compute_racing(stale):
            if when == "before computing":
                commit_a_change()
            figures = compute(stale)
            if when == "after computing":
                commit_a_change()
            return figures

        return real(report, team_ids, keys, compute_racing, **kwargs)

    kept.kept_figures = racing
    try:
        kept_unmet_needs(teams, **period)
    finally:
        kept.kept_figures = real
    assert UnmetNeed.objects.filter(recorded_on=date(2025, 11, 3), episode=episode).exists()
    assert unmet_need_counts(world.manager, **period) == live_unmet_need_counts(world.manager, **period)


def test_the_nightly_rebuild_drops_stale_and_unused_figures_and_keeps_valid_ones():
    world = World(4)
    period = {
        "start": date(2025, 2, 3),
        "end": date(2025, 9, 9),
    }  # not the default period: not kept overnight
    unmet_need_counts(world.manager, **period)
    top_outcomes(world.manager)
    episode = TreatmentEpisode.objects.filter(team=world.teams[0]).first()
    TopAssessmentFactory(
        episode=episode, stage=TopStage.REVIEW, assessed_on=TODAY
    )  # one team's outcomes stale
    out = io.StringIO()
    call_command("rebuild_kept_figures", stdout=out)
    # the period's two cut quarters for 3 teams (its whole 2025 Q2 is the default period's too, so kept), and
    # the stale outcomes of one team
    assert out.getvalue().startswith("7 kept figures dropped; 3 teams")
    assert not KeptFigure.objects.filter(report="unmet", key__startswith="2025-02-03").exists()
    current = {(g.report, g.team_id): g.generation for g in KeptGeneration.objects.all()}
    for figure in KeptFigure.objects.all():
        assert figure.generation == current.get((figure.report, figure.team_id), 0)
    world.assert_exact()


def test_the_nightly_task_rebuilds_the_kept_figures():
    from reviews import tasks

    world = World(6)
    assert tasks.rebuild_kept_figures.run().startswith("0 kept figures dropped; 3 teams")
    assert KeptFigure.objects.filter(report="outcomes").count() == 3
    world.assert_exact()


def test_kept_rows_pass_full_clean():
    world = World(8)
    world.assert_exact()
    world.change()
    for row in [*KeptFigure.objects.all(), *KeptGeneration.objects.all()]:
        row.full_clean()
