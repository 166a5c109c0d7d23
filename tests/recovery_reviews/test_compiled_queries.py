"""Queries compiled once per shape (recovery_reviews/compiled_queries.py): what they return is what the ORM
returns for the same values, whoever runs them; what cannot be kept and filled in is refused, never guessed."""

from datetime import date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.access import episodes_for_user
from patients.models import TreatmentEpisode
from recovery_reviews.compiled_queries import CompiledQuery, NotCompilable
from recovery_reviews.models import Role
from tests.support.factories import EpisodeFactory, PatientFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


class _Counted:
    """A build that counts how often it is called."""

    def __init__(self, build):
        self.build, self.calls = build, 0

    def __call__(self, **values):
        self.calls += 1
        return self.build(**values)


def _entered_since(user, today, limit):
    return (
        episodes_for_user(user)
        .filter(entry_date__gte=today - timedelta(days=28))
        .select_related("patient")
        .order_by("entry_date", "pk")[:limit]
    )


@pytest.fixture
def two_teams(team, other_team, alice, olga):
    today = date(2026, 6, 1)
    for days, owner, in_team in (
        (3, alice, team),
        (10, alice, team),
        (40, alice, team),
        (5, olga, other_team),
    ):
        patient = PatientFactory(team=in_team, keyworker=owner)
        EpisodeFactory(patient=patient, entry_date=today - timedelta(days=days))
    return today


def test_each_person_gets_what_the_orm_gives_them_and_the_sql_is_built_once_per_shape(
    two_teams, alice, olga, mona, other_team
):
    today = two_teams
    mona.managed_teams.add(other_team)  # two teams: a shape of its own
    build = _Counted(_entered_since)
    kept = CompiledQuery(build)
    for person in (alice, olga, mona, alice, olga, mona):
        got = kept.run(shape={"limit": 10}, user=person, today=today)
        assert got == list(_entered_since(person, today, 10))
        assert all(episode.patient.pk == episode.patient_id for episode in got)  # joined rows populated
    assert [e.patient.keyworker for e in kept.run(shape={"limit": 10}, user=olga, today=today)] == [olga]
    # compiled three times (three stand-ins) for each of the two shapes (a keyworker; a manager of two teams),
    # and the check built it once for each of the seven runs
    assert build.calls == 2 * 3 + 7


def test_a_later_day_moves_the_date_worked_out_from_today(two_teams, alice):
    kept = CompiledQuery(_entered_since)
    assert len(kept.run(shape={"limit": 10}, user=alice, today=two_teams)) == 2
    later = two_teams + timedelta(days=31)  # the 3 and 10 days ago have fallen out of the 28 days
    assert kept.run(shape={"limit": 10}, user=alice, today=later) == []
    earlier = two_teams - timedelta(days=1)
    assert len(kept.run(shape={"limit": 10}, user=alice, today=earlier)) == 2


def test_it_sends_one_query_the_same_as_the_orms(two_teams, alice):
    kept = CompiledQuery(_entered_since)
    kept.run(shape={"limit": 10}, user=alice, today=two_teams)  # compiled
    with CaptureQueriesContext(connection) as ran:
        kept.run(shape={"limit": 10}, user=alice, today=two_teams - timedelta(days=2))
    with CaptureQueriesContext(connection) as orm:
        list(_entered_since(alice, two_teams - timedelta(days=2), 10))
    assert len(ran.captured_queries) == 1  # the check compiles the ORM's SQL but does not run it
    assert ran.captured_queries[0]["sql"] == orm.captured_queries[0]["sql"]


def test_a_date_moved_by_months_is_refused_and_the_orm_answers_instead(two_teams, alice, settings):
    def months(user, today):
        return episodes_for_user(user).filter(entry_date__gte=today - relativedelta(months=1))

    kept = CompiledQuery(months)
    with pytest.raises(NotCompilable, match="worked out from a value"):
        kept.run(user=alice, today=two_teams)
    settings.COMPILED_QUERIES_CHECK = False
    assert kept.run(user=alice, today=two_teams) == list(months(alice, two_teams))


def test_a_value_written_into_the_sql_text_is_refused(two_teams, alice):
    kept = CompiledQuery(lambda user, n: episodes_for_user(user).order_by("pk")[:n])
    with pytest.raises(NotCompilable, match="written into its text"):
        kept.run(user=alice, n=2)


def test_a_scope_that_holds_no_patient_reads_nothing(two_teams):
    support = UserFactory(username="sue", role=Role.SUPPORT, team=TeamFactory(name="East"))
    kept = CompiledQuery(_entered_since)
    with CaptureQueriesContext(connection) as ran:
        assert kept.run(shape={"limit": 10}, user=support, today=two_teams) == []
    assert ran.captured_queries == []


def test_the_check_catches_sql_kept_for_a_query_that_has_since_changed(two_teams, alice):
    ordering = ["entry_date"]
    kept = CompiledQuery(lambda user: episodes_for_user(user).order_by(*ordering))
    kept.run(user=alice)
    ordering[:] = ["-entry_date"]  # the build now gives other SQL for the same shape
    with pytest.raises(AssertionError, match="where the ORM compiles"):
        kept.run(user=alice)


def test_a_text_is_kept_where_it_reaches_the_sql_as_it_is_and_refused_where_the_orm_changes_it(
    two_teams, alice
):
    exact = CompiledQuery(
        lambda user, q: episodes_for_user(user).filter(patient__family_name=q).order_by("pk")
    )
    family_name = TreatmentEpisode.objects.filter(keyworker=alice).first().patient.family_name
    assert exact.run(user=alice, q=family_name) == list(
        episodes_for_user(alice).filter(patient__family_name=family_name).order_by("pk")
    )
    assert exact.run(user=alice, q="Nobody") == []
    contains = CompiledQuery(
        lambda user, q: episodes_for_user(user).filter(patient__family_name__icontains=q)
    )
    with pytest.raises(NotCompilable, match="worked out from a value"):
        contains.run(user=alice, q="smi")


def test_values_that_are_not_ids_texts_dates_or_a_person_are_refused(alice):
    kept = CompiledQuery(lambda user, q: TreatmentEpisode.objects.filter(patient__family_name=q))
    with pytest.raises(TypeError, match="pass it as shape"):
        kept.run(user=alice, q=2.5)
    with pytest.raises(TypeError, match="aware"):
        kept.run(user=alice, q=datetime(2026, 1, 1, 9))
    with pytest.raises(TypeError, match="pass a flag as shape"):
        kept.run(user=alice, q=True)


def test_the_stand_in_dates_move_apart_under_any_calendar_arithmetic_a_build_might_do():
    """A date worked out from today by calendar months (up to three years either way), or the first of its month
    or year, moves the three stand-ins by numbers of days that are not all the same: refused, not kept."""
    from recovery_reviews.compiled_queries import _DATE_BASES, _YEARS_APART

    for slot in range(3):  # the second and third date of a query sit _YEARS_APART further on
        bases = [base.replace(year=base.year + _YEARS_APART * slot) for base in _DATE_BASES]
        for months in [k for k in range(-36, 37) if k]:
            assert len({((d + relativedelta(months=months)) - d).days for d in bases}) > 1, months
        for moved in (
            lambda d: d.replace(day=1),
            lambda d: d.replace(month=1, day=1),
            lambda d: d.replace(day=1) + relativedelta(months=1),
        ):
            assert len({(moved(d) - d).days for d in bases}) > 1


def test_a_scope_that_reads_more_of_the_person_than_the_shape_holds_is_refused(two_teams, alice):
    """SQL is kept by role and number of teams: a build that read anything else of the person (here whether they
    are a superuser, asked with a default) could keep one person's SQL for another, so it is refused."""

    def wider(user):
        episodes = episodes_for_user(user)
        return episodes if getattr(user, "is_superuser", False) else episodes.filter(exit_date__isnull=True)

    with pytest.raises(NotCompilable, match="'is_superuser'"):
        CompiledQuery(wider).run(user=alice)


def test_a_build_that_reads_the_clock_is_refused_so_no_day_is_kept(two_teams, alice):
    """A build that works out today itself, instead of taking it as a value, would write the day of compiling into
    SQL kept for weeks: a date near now that no value gave is refused."""
    from django.utils import timezone

    on_the_day = CompiledQuery(
        lambda user: episodes_for_user(user).filter(entry_date__lte=timezone.localdate())
    )
    with pytest.raises(NotCompilable, match="read the clock"):
        on_the_day.run(user=alice)
    at_the_time = CompiledQuery(
        lambda user: episodes_for_user(user).filter(patient__created_at__lte=timezone.now())
    )
    with pytest.raises(NotCompilable, match="read the clock"):
        at_the_time.run(user=alice)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
def test_a_search_is_planned_for_its_text_and_other_queries_are_prepared(client, two_teams, alice):
    """On PostgreSQL a query sent twice on a connection is prepared (DATABASE_PREPARE_THRESHOLD), but the
    caseload's search is planned for the text searched each time: a generic plan, made for any text, was three
    times slower."""
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == 2
    client.force_login(alice)
    for _ in range(3):
        assert client.get(reverse("patients:caseload"), {"q": "smi"}).status_code == 200
    searched = [sql for sql in _prepared_statements() if "LIKE" in sql.upper()]
    assert searched == []
    assert connection.connection.prepare_threshold == 2  # given back after the search
    for _ in range(3):
        client.get(reverse("patients:caseload"))
    assert any("patients_treatmentepisode" in sql for sql in _prepared_statements())
