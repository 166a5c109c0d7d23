"""What makes the nightly recompute's bulk writes cheaper stays exact (reviews.services.schedule_writes; migrations
patients 0017 and reviews 0014; docs/design.md, Review scheduling policy).

- The arrays go as PostgreSQL's text form of an array: every value reads back as written (quotes, backslashes,
  braces, an empty text, the text NULL, None).
- A bulk insert of many items gives each its episode's team and keyworker itself; the row trigger that copies
  them (reviews 0007) is skipped only while rr.owed_care_team_given is on, which the insert sets for itself alone
  and an error undoes.
- The indexes the recompute no longer maintains are gone: the episodes' index on next_review_deadline alone and
  the items' second index by episode.
- Runs of missed doses are read only for the episodes that have three days in a row (holds_run, exact).
"""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction

from patients import services
from patients.missed_doses import missed_dose_runs
from patients.models import MissedDose, TreatmentEpisode
from patients.services import evidence
from reviews.models import OwedItem
from reviews.services import schedule, schedule_facts, schedule_writes
from reviews.services.schedule import Item, Stored
from tests.support.factories import EpisodeFactory, PatientFactory, PharmacyReportFactory

TODAY = date(2026, 6, 1)


def _setting() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [schedule_writes.TEAM_GIVEN_SETTING])
        return cursor.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.postgres
def test_array_literals_read_back_as_written():
    texts = ['say "no"', "back\\slash", "{braces},comma", "", "NULL", "null", None, "café ✓", " spaced "]
    days = [date(2026, 2, 28), None, date(2024, 2, 29)]
    moments = [datetime(2026, 6, 1, 3, 4, 5, 123456, tzinfo=UTC), None]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::date[], %s::timestamptz[], %s::bigint[]",
            [
                schedule_writes._array_literal(texts, quoted=True),
                schedule_writes._array_literal(days),
                schedule_writes._array_literal(moments),
                schedule_writes._ids_literal([1, 2**40]),
            ],
        )
        assert cursor.fetchone() == (texts, days, moments, [1, 2**40])


@pytest.fixture
def episodes(team, other_team, alice, olga):
    return [
        EpisodeFactory(patient=PatientFactory(team=keyworker.team, keyworker=keyworker))
        for keyworker in (alice, olga, alice, olga)
    ]


def _values(count: int) -> Stored:
    return Stored(
        tuple(
            Item("strategic_review", TODAY + timedelta(days=i), TODAY + timedelta(days=i + 30), (f"why {i}",))
            for i in range(count)
        ),
        None,
    )


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.parametrize("given_over", [0, 5000], ids=["team given", "trigger"])
def test_a_bulk_insert_stores_each_items_episode_team_and_keyworker(episodes, monkeypatch, given_over):
    monkeypatch.setattr(schedule_writes, "TEAM_GIVEN_OVER", given_over)
    schedule_writes.owed_items_replace({e.pk: _values(3) for e in episodes})
    stored = set(OwedItem.objects.values_list("episode_id", "team_id", "keyworker_id"))
    assert stored == {(e.pk, e.team_id, e.keyworker_id) for e in TreatmentEpisode.objects.all()}
    assert OwedItem.objects.count() == 12
    assert len({team for _, team, _ in stored}) == 2
    assert _setting() in (None, "", "off")  # the trigger copies again for whatever comes next


@pytest.mark.django_db
@pytest.mark.postgres
def test_the_care_team_trigger_is_skipped_only_while_the_setting_is_on(episodes, other_team):
    """The mechanism itself: an item given another team keeps it only with the setting on (the bulk insert reads
    the episode's own instead), and is corrected by the trigger otherwise."""
    episode = episodes[0]
    insert = (
        "INSERT INTO reviews_oweditem (episode_id, kind, target, deadline, reasons, team_id) "
        "VALUES (%s, 'strategic_review', %s, %s, '[]', %s) RETURNING team_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(insert, [episode.pk, TODAY, TODAY, other_team.pk])
        assert cursor.fetchone()[0] == episode.patient.team_id
        cursor.execute("SELECT set_config(%s, 'on', true)", [schedule_writes.TEAM_GIVEN_SETTING])
        cursor.execute(insert, [episode.pk, TODAY, TODAY, other_team.pk])
        assert cursor.fetchone()[0] == other_team.pk


@pytest.mark.django_db
@pytest.mark.postgres
def test_an_insert_that_fails_undoes_the_setting(episodes, monkeypatch):
    monkeypatch.setattr(schedule_writes, "TEAM_GIVEN_OVER", 0)
    wrong = Stored(
        (Item("strategic_review", TODAY, TODAY - timedelta(days=1), ()),), None
    )  # target > deadline
    with transaction.atomic():
        with pytest.raises(Exception, match="owed_target_not_after_deadline"), transaction.atomic():
            schedule_writes.owed_items_replace({episodes[0].pk: wrong})
        assert _setting() in (None, "", "off")


@pytest.mark.django_db
@pytest.mark.postgres
def test_the_recompute_maintains_no_index_it_does_not_need():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('patients_treatmentepisode', 'reviews_oweditem')"
        )
        indexes = dict(cursor.fetchall())
    assert "episode_open_review_deadline" not in indexes
    assert [name for name, sql in indexes.items() if sql.endswith("btree (episode_id)")] == []
    assert "owed_episode" in indexes  # which serves every read by episode


def test_holds_run_agrees_with_the_runs_read_in_full():
    rng = random.Random(17)
    start = date(2026, 1, 1)
    for _ in range(3000):
        days = [start + timedelta(days=rng.randint(0, 20)) for _ in range(rng.randint(0, 8))]
        longest = max((run.length for run in missed_dose_runs((d, 1) for d in days)), default=0)
        for length in (1, 2, 3, 4):
            assert evidence.holds_run(days, length) == (longest >= length), (days, length)


@pytest.mark.django_db
def test_runs_are_read_only_for_episodes_with_three_missed_days_in_a_row(episodes, monkeypatch):
    """Fails if the cheap test is removed: episodes without three consecutive missed days are not read run by run
    (most of them, at England scale), and an episode with such a run still is."""
    calls = []
    real = schedule_facts.missed_dose_deterioration
    monkeypatch.setattr(
        schedule_facts,
        "missed_dose_deterioration",
        lambda days, *a, **k: calls.append(days) or real(days, *a, **k),
    )
    short = [date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 4), date(2026, 5, 6), date(2026, 5, 6)]
    run = [date(2026, 5, 10), date(2026, 5, 11), date(2026, 5, 12)]
    rows = schedule._episode_rows(TreatmentEpisode.objects.filter(pk__in=[e.pk for e in episodes[:2]]))
    first, second = rows
    facts = schedule._facts_by_episode(rows, TODAY, missed={first.pk: short, second.pk: run})
    assert calls == [run]
    assert facts[first.pk].adherence_deteriorated_on is None
    assert facts[second.pk].adherence_deteriorated_on == date(2026, 5, 12)


@pytest.mark.django_db
def test_safety_events_are_read_only_for_episodes_with_a_run(episodes, monkeypatch):
    calls = []
    real = evidence.missed_dose_runs
    monkeypatch.setattr(evidence, "missed_dose_runs", lambda pairs: calls.append(pairs) or real(pairs))
    for episode, missed in ((episodes[0], 2), (episodes[1], 3)):
        report = PharmacyReportFactory(
            episode=episode, supervised_doses_taken=14 - missed, missed_dose_run=missed
        )
        for offset in range(missed):
            report.missed_doses.create(missed_on=report.period_end - timedelta(days=offset))
    missed_out = {}
    evidence.safety_events_recompute(episodes=TreatmentEpisode.objects.all(), missed_out=missed_out)
    assert len(calls) == 1 and {day for day, _ in calls[0]} == set(missed_out[episodes[1].pk])
    assert episodes[0].pk not in missed_out  # two days: no run, none of the schedule's business
    missed_out = {}
    evidence.safety_events_recompute(
        episodes=TreatmentEpisode.objects.all(), missed_out=missed_out, missed_out_run=2
    )
    assert sorted(missed_out[episodes[0].pk]) == [date(2026, 2, 13), date(2026, 2, 14)]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("length", [2, 3, 4])
def test_the_database_finds_exactly_the_episodes_with_a_run(length, team, alice):
    """_runs_of, the query that spares the recompute the missed doses of every episode without a run, against
    holds_run over every day read in Python: days split across reports, a day in two reports, gaps, month ends,
    reports entered in error (their days do not count)."""
    rng = random.Random(length)
    episodes = [EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice)) for _ in range(40)]
    counted = {}
    for episode in episodes:
        days = []
        for period in range(rng.randint(0, 3)):
            start = date(2026, 1, 25) + timedelta(days=14 * period)
            report = PharmacyReportFactory(
                episode=episode, period_start=start, period_end=start + timedelta(13)
            )
            missed = set(rng.sample(range(14), rng.choice([0, 1, 2, 3])))
            if rng.random() < 0.4:  # a block of days in a row, at either end of the period or inside it
                size = rng.randint(2, 5)
                first = rng.choice([0, 14 - size, rng.randint(0, 14 - size)])
                missed |= set(range(first, first + size))
            missed = sorted(missed)
            report.missed_doses.bulk_create(
                [MissedDose(report=report, missed_on=start + timedelta(days=d)) for d in missed]
            )
            if rng.random() < 0.15:
                services.record_mark_entered_in_error(record=report, reason="Wrong patient", by=alice)
            else:
                days += [start + timedelta(days=d) for d in missed]
            if rng.random() < 0.2 and missed:  # the same day again in a second report
                twice = start + timedelta(days=missed[0])
                again = PharmacyReportFactory(
                    episode=episode,
                    period_start=twice,
                    period_end=twice,
                    doses_due=1,
                    supervised_doses_taken=0,
                )
                again.missed_doses.create(missed_on=twice)
                days.append(twice)
        counted[episode.pk] = days
    expected = {pk for pk, days in counted.items() if evidence.holds_run(days, length)}
    assert 3 <= len(expected) <= 37  # both kinds of episode are there
    found = set(
        TreatmentEpisode.objects.filter(
            pk__in=evidence._runs_of(TreatmentEpisode.objects.all(), length)
        ).values_list("pk", flat=True)
    )
    assert found == expected
    missed_out = {}
    evidence.safety_events_recompute(
        episodes=TreatmentEpisode.objects.all(), missed_out=missed_out, missed_out_run=length
    )
    # The days of the episodes with a run of `length`, or of three (a safety event's), whichever is shorter.
    assert set(missed_out) == {pk for pk, days in counted.items() if evidence.holds_run(days, min(3, length))}
    assert expected <= set(missed_out)
    assert all(sorted(days) == sorted(counted[pk]) for pk, days in missed_out.items())
    # What the recompute stored is what each episode's own refresh (which reads every dose) stores.
    assert sum(evidence.safety_events_refresh(episode=episode) for episode in episodes) == 0
