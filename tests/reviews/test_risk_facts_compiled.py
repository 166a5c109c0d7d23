"""The risk level's facts are compiled to SQL once a day per process (reviews/risk_selectors.py, _compiled_facts)
and reused on every page's query. These hold the compiled SQL to what the ORM builds for the same queries, the
values read to the same, and the compiled facts to the one place their SQL is right: the episodes' own query.
docs/design.md, Risk level and disengagement."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import AppointmentStatus, Patient, TreatmentEpisode
from recovery_reviews.pages.caseload import caseload_for_user
from reviews.models import CheckUpOutcome
from reviews.risk_selectors import (
    _compiled_facts,
    with_disengagement_facts,
    with_risk_facts,
    with_risk_facts_built,
)
from tests.patients.conftest import report_with_run
from tests.support.factories import (
    AppointmentFactory,
    EpisodeFactory,
    InterventionFactory,
    PatientFactory,
    RecoveryCheckUpFactory,
    TopAssessmentFactory,
    aware,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 5, 1)
FACTS = tuple(_compiled_facts(TODAY, "default"))


def compiled_sql(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, tuple(params)


@pytest.fixture
def episodes(team, alice, sam):
    """Five episodes whose facts differ: missed appointments after an attended one, OST since a dose change, a
    missed-dose run, a TOP with shared equipment, a check-up with early signs of relapse, and one with none."""
    made = [EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice)) for _ in range(5)]
    first, second, third, fourth, _ = made
    AppointmentFactory(episode=first, starts_at=aware(2026, 3, 20))
    for day in (10, 24):
        AppointmentFactory(
            episode=first, starts_at=aware(2026, 4, day), status=AppointmentStatus.MISSED, review_note=""
        )
    InterventionFactory(episode=second, started_on=date(2026, 1, 15), ended_on=date(2026, 3, 10))
    InterventionFactory(episode=second, started_on=date(2026, 3, 10), ended_on=None)
    report_with_run(third, alice)
    TopAssessmentFactory(episode=fourth, assessed_on=date(2026, 4, 1), stage="review", shared_needle=True)
    RecoveryCheckUpFactory(
        episode=fourth, sequence=1, held_on=date(2026, 4, 20), outcome=CheckUpOutcome.RELAPSE_RISK
    )
    return made


def test_there_are_fourteen_facts_and_disengagement_reads_five_of_them():
    assert len(FACTS) == 14
    assert set(with_disengagement_facts(TreatmentEpisode.objects.all(), today=TODAY).query.annotations) == {
        "risk_last_attended_at",
        "risk_missed_in_a_row",
        "risk_second_missed_at",
        "risk_on_ost",
        "risk_ost_since",
    }


def test_the_caseload_query_compiles_to_the_sql_the_orm_builds(alice, mona, team):
    for user, filters in (
        (alice, {}),
        (alice, {"mine": True, "status": "due"}),
        (mona, {"team_id": team.pk}),
    ):
        episodes = caseload_for_user(user, today=TODAY, **filters)
        compiled = compiled_sql(with_risk_facts(episodes, today=TODAY)[:51])
        built = compiled_sql(with_risk_facts_built(episodes, today=TODAY)[:51])
        assert compiled == built


def test_the_patient_pages_query_compiles_to_the_sql_the_orm_builds(episodes):
    related = episodes[0].patient.episodes.select_related("lead_practitioner").order_by("-entry_date")
    assert compiled_sql(with_risk_facts(related, today=TODAY)) == compiled_sql(
        with_risk_facts_built(related, today=TODAY)
    )


def test_the_facts_read_are_those_the_orm_reads(episodes):
    ids = [episode.pk for episode in episodes]

    def read(annotate):
        rows = annotate(TreatmentEpisode.objects.filter(pk__in=ids), today=TODAY).order_by("pk")
        return list(rows.values_list("pk", *FACTS))

    compiled = read(with_risk_facts)
    assert compiled == read(with_risk_facts_built)
    by_episode = {row[0]: dict(zip(FACTS, row[1:], strict=True)) for row in compiled}
    first, second, third, fourth, fifth = ids
    assert by_episode[first]["risk_missed_in_a_row"] == 2
    assert by_episode[second]["risk_on_ost"] is True
    assert by_episode[second]["risk_ost_since"] == date(
        2026, 3, 10
    )  # the course ended 10 Mar is past 28 days
    assert by_episode[third]["risk_safety_report_end"] == date(2026, 4, 23)
    assert by_episode[fourth]["risk_shared_needle"] is True
    assert by_episode[fourth]["risk_check_up_outcome"] == CheckUpOutcome.RELAPSE_RISK
    assert by_episode[fifth]["risk_missed_in_a_row"] == 0
    assert by_episode[fifth]["risk_on_ost"] is False


def test_a_day_later_the_facts_are_compiled_for_that_day(episodes):
    """The dates in the SQL are the day's: a safety event ages out of the 28 days."""
    third = episodes[2]
    later = TODAY + timedelta(days=30)
    read = with_risk_facts(TreatmentEpisode.objects.filter(pk=third.pk), today=later).get()
    assert read.risk_safety_report_end is None
    assert (
        with_risk_facts(TreatmentEpisode.objects.filter(pk=third.pk), today=TODAY)
        .get()
        .risk_safety_report_end
    )


def test_the_facts_add_no_query_and_compile_nothing_on_the_page(episodes):
    with_risk_facts(TreatmentEpisode.objects.all(), today=TODAY).count()  # compiled for the day
    with CaptureQueriesContext(connection) as queries:
        assert len(list(with_risk_facts(TreatmentEpisode.objects.all(), today=TODAY))) == 5
    assert len(queries) == 1


def test_a_compiled_fact_refuses_to_read_from_another_table_or_as_another_querys_subquery(episodes):
    fact = _compiled_facts(TODAY, "default")["risk_top_on"]
    with pytest.raises(FieldError, match="episodes' own table"):
        list(Patient.objects.annotate(top_on=fact))
    listed = with_risk_facts(TreatmentEpisode.objects.all(), today=TODAY)
    with pytest.raises(FieldError, match="another query"):
        list(TreatmentEpisode.objects.filter(pk__in=listed.values("pk")))
