"""The demo data: the logins each role needs, the situations a service sees, valid by the record's own rules,
the same for the same seed, and never mixed with real patients."""

import io
from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.management import CommandError, call_command

from patients.models import (
    Appointment,
    CareTeamChange,
    DrugTest,
    MissedDose,
    Patient,
    PharmacyReport,
    RecordCorrection,
    TopAssessment,
    TreatmentEpisode,
    longest_missed_run,
)
from patients.validators import validate_nhs_number
from recovery_reviews.formatting import day
from recovery_reviews.models import Role, User
from reviews.models import (
    CheckUpOutcome,
    RecoveryCheckUp,
    ReviewStatus,
    StrategicReview,
)
from reviews.services.strategic import check_up_standing

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 24)
PATIENTS = 40


def seed(**options) -> str:
    out = io.StringIO()
    options = {"patients": PATIENTS, "seed": 7, "today": TODAY, **options}
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def fingerprint() -> dict:
    """What a person would notice if two demos differed: who the patients are and what happened to them."""
    return {
        "patients": list(
            Patient.objects.order_by("pk").values_list(
                "given_name", "family_name", "date_of_birth", "nhs_number"
            )
        ),
        "episodes": list(
            TreatmentEpisode.objects.order_by("pk").values_list(
                "entry_date", "exit_date", "primary_drug", "next_review_target", "next_review_deadline"
            )
        ),
        "reviews": list(
            StrategicReview.objects.order_by("pk").values_list("held_on", "status", "agreed_next_date")
        ),
        "tops": list(
            TopAssessment.objects.order_by("pk").values_list(
                "assessed_on", "opiates_week1", "quality_of_life"
            )
        ),
        "missed": list(MissedDose.objects.order_by("pk").values_list("missed_on", flat=True)),
    }


def test_demo_logins_have_their_roles_teams_and_the_demo_password():
    output = seed()
    expected = {
        "kw.north": (Role.KEYWORKER, "North"),
        "kw.north2": (Role.KEYWORKER, "North"),
        "sp.north": (Role.SENIOR_PRACTITIONER, "North"),
        "kw.south": (Role.KEYWORKER, "South"),
        "kw.south2": (Role.KEYWORKER, "South"),
        "sp.south": (Role.SENIOR_PRACTITIONER, "South"),
        "kw.east": (Role.KEYWORKER, "East"),
        "kw.east2": (Role.KEYWORKER, "East"),
        "sp.east": (Role.SENIOR_PRACTITIONER, "East"),
        "mgr.north": (Role.MANAGER, "North"),
        "mgr.all": (Role.MANAGER, None),
        "support": (Role.SUPPORT, None),
    }
    users = {u.username: u for u in User.objects.select_related("team")}
    assert {name: (u.role, u.team and u.team.name) for name, u in users.items()} == expected
    assert [t.name for t in users["mgr.north"].managed_teams.all()] == ["North"]
    assert sorted(t.name for t in users["mgr.all"].managed_teams.all()) == ["East", "North", "South"]
    assert users["support"].is_superuser and users["support"].is_staff
    assert not any(u.is_staff for name, u in users.items() if name != "support")
    assert all(u.check_password("recovery-demo-2026") for u in users.values())
    assert all(u.email.endswith("@example.nhs.uk") and u.first_name and u.last_name for u in users.values())
    assert all(u.team.weekly_review_capacity for u in users.values() if u.team)
    for username in expected:
        assert username in output  # the logins table


def test_the_demo_has_the_patients_and_situations_a_service_sees():
    seed()
    assert Patient.objects.count() == PATIENTS
    assert set(Patient.objects.values_list("team__name", flat=True)) == {"North", "South", "East"}
    assert StrategicReview.objects.filter(
        status=ReviewStatus.AWAITING_PATIENT, patient_took_part=False, completed_on=None
    ).exists()
    assert PharmacyReport.objects.filter(missed_dose_run__gte=3).exists()
    open_episodes = TreatmentEpisode.objects.filter(exit_date=None, next_review_kind="strategic_review")
    assert open_episodes.filter(next_review_deadline__lt=TODAY).exists()  # overdue
    assert open_episodes.filter(next_review_target__gt=TODAY).exists()  # upcoming
    assert TreatmentEpisode.objects.filter(next_review_kind="recovery_check_up").exists()
    assert not TreatmentEpisode.objects.filter(next_review_kind="record_error").exists()
    assert DrugTest.objects.filter(results__expected_because_prescribed=True).exists()


def test_every_stored_nhs_number_passes_its_check_digit_and_some_are_blank():
    seed()
    numbers = list(Patient.objects.values_list("nhs_number", flat=True))
    for number in numbers:
        if number:
            validate_nhs_number(number)
    assert "" in numbers
    assert len(set(numbers) - {""}) == len([n for n in numbers if n])


def test_a_sample_of_every_model_passes_full_clean():
    seed()
    for app in ("patients", "careplans", "reviews", "recovery_reviews"):
        for model in apps.get_app_config(app).get_models():
            rows = list(model.objects.order_by("pk"))
            for row in rows[:: max(1, len(rows) // 30)]:  # about 30, spread over the whole demo
                row.full_clean()


def test_pharmacy_reports_store_the_longest_run_of_their_missed_doses():
    seed()
    for report in PharmacyReport.objects.prefetch_related("missed_doses"):
        missed = [dose.missed_on for dose in report.missed_doses.all()]
        assert report.missed_dose_run == longest_missed_run(missed)
        assert (
            report.supervised_doses_taken + report.take_home_doses_collected + len(missed) == report.doses_due
        )


@pytest.mark.parametrize("today", [TODAY, date(2024, 2, 29), date(2031, 1, 31)])
def test_the_demo_makes_sense_on_any_day(today):
    seed(today=today)
    assert not TopAssessment.objects.filter(assessed_on__gt=today).exists()
    assert not DrugTest.objects.filter(taken_on__gt=today).exists()
    assert not PharmacyReport.objects.filter(period_end__gt=today).exists()
    assert not StrategicReview.objects.filter(held_on__gt=today).exists()
    assert not StrategicReview.objects.filter(completed_on__gt=today).exists()
    assert not RecoveryCheckUp.objects.filter(held_on__gt=today).exists()
    assert not TreatmentEpisode.objects.filter(next_review_kind="record_error").exists()
    assert not TreatmentEpisode.objects.filter(entry_date__lt=date(today.year - 3, 1, 1)).exists()


def test_the_same_seed_gives_the_same_demo_and_another_seed_another():
    seed()
    first = fingerprint()
    seed(flush=True)
    assert fingerprint() == first
    seed(flush=True, seed=8)
    assert fingerprint()["patients"] != first["patients"]


def test_seeding_is_not_written_to_the_audit_log():
    seed()
    assert not LogEntry.objects.exists()


def test_it_will_not_mix_demo_data_with_existing_patients_without_flush():
    seed()
    with pytest.raises(CommandError, match="--flush"):
        seed(seed=8)
    assert Patient.objects.count() == PATIENTS


def test_the_demo_shows_a_handover_an_entry_in_error_and_a_correction():
    seed(patients=120)
    change = CareTeamChange.objects.get()
    assert change.patient.keyworker == change.to_keyworker != change.from_keyworker
    assert change.changed_on < TODAY
    episodes = TreatmentEpisode.objects.filter(patient=change.patient).values_list("keyworker_id", flat=True)
    assert set(episodes) == {change.to_keyworker_id}  # the episodes followed
    later = Appointment.objects.filter(
        episode__patient=change.patient, starts_at__date__gte=change.changed_on
    )
    assert set(later.values_list("keyworker_id", flat=True)) <= {change.to_keyworker_id}
    wrong = PharmacyReport.with_errors.get(entered_in_error_at__isnull=False)
    assert wrong.entered_in_error_reason and wrong.entered_in_error_at.date() <= TODAY
    assert not PharmacyReport.objects.filter(pk=wrong.pk).exists()
    correction = RecordCorrection.objects.get()
    assert correction.after == day(correction.episode.entry_date)
    assert correction.corrected_at.date() <= TODAY


def test_check_up_attempts_keep_their_number_and_none_is_long_overdue():
    """The history after exit follows rule 7c: an attempt that could not reach the person is followed by the
    check-up of the same number, held, unless that check-up is the one still owed; none follow a death or a
    transfer; and the check-ups owed are a modest share overdue, none for long."""
    seed(patients=200)
    attempts = RecoveryCheckUp.objects.filter(outcome=CheckUpOutcome.NOT_REACHED).select_related("episode")
    assert attempts.exists()
    for attempt in attempts:
        held = RecoveryCheckUp.objects.filter(episode=attempt.episode, sequence=attempt.sequence).exclude(
            outcome=CheckUpOutcome.NOT_REACHED
        )
        if held.exists():
            assert held.get().held_on > attempt.held_on
        else:
            standing = check_up_standing(attempt.episode.check_ups.all())
            assert standing.owed == attempt.sequence and attempt in standing.attempts
    for episode in TreatmentEpisode.objects.filter(exit_date__isnull=False).prefetch_related("check_ups"):
        held = sorted(c.sequence for c in episode.check_ups.all() if not c.is_attempt)
        assert held == list(range(1, len(held) + 1))  # in order, none skipped
        if episode.exit_reason in ("died", "transferred", "transferred_custody"):
            assert not held and episode.next_review_target is None
    owed = TreatmentEpisode.objects.filter(next_review_kind="recovery_check_up")
    overdue = owed.filter(next_review_deadline__lt=TODAY)
    assert owed.count() >= 10
    assert overdue.count() <= 0.25 * owed.count()
    assert not overdue.filter(next_review_deadline__lt=TODAY - timedelta(days=60)).exists()
