"""The demo data: the logins each role needs, the situations a service sees, valid by the record's own rules,
the same for the same seed, and never mixed with real patients."""

import io
from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.urls import reverse

from patients.models import (
    Appointment,
    CareTeamChange,
    DrugTest,
    Intervention,
    MissedDose,
    Patient,
    PharmacyReport,
    RecordCorrection,
    TopAssessment,
    TreatmentEpisode,
    longest_missed_run,
)
from patients.selectors.evidence import recent_safety_events
from patients.validators import validate_nhs_number
from recovery_reviews.formatting import day
from recovery_reviews.management.demo.stories import BY_KEY, MIN_PATIENTS, STORIES
from recovery_reviews.models import Role, User
from reviews.models import (
    CheckUpOutcome,
    Finding,
    OwedItem,
    RecoveryCheckUp,
    Response,
    ReviewStatus,
    StrategicReview,
)
from reviews.services.schedule import back_in_treatment_reason
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
        "ig": (Role.INFORMATION_GOVERNANCE, None),
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
    assert not Intervention.objects.filter(Q(started_on__gt=today) | Q(ended_on__gt=today)).exists()
    # The stories are recorded through the services, which refuse the future, on the demo's today whatever the
    # machine's (stories.on_the_demos_day).
    told = Patient.objects.filter(family_name__in=[s.family_name for s in STORIES])
    assert told.count() == len(STORIES)
    assert TreatmentEpisode.objects.filter(patient__in=told).count() == len(STORIES) + 1  # one came back


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


# --- The riskiest moments (docs/design.md, second edition), each on a North patient (demo/stories.py) ---


def story(key: str) -> Patient:
    told = BY_KEY[key]
    return Patient.objects.select_related("team", "keyworker").get(
        given_name=told.given_name, family_name=told.family_name
    )


def record_page(client, patient: Patient, login: str = "kw.north") -> str:
    client.force_login(User.objects.get(username=login))
    response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_stories_are_north_patients_the_north_logins_see(client):
    seed()
    patients = [story(s.key) for s in STORIES]
    assert {p.team.name for p in patients} == {"North"}
    assert {p.keyworker.username for p in patients} == {"kw.north", "kw.north2"}
    assert Patient.objects.count() == PATIENTS  # among the patients asked for, not beside them
    for login in ("kw.north", "sp.north", "mgr.north"):
        client.force_login(User.objects.get(username=login))
        for patient in patients:
            assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    client.force_login(User.objects.get(username="kw.south"))
    assert client.get(reverse("patients:detail", args=[patients[0].pk])).status_code == 404
    seed(flush=True, patients=MIN_PATIENTS - 1)  # no room for them in a very small demo
    assert not Patient.objects.filter(family_name__in=[s.family_name for s in STORIES]).exists()


@pytest.mark.usefixtures("frozen_today")
def test_a_methadone_cut_after_the_last_review_brings_the_review_within_3_months(client):
    seed()
    episode = story("dose_cut").episodes.get()
    old, new = episode.interventions.filter(kind="ost").order_by("-started_on")[:2][::-1]
    cut = TODAY - timedelta(days=21)
    assert (old.medicine, old.daily_dose_mg, old.ended_on) == ("methadone", 60, cut)  # the old one ended
    assert (new.medicine, new.daily_dose_mg, new.started_on, new.ended_on) == ("methadone", 20, cut, None)
    last = StrategicReview.objects.filter(episode=episode, status=ReviewStatus.COMPLETED).latest(
        "completed_on"
    )
    assert last.completed_on < cut and last.lead.username == "sp.north"
    assert episode.next_review_kind == "strategic_review"
    assert TODAY < episode.next_review_target <= cut + relativedelta(months=3)
    assert episode.next_review_target < last.completed_on + relativedelta(months=6)  # pulled by the cut
    assert any(f"Treatment transition on {day(cut)}" in r for r in episode.next_review_reasons)
    page = record_page(client, episode.patient)
    assert "Within 3 months of a transition" in page
    assert f"Methadone 60 mg → 20 mg on {day(cut)}" in page
    client.force_login(User.objects.get(username="kw.north"))
    caseload = client.get(reverse("patients:caseload"), {"q": episode.patient.family_name}).content.decode()
    assert 'data-testid="vigilance-changes"' in caseload and "Methadone 60 mg → 20 mg" in caseload


@pytest.mark.usefixtures("frozen_today")
def test_ost_ended_mid_episode_brings_the_review_within_3_months_beside_a_check_up_in_14_days(client):
    seed()
    episode = story("ost_ended").episodes.get()
    assert episode.exit_date is None
    ended = TODAY - timedelta(days=9)
    ost = episode.interventions.filter(kind="ost")
    assert ost.filter(ended_on=ended).exists() and not ost.filter(ended_on=None).exists()
    assert not PharmacyReport.objects.filter(episode=episode, period_end__gte=ended).exists()
    last = StrategicReview.objects.filter(episode=episode, status=ReviewStatus.COMPLETED).latest(
        "completed_on"
    )
    assert last.completed_on < ended
    check_up, review = OwedItem.objects.filter(episode=episode).order_by("target")
    assert (check_up.kind, check_up.target, check_up.element_end) == (
        "element_check_up",
        ended + timedelta(days=14),
        ended,
    )
    assert review.kind == "strategic_review"
    assert TODAY < review.target <= ended + relativedelta(months=3)
    assert any(f"Treatment transition on {day(ended)}" in r for r in review.reasons)
    page = record_page(client, episode.patient, "kw.north2")
    assert "Within 3 months of a transition" in page and f"ended on {day(ended)}" in page
    assert 'data-testid="also-owed"' in page and "Record the check-up after the element that ended" in page


@pytest.mark.usefixtures("frozen_today")
def test_four_missed_doses_over_two_reports_are_a_safety_event_the_prescriber_is_not_yet_told_of(client):
    seed()
    episode = story("missed_doses").episodes.get()
    earlier, later = PharmacyReport.objects.filter(episode=episode).order_by("-period_end")[:2][::-1]
    assert earlier.period_end + timedelta(days=1) == later.period_start  # consecutive reports
    missed = {r.pk: sorted(d.missed_on for d in r.missed_doses.all()) for r in (earlier, later)}
    assert missed[earlier.pk] == [earlier.period_end - timedelta(days=1), earlier.period_end]
    assert missed[later.pk] == [later.period_start, later.period_start + timedelta(days=1)]
    assert (earlier.missed_dose_run, later.missed_dose_run) == (2, 2)  # neither report alone has a run
    assert TODAY - later.period_end < timedelta(days=7)  # recent
    assert (later.safety_run, later.safety_run_from, later.safety_run_told_on) == (
        4,
        missed[earlier.pk][0],
        None,
    )
    assert earlier.prescriber_informed_on is None and later.prescriber_informed_on is None
    third = later.period_start  # the run's third missed day: the safety event (rule 4b)
    assert episode.next_review_target <= third + timedelta(days=28)
    assert any(f"Adherence deteriorated on {day(third)}" in r for r in episode.next_review_reasons)
    events = recent_safety_events(User.objects.get(username="kw.north"), today=TODAY)
    event = next(e for e in events if e.patient_id == episode.patient_id and "missed" in e.what)
    assert event.action_needed.startswith("Prescriber not yet told")
    page = record_page(client, episode.patient)
    assert "4 consecutive missed doses" in page and "Tell the prescriber before dosing resumes" in page
    assert "prescriber not yet told" in page  # on the timeline


def test_a_review_that_found_no_benefit_brings_the_next_within_3_months():
    seed()
    episode = story("no_benefit").episodes.get()
    last = StrategicReview.objects.filter(episode=episode, status=ReviewStatus.COMPLETED).latest(
        "completed_on"
    )
    assert list(last.findings.values_list("code", flat=True)) == [Finding.NO_BENEFIT]
    assert last.responses.filter(code=Response.ALTERNATIVE_TREATMENT).exists()
    assert last.agreed_next_date is None
    assert episode.next_review_target == last.completed_on + relativedelta(months=3)  # not 6 (rule 3c)
    assert any("treatment not producing the expected benefit" in r for r in episode.next_review_reasons)


@pytest.mark.usefixtures("frozen_today")
def test_a_death_and_a_transfer_owe_no_check_ups_and_the_record_says_why(client):
    seed()
    died = story("died").episodes.get()
    assert (died.exit_reason, died.exit_date) == ("died", TODAY - timedelta(days=40))
    assert (died.next_review_kind, died.next_review_target, died.next_review_reasons) == ("", None, [])
    assert not died.has_exit_check  # neither the relapse risk nor the discussion is asked after a death
    assert died.exit_discussion_note == ""  # nor the note (it would read as about the discussion)
    assert not died.interventions.filter(Q(ended_on=None) | Q(ended_on__gt=died.exit_date)).exists()
    in_force = died.dispensing_arrangements.order_by("-effective_from", "-recorded_at").first()
    assert in_force.ended_on == died.exit_date  # closed at exit
    assert not RecoveryCheckUp.objects.filter(episode=died).exists()
    page = record_page(client, died.patient)
    assert f"Treatment ended on {day(died.exit_date)} because the person died" in page
    transferred = story("transferred").episodes.get()
    assert transferred.exit_reason == "transferred" and transferred.next_review_target is None
    assert transferred.exit_relapse_risk and transferred.exit_risk_of_death_discussed is None
    assert TopAssessment.objects.filter(episode=transferred, stage="exit").exists()
    page = record_page(client, transferred.patient, "kw.north2")
    assert "because they were transferred to another service, which now reviews them" in page


@pytest.mark.usefixtures("frozen_today")
def test_a_check_up_that_could_not_reach_the_person_is_kept_and_the_check_up_still_owed(client):
    seed()
    episode = story("not_reached").episodes.get()
    attempt = RecoveryCheckUp.objects.get(episode=episode)
    assert (attempt.sequence, attempt.outcome) == (1, CheckUpOutcome.NOT_REACHED)
    assert episode.exit_date < attempt.held_on < TODAY
    assert episode.next_review_kind == "recovery_check_up"
    assert episode.next_review_target == episode.exit_date + timedelta(days=14)  # check-up 1, still owed
    assert episode.next_review_deadline >= TODAY  # due, not overdue
    assert episode.exit_relapse_risk == "high" and episode.exit_risk_of_death_discussed is False
    assert episode.exit_discussion_note  # why not
    page = record_page(client, episode.patient)
    assert "Attempts at this check-up" in page and "could not be reached" in page


@pytest.mark.usefixtures("frozen_today")
def test_a_check_up_with_early_signs_of_relapse_brings_the_next_within_14_days_and_offers_a_new_episode(
    client,
):
    seed()
    episode = story("relapse_signs").episodes.get()
    latest = RecoveryCheckUp.objects.filter(episode=episode).latest("held_on")
    assert (latest.sequence, latest.outcome) == (2, CheckUpOutcome.RELAPSE_RISK)
    assert episode.next_review_kind == "recovery_check_up"
    assert TODAY <= episode.next_review_target <= latest.held_on + timedelta(days=14)
    assert any("found early signs of relapse" in r for r in episode.next_review_reasons)
    page = record_page(client, episode.patient)
    assert 'data-testid="relapse-offer"' in page and "Open a new treatment episode" in page


def test_rapid_access_back_into_treatment_opens_the_new_episode_and_the_earlier_owes_nothing():
    seed()
    earlier, new = story("back_in_treatment").episodes.order_by("entry_date")
    returned = RecoveryCheckUp.objects.get(episode=earlier, outcome=CheckUpOutcome.RETURNED_TO_TREATMENT)
    relapse = RecoveryCheckUp.objects.get(episode=earlier, outcome=CheckUpOutcome.RELAPSE_RISK)
    assert returned.held_on <= relapse.held_on + timedelta(days=14)
    assert new.entry_date == returned.held_on and new.exit_date is None
    assert (earlier.next_review_target, earlier.next_review_reasons) == (
        None,
        [back_in_treatment_reason(new.entry_date)],
    )
    assert new.next_review_kind == "strategic_review"
    assert new.next_review_target == new.entry_date + relativedelta(months=3)
    assert new.interventions.filter(kind="ost", ended_on=None).exists()
    assert new.top_assessments.filter(stage="start").exists()
    assert PharmacyReport.objects.filter(episode=new).exists()


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
