"""Writes of the evidence a review weighs (docs/conventions.md 3; §2.9): TOP, drug tests and pharmacy reports, the
prescriber told of missed doses, and marking an entry as entered in error (kept, no longer counted)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from patients.missed_doses import missed_dose_runs, owned_safety_events
from patients.models import (
    MISSED_DOSE_SAFETY_RUN,
    DrugTest,
    DrugTestResult,
    MissedDose,
    PharmacyReport,
    TopAssessment,
    TreatmentEpisode,
    longest_missed_run,
)
from patients.services.schedule import schedule_refresh
from recovery_reviews.formatting import day


@transaction.atomic
def top_assessment_record(*, episode: TreatmentEpisode, assessed_on: date, stage: str, answers: dict, by):
    """A Treatment Outcomes Profile; an item left out of `answers` is recorded as not answered (not zero)."""
    unknown = sorted(set(answers) - {f.name for f in TopAssessment._meta.concrete_fields})
    if unknown:
        raise ValidationError(f"Unknown TOP items: {', '.join(unknown)}.")
    assessment = TopAssessment(
        episode=episode, assessed_on=assessed_on, stage=stage, recorded_by=by, **answers
    )
    assessment.full_clean()
    assessment.save()
    return assessment


@transaction.atomic
def drug_test_record(
    *, episode: TreatmentEpisode, taken_on: date, method: str, results: list[dict], by, note: str = ""
) -> DrugTest:
    """A sample tested for several substances at once; one result per substance (§2.9)."""
    if not results:
        raise ValidationError("Record the result for at least one substance.")
    substances = [r["substance"] for r in results]
    if len(set(substances)) != len(substances):
        raise ValidationError("Each substance can have only one result in a test.")
    test = DrugTest(episode=episode, taken_on=taken_on, method=method, note=note, recorded_by=by)
    test.full_clean()
    test.save()
    rows = [DrugTestResult(test=test, **result) for result in results]
    for row in rows:
        row.full_clean(exclude=["test"])
    DrugTestResult.objects.bulk_create(rows)
    return test


@transaction.atomic
def pharmacy_report_record(
    *,
    episode: TreatmentEpisode,
    pharmacy_name: str,
    period_start: date,
    period_end: date,
    doses_due: int,
    supervised_doses_taken: int,
    take_home_doses_collected: int,
    missed_dates: Iterable[date],
    by,
    concerns: str = "",
    prescriber_informed_on: date | None = None,
) -> PharmacyReport:
    """A dispensing pharmacist's report. Three or more consecutive missed doses of an opioid substitute is a
    safety event (tolerance may be lost) and deteriorating adherence: the next review moves to within 28 days
    (App. C 1; docs/design.md rule 4). The run is read across the episode's reports (rule 4b), so the safety
    events every report of the episode owns are stored again (safety_events_refresh). The prescriber must be told
    before dosing resumes: when the report comes in after they were, the date is recorded with it."""
    missed = sorted(set(missed_dates))
    report = PharmacyReport(
        episode=episode,
        pharmacy_name=pharmacy_name.strip(),
        period_start=period_start,
        period_end=period_end,
        doses_due=doses_due,
        supervised_doses_taken=supervised_doses_taken,
        take_home_doses_collected=take_home_doses_collected,
        concerns=concerns.strip(),
        missed_dose_run=longest_missed_run(missed),
        prescriber_informed_on=prescriber_informed_on,
        prescriber_informed_by=by if prescriber_informed_on else None,
        recorded_by=by,
    )
    if prescriber_informed_on and prescriber_informed_on > timezone.localdate():
        raise ValidationError({"prescriber_informed_on": "This date is in the future."})
    report.full_clean()
    outside = [d for d in missed if not period_start <= d <= period_end]
    if outside:
        raise ValidationError(
            {
                "missed_dates": "Missed doses must fall within the report's period: "
                + ", ".join(day(d) for d in outside)
                + " do not."
            }
        )
    if len(missed) + supervised_doses_taken + take_home_doses_collected > doses_due:
        raise ValidationError(
            {
                "missed_dates": f"{len(missed)} missed, {supervised_doses_taken} taken and {take_home_doses_collected} "
                f"collected is more than the {doses_due} doses due."
            }
        )
    report.save()
    MissedDose.objects.bulk_create([MissedDose(report=report, missed_on=d) for d in missed])
    safety_events_refresh(episode=episode)
    schedule_refresh(episode)
    report.refresh_from_db(fields=SAFETY_EVENT_FIELDS)
    return report


@transaction.atomic
def prescriber_informed_record(*, report: PharmacyReport, informed_on: date, by) -> PharmacyReport:
    """Record that the prescriber was told of the missed doses, which must happen before dosing resumes
    (tolerance may be lost). Recorded once: the first date stands. Recorded on the report that owns the run (the
    safety alert links to it), it is told for the whole run, whichever reports its days fall in; recorded on
    another report of the run, it counts for the run when it is on or after the run's third missed day
    (patients/missed_doses.py)."""
    report = PharmacyReport.objects.select_for_update().get(pk=report.pk)
    if report.prescriber_informed_on is not None:
        raise ValidationError(
            f"Already recorded: the prescriber was told on {day(report.prescriber_informed_on)}."
        )
    if informed_on > timezone.localdate():
        raise ValidationError({"informed_on": "This date is in the future."})
    if informed_on < report.period_start:
        raise ValidationError(
            {"informed_on": f"This is before the report's period began on {day(report.period_start)}."}
        )
    report.prescriber_informed_on, report.prescriber_informed_by = informed_on, by
    report.save(update_fields=["prescriber_informed_on", "prescriber_informed_by"])
    safety_events_refresh(episode=report.episode)
    report.refresh_from_db(fields=SAFETY_EVENT_FIELDS)
    return report


@transaction.atomic
def record_mark_entered_in_error(*, record: TopAssessment | DrugTest | PharmacyReport, reason: str, by):
    """Mark a TOP, drug test or pharmacy report as entered in error: kept, never overwritten or deleted, but no
    longer counted as evidence. A pharmacy report's missed doses can have called an earlier review (App. C 1)
    and been part of a run with other reports' (rule 4b): the safety events are stored again without them (a
    report entered in error breaks the run) and the schedule is worked out again."""
    model = type(record)
    record = model.with_errors.select_for_update().select_related("episode").get(pk=record.pk)
    if record.is_entered_in_error:
        raise ValidationError(
            f"This was already marked as entered in error on {day(record.entered_in_error_at)}: "
            f"{record.entered_in_error_reason}"
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say what was wrong, for example: recorded against the wrong patient."}
        )
    record.entered_in_error_at = timezone.now()
    record.entered_in_error_by = by
    record.entered_in_error_reason = reason
    record.save(update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"])
    if model is PharmacyReport:
        safety_events_refresh(episode=record.episode)
        record.refresh_from_db(fields=SAFETY_EVENT_FIELDS)
    schedule_refresh(record.episode)
    return record


# --- Safety events read across reports (docs/design.md rule 4b) --------------------------------------------------

SAFETY_EVENT_FIELDS = ["safety_run", "safety_run_from", "safety_run_told_on"]


def safety_events_refresh(*, episode: TreatmentEpisode) -> int:
    """Store again the safety event each pharmacy report of `episode` owns (PharmacyReport.safety_run and its
    two dates), from every missed dose of the episode's reports read together, entries in error left out: a run
    is a run wherever it spans, owned by the report that holds its third missed day, and told once for the whole
    run (patients/missed_doses.py). Called in the transaction of every write that changes a run or its told
    date; the episode's row is locked first, so two writes to one episode store one after the other, each from
    what the other committed. Four queries: the lock, the stored events, the missed doses, and one UPDATE of
    what changed (none when nothing did). Returns the number of reports changed."""
    locked = TreatmentEpisode.objects.select_for_update().filter(pk=episode.pk)
    return _safety_events_store(list(locked.values_list("pk", flat=True)))


def safety_events_recompute(
    *, episodes: QuerySet[TreatmentEpisode], missed_out: dict | None = None, missed_out_run: int | None = None
) -> int:
    """safety_events_refresh for every episode of `episodes` at once, unlocked: the nightly safety net (with the
    schedule's, reviews.services.schedule.episodes_schedule_recompute) and records loaded in bulk without the
    services (the demo and England-scale seeders). Reads with a fixed number of queries whatever the number of
    episodes, and writes only what changed, in batches. The stored events are read before the missed doses, so a
    write committed between the two reads is never undone by this one.

    With `missed_out`, a dict, the missed days (of reports not entered in error) of each episode that holds a run
    of `missed_out_run` days, or of a safety event's three if that is shorter, are put in it by episode id, so
    that the schedule's recompute reads the missed doses once, not twice (rule 4b reads no other episode's). On
    PostgreSQL only those episodes' missed doses are read at all: the database finds them (_runs_of)."""
    return _safety_events_store(episodes, missed_out, missed_out_run or MISSED_DOSE_SAFETY_RUN)


def _runs_of(episodes: QuerySet[TreatmentEpisode], length: int) -> RawSQL:
    """The ids of the episodes among `episodes` whose missed doses (of reports not entered in error, a day in two
    reports once) hold a run of `length` consecutive days or more, as a subquery (PostgreSQL): consecutive days
    less their rank among the episode's days are one island, and an island `length` days wide is such a run.
    holds_run, which reads the same days in Python, still decides for each episode read."""
    inner, params = episodes.values("pk").query.sql_with_params()
    days = f"""
        SELECT r.episode_id, m.missed_on,
               m.missed_on - (dense_rank() OVER (PARTITION BY r.episode_id ORDER BY m.missed_on))::integer AS island
          FROM {MissedDose._meta.db_table} m JOIN {PharmacyReport._meta.db_table} r ON r.id = m.report_id
         WHERE r.entered_in_error_at IS NULL AND r.episode_id IN ({inner})"""
    return RawSQL(
        f"SELECT episode_id FROM ({days}) AS days GROUP BY episode_id, island "
        "HAVING max(missed_on) - min(missed_on) >= %s",
        (*params, length - 1),
    )


def _safety_events_store(episodes, missed_out: dict | None = None, missed_out_run: int = 0) -> int:
    stored = {
        pk: (length, first, told)
        for pk, length, first, told in PharmacyReport.with_errors.filter(
            episode__in=episodes,
            safety_run__gte=MISSED_DOSE_SAFETY_RUN,  # through pharmacy_safety_events
        ).values_list("pk", *SAFETY_EVENT_FIELDS)
    }
    # Only a run of three or more is owned as a safety event: an episode without one (most) stores none, and
    # the schedule asks for no other episode's days (a policy may count a shorter run: missed_out_run).
    shortest = (
        min(MISSED_DOSE_SAFETY_RUN, missed_out_run) if missed_out is not None else MISSED_DOSE_SAFETY_RUN
    )
    doses = MissedDose.objects.filter(report__entered_in_error_at__isnull=True, report__episode__in=episodes)
    if connection.vendor == "postgresql" and isinstance(episodes, QuerySet):
        doses = doses.filter(report__episode_id__in=_runs_of(episodes, shortest))
    missed, told = defaultdict(list), {}
    for episode_id, report_id, missed_on, told_on in doses.values_list(
        "report__episode_id", "report_id", "missed_on", "report__prescriber_informed_on"
    ):
        missed[episode_id].append((missed_on, report_id))
        told[report_id] = told_on
    wanted = {}
    for episode_id, pairs in missed.items():
        days = [missed_on for missed_on, _ in pairs]
        if not holds_run(days, shortest):
            continue
        if missed_out is not None:
            missed_out[episode_id] = days
        if shortest < MISSED_DOSE_SAFETY_RUN and not holds_run(days, MISSED_DOSE_SAFETY_RUN):
            continue
        for report_id, event in owned_safety_events(missed_dose_runs(pairs), told).items():
            wanted[report_id] = (event.length, event.first, event.told_on)
    nothing = (0, None, None)
    changed = [
        (pk, *wanted.get(pk, nothing))
        for pk in sorted(set(stored) | set(wanted))
        if wanted.get(pk, nothing) != stored.get(pk, nothing)
    ]
    _safety_events_write(changed)
    return len(changed)


def holds_run(days: list[date], length: int) -> bool:
    """Whether `days` hold `length` or more consecutive calendar days (a day given twice counts once): the cheap
    test that lets the nightly recompute skip the runs of the many episodes that have none."""
    if len(days) < max(length, 1):
        return False
    if length <= 1:
        return True
    ordinals = sorted({day.toordinal() for day in days})
    span = length - 1
    # Distinct and sorted: `length` of them are consecutive days when the first and last are `span` days apart.
    return any(ordinals[i + span] - ordinals[i] == span for i in range(len(ordinals) - span))


def _safety_events_write(changed: list[tuple]) -> None:
    """The changed reports' safety events, (id, safety_run, safety_run_from, safety_run_told_on) each: on
    PostgreSQL one UPDATE ... FROM unnest(...) whatever their number (the first recompute after a bulk load
    changes tens of thousands; bulk_update's CASE per row took 30 s for 43,000 at England scale), elsewhere
    bulk_update."""
    if not changed:
        return
    if connection.vendor != "postgresql":
        reports = [
            PharmacyReport(pk=pk, **dict(zip(SAFETY_EVENT_FIELDS, values, strict=True)))
            for pk, *values in changed
        ]
        PharmacyReport.with_errors.bulk_update(reports, SAFETY_EVENT_FIELDS, batch_size=500)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {PharmacyReport._meta.db_table} AS r
                   SET safety_run = v.run, safety_run_from = v.run_from, safety_run_told_on = v.told_on
                  FROM unnest(%s::bigint[], %s::smallint[], %s::date[], %s::date[]) AS v(id, run, run_from, told_on)
                 WHERE r.id = v.id""",
            [list(column) for column in zip(*changed, strict=True)],
        )
