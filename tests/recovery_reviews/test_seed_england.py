"""The England-sized bulk seeder, at a few hundred patients: rows hold every model rule, counts are in proportion,
schedules come from the policy, the ORM can insert afterwards, and it refuses what it cannot do."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from patients import models as pm
from patients.validators import validate_nhs_number
from recovery_reviews.management.commands.seed_england import check_database
from recovery_reviews.models import Role, Team, User
from reviews import models as rm
from tests.support.factories import PatientFactory

TODAY = date(2026, 11, 24)


@pytest.fixture
def seeded(db):
    call_command("seed_england", patients=400, today=TODAY, stdout=io.StringIO())


@pytest.mark.postgres
def test_every_row_holds_the_models_rules(seeded):
    """The database constraints held for the load itself; full_clean checks the rules only Python states."""
    for model in (
        pm.Patient,
        pm.TreatmentEpisode,
        pm.Intervention,
        pm.DispensingArrangement,
        pm.TopAssessment,
        pm.DrugTest,
        pm.DrugTestResult,
        pm.PharmacyReport,
        rm.StrategicReview,
        rm.RecoveryCheckUp,
        rm.UnmetNeed,
    ):
        sample = list(model.objects.order_by("?")[:40])
        assert sample, model.__name__
        for row in sample:
            row.full_clean()
    for patient in pm.Patient.objects.all():
        validate_nhs_number(patient.nhs_number)
        assert patient.nhs_number.startswith("999")  # the range kept for test data: never a real person


@pytest.mark.postgres
def test_counts_are_in_proportion_to_england(seeded):
    patients = pm.Patient.objects.count()
    assert patients == 400
    per_patient = {
        "TOPs": pm.TopAssessment.objects.count() / patients,  # England: 1.2 million for 300,000
        "test results": pm.DrugTestResult.objects.count() / patients,  # 3 million
        "pharmacy reports": pm.PharmacyReport.objects.count() / patients,  # 2 million
    }
    assert 3.4 <= per_patient["TOPs"] <= 4.6, per_patient
    assert 9 <= per_patient["test results"] <= 12, per_patient
    assert 5.5 <= per_patient["pharmacy reports"] <= 8, per_patient
    assert pm.TreatmentEpisode.objects.filter(exit_date__isnull=True).count() > 0.75 * patients
    assert rm.StrategicReview.objects.filter(status=rm.ReviewStatus.AWAITING_PATIENT).exists()


@pytest.mark.postgres
def test_the_logins_and_teams_are_there(seeded):
    manager = User.objects.get(username="mgr.scale")
    assert manager.role == Role.MANAGER
    assert set(manager.managed_teams.values_list("pk", flat=True)) == set(
        Team.objects.values_list("pk", flat=True)
    )
    keyworker = User.objects.get(username="kw.scale")
    assert keyworker.role == Role.KEYWORKER and keyworker.check_password("recovery-demo-2026")
    assert pm.Patient.objects.filter(keyworker=keyworker).count() == 40


@pytest.mark.postgres
def test_a_small_seed_can_have_the_large_ones_teams(db):
    """--teams: 150 teams for 600 patients, four patients a team, so that pages listing every team compare like
    with like against 300,000 patients in 150 teams (README, England scale)."""
    call_command("seed_england", patients=600, teams=150, today=TODAY, stdout=io.StringIO())
    assert Team.objects.count() == 150
    assert set(pm.Patient.objects.values_list("team_id", flat=True)) == set(
        Team.objects.values_list("pk", flat=True)
    )
    assert set(User.objects.get(username="mgr.scale").managed_teams.values_list("pk", flat=True)) == set(
        Team.objects.values_list("pk", flat=True)
    )


@pytest.mark.postgres
@pytest.mark.parametrize("teams", [0, 601, 1001])
def test_a_number_of_teams_out_of_bounds_is_refused(db, teams):
    with pytest.raises(CommandError, match="--teams must be between 1 and 600"):
        call_command("seed_england", patients=600, teams=teams, today=TODAY, stdout=io.StringIO())


@pytest.mark.postgres
def test_schedules_come_from_the_policy_and_first_reviews_are_stored(seeded):
    open_episodes = pm.TreatmentEpisode.objects.filter(exit_date__isnull=True)
    assert not open_episodes.filter(next_review_target__isnull=True).exists()
    assert not pm.TreatmentEpisode.objects.filter(next_review_kind="record_error").exists()
    reviewed = rm.StrategicReview.objects.filter(status=rm.ReviewStatus.COMPLETED).values("episode_id")
    assert (
        pm.TreatmentEpisode.objects.filter(pk__in=reviewed, first_review_completed_on__isnull=True).count()
        == 0
    )


@pytest.mark.postgres
def test_the_orm_inserts_after_the_load(seeded):
    patient = PatientFactory(team=Team.objects.first(), keyworker=User.objects.get(username="kw.scale"))
    assert patient.pk > 400


@pytest.mark.postgres
def test_a_database_with_patients_is_refused_unless_flushed(seeded):
    with pytest.raises(CommandError, match="already has patients. Use --flush"):
        call_command("seed_england", patients=10, today=TODAY)
    call_command("seed_england", patients=10, today=TODAY, flush=True, stdout=io.StringIO())
    assert pm.Patient.objects.count() == 10


@pytest.mark.postgres
def test_the_same_seed_gives_the_same_population(db):
    def snapshot():
        return list(pm.TreatmentEpisode.objects.order_by("pk").values_list("entry_date", "exit_date"))

    call_command("seed_england", patients=50, today=TODAY, seed=7, stdout=io.StringIO())
    first = snapshot()
    call_command("seed_england", patients=50, today=TODAY, seed=7, flush=True, stdout=io.StringIO())
    assert snapshot() == first


def test_anything_but_postgresql_is_refused_by_name(db, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="loads with PostgreSQL COPY: set DATABASE_URL"):
        check_database(flush=False)
