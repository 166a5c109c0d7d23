"""The nightly recompute with its reads at once (reviews.services.schedule.episodes_schedule_recompute,
recovery_reviews.parallel_reads; docs/design.md, Review scheduling policy; hazard H-019).

- On PostgreSQL outside a transaction the reads run on connections of their own; what is stored is what the reads
  in turn store, item for item and column for column.
- A service that stores a fresher schedule while the recompute runs is never overwritten, in turn or at once:
  each episode's token is read before any of its facts.
- Computed and written a chunk at a time, each chunk written beside the computing of the next, it stores the same;
  a service that stores while an earlier chunk is written is not overwritten by a later one.
"""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, transaction

from patients import services
from patients.models import Circumstance, ExitReason, TreatmentEpisode
from patients.services import evidence
from reviews.dashboards import owed_counts
from reviews.models import OwedCountChange, OwedItem, RecoveryCheckUp, ReviewStatus
from reviews.services import schedule
from reviews.services.schedule import episodes_schedule_recompute
from tests.support.factories import (
    CircumstanceFactory,
    EpisodeFactory,
    PatientFactory,
    PharmacyReportFactory,
    StrategicReviewFactory,
)

pytestmark = [pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = date(2026, 6, 1)
TODAY = FROZEN_AT


def _stored() -> tuple:
    episodes = sorted(
        TreatmentEpisode.objects.values_list(
            "pk",
            "next_review_kind",
            "next_review_target",
            "next_review_deadline",
            "next_review_reasons",
            "first_review_completed_on",
        )
    )
    items = sorted(
        (pk, kind, target, deadline, tuple(reasons), end)
        for pk, kind, target, deadline, reasons, end in OwedItem.objects.values_list(
            "episode_id", "kind", "target", "deadline", "reasons", "element_end"
        )
    )
    return episodes, items


def _forget_every_schedule() -> None:
    OwedItem.objects.all().delete()
    TreatmentEpisode.objects.update(
        next_review_kind="",
        next_review_target=None,
        next_review_deadline=None,
        next_review_reasons=[],
        first_review_completed_on=None,
        schedule_computed_at=None,
    )


def _completed_review(episode, lead, on: date) -> None:
    StrategicReviewFactory(
        episode=episode,
        lead=lead,
        held_on=on,
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=on,
    )


def _report(episode, start: date, missed: list[date]) -> None:
    """A fortnight's pharmacy report from `start`, these days missed."""
    report = PharmacyReportFactory(
        episode=episode,
        period_start=start,
        period_end=start + timedelta(days=13),
        missed_dose_run=len(missed),
    )
    for day in missed:
        report.missed_doses.create(missed_on=day)


def _run_of_three_reported(episode, by) -> None:
    """The service records a fortnight's report with three missed doses in a row, 20 to 22 May: a re-review is
    owed within 28 days of the third (rule 4b), 19 June, earlier than anything else these tests' episodes owe."""
    services.pharmacy_report_record(
        episode=TreatmentEpisode.objects.get(pk=episode.pk),
        pharmacy_name="Boots",
        period_start=date(2026, 5, 18),
        period_end=date(2026, 5, 31),
        doses_due=14,
        supervised_doses_taken=11,
        take_home_doses_collected=0,
        missed_dates=[date(2026, 5, 20), date(2026, 5, 21), date(2026, 5, 22)],
        by=by,
    )


def _varied_caseload(team, alice, sam) -> list[TreatmentEpisode]:
    """Episodes that each take a different rule: new, reviewed, complex needs, a run of missed doses across two
    reports, an ended episode with a check-up held, one whose record needs correcting."""
    episodes = []
    for i in range(12):
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=alice),
            entry_date=date(2025, 7, 1) + timedelta(days=17 * i),
            lead_practitioner=sam,
        )
        episodes.append(episode)
        if i % 3 == 0:
            _completed_review(episode, sam, episode.entry_date + timedelta(days=80))
        if i % 4 == 1:
            CircumstanceFactory(episode=episode, code=Circumstance.COMPLEX_NEEDS)
        if i in (2, 6):  # 6 was reviewed on 30 Dec 2025: the run calls its re-review before 30 Jun
            _report(episode, date(2026, 5, 1), [date(2026, 5, 14)])
            _report(episode, date(2026, 5, 15), [date(2026, 5, 15), date(2026, 5, 16)])
    ended = episodes[7]
    TreatmentEpisode.objects.filter(pk=ended.pk).update(
        exit_date=date(2026, 3, 1), exit_reason=ExitReason.COMPLETED_DRUG_FREE
    )
    RecoveryCheckUp.objects.create(
        episode=ended, sequence=1, held_on=date(2026, 3, 14), held_by=alice, outcome="stable"
    )
    # Completed before entry: the record needs correcting.
    _completed_review(episodes[11], sam, episodes[11].entry_date - timedelta(days=3))
    return episodes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_reads_at_once_store_what_the_reads_in_turn_store(team, alice, sam):
    _varied_caseload(team, alice, sam)
    _forget_every_schedule()
    with transaction.atomic():  # in turn, on this connection
        in_turn = episodes_schedule_recompute(today=TODAY)
    stored_in_turn = _stored()

    _forget_every_schedule()
    at_once = episodes_schedule_recompute(today=TODAY)
    assert _stored() == stored_in_turn
    assert (at_once.episodes, at_once.changed, at_once.errors) == (in_turn.episodes, in_turn.changed, 1)
    assert at_once.changed == 12
    kinds = {kind for _, kind, *_ in stored_in_turn[0]}
    assert {"strategic_review", "recovery_check_up", "record_error"} <= kinds
    # The run of three across the two reports moved its episodes' reviews within 28 days (rule 4b).
    assert any("App. C" in reason for *_, reasons, _ in stored_in_turn[0] for reason in reasons)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("at_once", [False, True], ids=["in turn", "at once"])
def test_a_schedule_a_service_stores_while_the_recompute_reads_is_not_overwritten(
    at_once, team, alice, sam, monkeypatch
):
    """The service commits a run of three missed doses after the recompute read the missed doses: the recompute's
    answer, from the doses before, would move the review back to three months. Before the tokens were read first
    (in turn: the missed doses were read before the episodes), it did."""
    episode = services.episode_open(
        patient=PatientFactory(team=team, keyworker=alice),
        entry_date=date(2026, 4, 15),
        primary_drug="heroin",
        by=alice,
        lead_practitioner=sam,
    )
    _forget_every_schedule()
    recompute_safety_events = evidence.safety_events_recompute

    def then_a_pharmacy_report(**kwargs):
        done = recompute_safety_events(**kwargs)
        _run_of_three_reported(episode, alice)
        return done

    monkeypatch.setattr(evidence, "safety_events_recompute", then_a_pharmacy_report)
    fresh = ("strategic_review", date(2026, 6, 19), date(2026, 6, 19))  # 28 days from the third missed day
    if at_once:
        result = episodes_schedule_recompute(today=TODAY)
    else:
        with transaction.atomic():
            result = episodes_schedule_recompute(today=TODAY)
    stored = TreatmentEpisode.objects.values_list(
        "next_review_kind", "next_review_target", "next_review_deadline"
    ).get(pk=episode.pk)
    assert stored == fresh
    assert list(OwedItem.objects.filter(episode=episode).values_list("kind", "target", "deadline")) == [fresh]
    assert result.changed == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fold_over", [0, 5000], ids=["deferred from the first chunk", "counted"])
def test_written_a_chunk_at_a_time_it_stores_what_one_chunk_stores(
    fold_over, team, alice, sam, mona, monkeypatch
):
    """Five episodes a chunk (three chunks), each written beside the computing of the next, store what the whole
    caseload computed and written at once stores; the kept counts equal the items, deferred or counted."""
    _varied_caseload(team, alice, sam)
    _forget_every_schedule()
    with transaction.atomic():
        whole = episodes_schedule_recompute(today=TODAY)
    stored_whole = _stored()

    _forget_every_schedule()
    owed_counts.rebuild(today=TODAY)
    monkeypatch.setattr(schedule, "RECOMPUTE_CHUNK", 5)
    monkeypatch.setattr(owed_counts, "FOLD_CHANGES_OVER", fold_over)
    chunks = []
    written = schedule.columns_written
    monkeypatch.setattr(schedule, "columns_written", lambda prepared: chunks.append(1) or written(prepared))
    chunked = episodes_schedule_recompute(today=TODAY)
    assert len(chunks) == 3
    assert _stored() == stored_whole
    assert (chunked.episodes, chunked.changed, chunked.errors) == (
        whole.episodes,
        whole.changed,
        whole.errors,
    )
    assert OwedCountChange.objects.exists() == (fold_over > 0)
    for by in [("team_id", "status"), ("team_id", "kind", "status", "week")]:
        assert owed_counts.owed_counts(mona, today=TODAY, by=by) == owed_counts.live_counts(
            mona, today=TODAY, by=by
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_schedule_a_service_stores_while_an_earlier_chunk_is_written_is_not_overwritten(
    team, alice, sam, monkeypatch
):
    """The recompute has written its first chunk (its transaction open) when a service commits a run of three
    missed doses for an episode of the second chunk: the second chunk's compare-and-set leaves that episode, with
    the service's items, and writes the others'."""
    episodes = [
        services.episode_open(
            patient=PatientFactory(team=team, keyworker=alice),
            entry_date=date(2026, 4, 1) + timedelta(days=i),
            primary_drug="heroin",
            by=alice,
            lead_practitioner=sam,
        )
        for i in range(4)
    ]
    raced = episodes[3]
    _forget_every_schedule()
    monkeypatch.setattr(schedule, "RECOMPUTE_CHUNK", 2)
    written = schedule.columns_written
    calls = []

    def service():
        try:
            _run_of_three_reported(raced, alice)
        finally:
            connection.close()

    def then_a_service_for_the_second_chunk(prepared):
        calls.append(1)
        if len(calls) == 2:  # the first chunk written, not committed
            thread = threading.Thread(target=service)
            thread.start()
            thread.join(timeout=30)
        return written(prepared)

    monkeypatch.setattr(schedule, "columns_written", then_a_service_for_the_second_chunk)
    result = episodes_schedule_recompute(today=TODAY)
    fresh = ("strategic_review", date(2026, 6, 19), date(2026, 6, 19))  # 28 days from the third missed day
    assert result.changed == 3
    assert (
        TreatmentEpisode.objects.values_list(
            "next_review_kind", "next_review_target", "next_review_deadline"
        ).get(pk=raced.pk)
        == fresh
    )
    assert list(OwedItem.objects.filter(episode=raced).values_list("kind", "target", "deadline")) == [fresh]
    for episode in episodes[:3]:  # the others written, each with its item (three months from entry, §1.3)
        stored = TreatmentEpisode.objects.get(pk=episode.pk)
        assert stored.next_review_kind == "strategic_review"
        assert list(OwedItem.objects.filter(episode=episode).values_list("target", flat=True)) == [
            stored.next_review_target
        ]
