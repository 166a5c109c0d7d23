"""The demo data: believable, deterministic, and valid by the record's own rules."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from patients.models import Patient, PharmacyReport, TopAssessment, TreatmentEpisode
from patients.validators import validate_nhs_number
from recovery_reviews.models import Role, User
from reviews.models import ReviewStatus, StrategicReview

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 24)


def seed(**options):
    call_command("seed_demo", patients=60, seed=7, today=TODAY, stdout=io.StringIO(), **options)


def test_demo_logins_exist_with_their_roles_and_teams():
    seed()
    kw, sp, mgr, everyone = (
        User.objects.get(username=u) for u in ("kw.north", "sp.north", "mgr.north", "mgr.all")
    )
    assert (kw.role, kw.team.name) == (Role.KEYWORKER, "North")
    assert (sp.role, sp.team.name) == (Role.SENIOR_PRACTITIONER, "North")
    assert mgr.role == Role.MANAGER and [t.name for t in mgr.managed_teams.all()] == ["North"]
    assert everyone.managed_teams.count() == 3
    assert kw.check_password("recovery-demo-2026")


def test_the_demo_has_the_situations_a_service_sees():
    seed()
    assert Patient.objects.count() == 60
    assert StrategicReview.objects.filter(status=ReviewStatus.AWAITING_PATIENT).exists()
    assert PharmacyReport.objects.filter(missed_dose_run__gte=3).exists()
    assert TreatmentEpisode.objects.filter(next_review_deadline__lt=TODAY).exists()  # overdue
    assert TreatmentEpisode.objects.filter(next_review_target__gt=TODAY).exists()  # upcoming
    assert TreatmentEpisode.objects.filter(next_review_kind="recovery_check_up").exists()
    assert not TreatmentEpisode.objects.filter(next_review_kind="record_error").exists()


def test_the_demo_passes_the_records_own_validation():
    seed()
    for number in Patient.objects.exclude(nhs_number="").values_list("nhs_number", flat=True):
        validate_nhs_number(number)
    for model in (Patient, TreatmentEpisode, TopAssessment, PharmacyReport, StrategicReview):
        for row in model.objects.all()[:25]:
            row.full_clean()


def test_the_same_seed_gives_the_same_service():
    seed()
    first = list(Patient.objects.order_by("pk").values_list("given_name", "family_name", "nhs_number"))
    seed(flush=True)
    assert (
        list(Patient.objects.order_by("pk").values_list("given_name", "family_name", "nhs_number")) == first
    )


def test_it_will_not_overwrite_patients_without_flush():
    seed()
    with pytest.raises(CommandError, match="--flush"):
        seed()
