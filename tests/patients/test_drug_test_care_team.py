"""A drug test carries its episode's team and keyworker (DrugTest.team, migration patients 0015) so that the
caseload's safety events find a scope's recent tests from an index. The unexpected results are scoped by these
columns: they must agree with the episode's after every writer (the service, a save, bulk_create as the seeders
do, plain SQL as the England loader's COPY does), after every change of care team, and when a stale copy is saved;
and the safety events read through them must be the rows the episode's own columns give, in the same order.
docs/clinical-safety/hazard-log.md, H-050: An unexpected drug test result is missing from the caseload, or shown to a team no longer caring"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import DrugTest, DrugTestResult, Patient, Substance, TreatmentEpisode
from patients.models import TestResult as Result
from patients.selectors import recent_safety_events
from patients.services import drug_test_record, patient_move, record_mark_entered_in_error
from recovery_reviews.access import scoped
from recovery_reviews.models import Role
from tests.support.factories import (
    DrugTestFactory,
    DrugTestResultFactory,
    EpisodeFactory,
    PatientFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 5, 1)


def stored(test) -> tuple[int, int]:
    return tuple(DrugTest.with_errors.filter(pk=test.pk).values_list("team_id", "keyworker_id").get())


def disagreeing() -> list[tuple]:
    """Every test whose copy differs from its episode's team and keyworker (none may be empty)."""
    rows = DrugTest.with_errors.values_list(
        "pk", "team_id", "keyworker_id", "episode__team_id", "episode__keyworker_id"
    )
    return [row for row in rows if row[1:3] != row[3:5] or None in row]


def test_every_writer_of_a_test_fills_the_copy(episode, team, alice):
    recorded = drug_test_record(
        episode=episode,
        taken_on=TODAY,
        method="urine",
        results=[{"substance": Substance.HEROIN, "result": Result.POSITIVE}],
        by=alice,
    )
    saved = DrugTestFactory(episode=episode)
    (bulk,) = DrugTest.objects.bulk_create(
        [DrugTest(episode=episode, taken_on=TODAY, method="urine", recorded_by=alice)]
    )
    with connection.cursor() as cursor:  # any path: the England loader writes with COPY, naming no team
        cursor.execute(
            "INSERT INTO patients_drugtest (episode_id, taken_on, method, note, recorded_by_id, created_at,"
            " entered_in_error_reason) VALUES (%s, %s, 'urine', '', %s, %s, '')",
            [episode.pk, TODAY, alice.pk, TODAY],
        )
    assert DrugTest.objects.count() == 4
    for test in (recorded, saved, bulk):
        assert stored(test) == (team.pk, alice.pk)
    assert disagreeing() == []


def test_a_test_follows_its_patient_by_every_path(patient, episode, team, alice, other_team, olga):
    test = DrugTestFactory(episode=episode)
    south_lead = UserFactory(username="sol", role=Role.SENIOR_PRACTITIONER, team=other_team)
    patient_move(
        patient=patient,
        team=other_team,
        keyworker=olga,
        lead_practitioner=south_lead,
        reason="Moved to the south.",
        by=alice,
    )
    assert stored(test) == (other_team.pk, olga.pk)

    kim = UserFactory(username="kim", role=Role.KEYWORKER, team=team)
    Patient.objects.filter(pk=patient.pk).update(team=team, keyworker=kim)  # a bulk update, a shell
    assert stored(test) == (team.pk, kim.pk)

    elsewhere = PatientFactory(team=other_team, keyworker=olga)
    TreatmentEpisode.objects.filter(pk=episode.pk).update(patient=elsewhere)  # names no team
    assert stored(test) == (other_team.pk, olga.pk)
    assert disagreeing() == []


def test_a_stale_copy_saved_later_keeps_the_new_team(patient, episode, other_team, olga):
    test = DrugTestFactory(episode=episode)
    stale_test = DrugTest.objects.get(pk=test.pk)  # loaded before the move
    stale_episode = TreatmentEpisode.objects.get(pk=episode.pk)
    Patient.objects.filter(pk=patient.pk).update(team=other_team, keyworker=olga)

    stale_test.note = "Sample leaked in transit."
    stale_test.save()
    stale_episode.co_morbidities = "Asthma"
    stale_episode.save()
    assert stored(test) == (other_team.pk, olga.pk)
    DrugTest.objects.filter(pk=test.pk).update(team=None, keyworker=None)  # nor can it be set by hand
    assert stored(test) == (other_team.pk, olga.pk)

    record_mark_entered_in_error(record=test, reason="Another patient's sample.", by=olga)
    assert stored(test) == (other_team.pk, olga.pk)
    assert disagreeing() == []


@pytest.fixture
def results(team, alice, other_team, olga):
    """Unexpected and expected results over two teams, a day apart so that the order is the order: the team's
    patients, alice's own patient in the other team, the other team's, one in error and one too old."""
    own_elsewhere = EpisodeFactory(patient=PatientFactory(team=other_team, keyworker=alice))
    episodes = [
        *(EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice)) for _ in range(3)),
        EpisodeFactory(patient=PatientFactory(team=team, keyworker=UserFactory(username="kit", team=team))),
        own_elsewhere,
        *(EpisodeFactory(patient=PatientFactory(team=other_team, keyworker=olga)) for _ in range(3)),
    ]
    made = []
    for n in range(32):
        episode = episodes[n % len(episodes)]
        test = DrugTestFactory(episode=episode, taken_on=TODAY - timedelta(days=n))
        made.append(
            DrugTestResultFactory(
                test=test,
                substance=Substance.COCAINE,
                result=Result.POSITIVE if n % 3 else Result.NEGATIVE,
                expected_because_prescribed=n % 5 == 0,
            )
        )
    record_mark_entered_in_error(record=made[1].test, reason="Another patient's sample.", by=alice)
    return made


def by_the_episode(user) -> list[int]:
    """The unexpected results as read before patients 0015: scoped by the episode's own columns."""
    since = TODAY - timedelta(days=28)
    standing = DrugTestResult.objects.filter(
        test__taken_on__gte=since, test__entered_in_error_at__isnull=True
    )
    unexpected = [
        r.pk
        for r in scoped(standing, user, episode_path="test__episode__").order_by("-test__taken_on")
        if r.is_unexpected
    ]
    return unexpected[:20]


def read(user) -> list[int]:
    return [e.record_id for e in recent_safety_events(user, today=TODAY) if e.kind == "drug-test-result"]


@pytest.mark.parametrize("who", ["alice", "sam", "mona", "olga", "manager of both"])
def test_the_safety_events_are_the_rows_the_episode_gives(request, results, who, team, other_team):
    if who == "manager of both":
        user = UserFactory(username="max", role=Role.MANAGER, team=None)
        user.managed_teams.add(team, other_team)
    else:
        user = request.getfixturevalue(who)
    expected = by_the_episode(user)
    assert expected  # each of them sees some
    assert read(user) == expected


def test_a_result_goes_where_its_patient_goes(results, alice, olga, other_team):
    result = results[0]  # taken today, alice's patient in North, unexpected
    assert result.pk in read(alice)
    assert result.pk not in read(olga)
    patient_move(
        patient=result.test.episode.patient, team=other_team, keyworker=olga, reason="Moved south.", by=alice
    )
    assert result.pk not in read(alice)
    assert read(olga)[0] == result.pk
    assert read(alice) == by_the_episode(alice)
    assert read(olga) == by_the_episode(olga)


@pytest.mark.parametrize("name", ["drug_test_care_team", "episode_drug_test_care_team"])
def test_the_triggers_exist(db, name):
    """SQLite rebuilds a table for many schema changes and drops its triggers with it: a later migration that
    rebuilds patients_drugtest or patients_treatmentepisode must create these again, and this test says so."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    assert any(n.startswith(name) for n in names), names


@pytest.mark.postgres
def test_the_walk_by_date_reads_the_index_alone(db):
    """The busy scope's way in carries every column the walk filters and joins on, so it never visits the table;
    the team column keeps a count for each of up to 1,000 teams, which is how a quiet scope is told apart."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'drug_test_recent_order'")
        (definition,) = cursor.fetchone()
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'patients_drugtest'::regclass"
            " AND attname = 'team_id'"
        )
        (statistics,) = cursor.fetchone()
    assert definition.endswith(  # keyed by id too, so a day's tests come in order (patients 0018)
        "(taken_on, id) INCLUDE (team_id, keyworker_id, episode_id) WHERE (entered_in_error_at IS NULL)"
    )
    assert statistics == 1000


def test_the_safety_events_are_ordered_as_their_indexes_are_keyed(team, alice):
    """Newest first, then by record: a result by its test, then itself; a report by itself. The indexes
    (drug_test_recent_order, pharmacy_safety_events: date then id, patients 0018) give that order as they are
    walked, so the walk stops at the twentieth event however many share the newest day; ordered by date alone,
    PostgreSQL read the whole newest day first (13,000 tests at 300,000 patients: 117 ms a caseload page)."""
    episode = EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice))
    first, second = (DrugTestFactory(episode=episode, taken_on=TODAY - timedelta(days=1)) for _ in range(2))
    # The later test's result recorded first: its id is the lower, and it still comes first.
    later = DrugTestResultFactory(test=second, substance=Substance.COCAINE, result=Result.POSITIVE)
    earlier = DrugTestResultFactory(test=first, substance=Substance.COCAINE, result=Result.POSITIVE)
    with CaptureQueriesContext(connection) as queries:
        events = recent_safety_events(alice, today=TODAY)
    assert [e.record_id for e in events if e.kind == "drug-test-result"] == [later.pk, earlier.pk]
    orders = [
        q["sql"].split("ORDER BY")[1].split("LIMIT")[0].strip() for q in queries if "LIMIT 20" in q["sql"]
    ]
    assert orders == [
        '"patients_pharmacyreport"."period_end" DESC, "patients_pharmacyreport"."id" DESC',
        '"patients_drugtest"."taken_on" DESC, "patients_drugtestresult"."test_id" DESC, '
        '"patients_drugtestresult"."id" DESC',
    ]
