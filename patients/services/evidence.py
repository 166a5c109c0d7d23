"""Writes of the evidence a review weighs (docs/conventions.md 3; §2.9): TOP, drug tests and pharmacy reports, the
prescriber told of missed doses, and marking an entry as entered in error (kept, no longer counted)."""

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import (
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
    (App. C 1; docs/design.md rule 4). The prescriber must be told before dosing resumes: when the report comes in
    after they were, the date is recorded with it."""
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
    schedule_refresh(episode)
    return report


@transaction.atomic
def prescriber_informed_record(*, report: PharmacyReport, informed_on: date, by) -> PharmacyReport:
    """Record that the prescriber was told of the missed doses, which must happen before dosing resumes
    (tolerance may be lost). Recorded once: the first date stands."""
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
    return report


@transaction.atomic
def record_mark_entered_in_error(*, record: TopAssessment | DrugTest | PharmacyReport, reason: str, by):
    """Mark a TOP, drug test or pharmacy report as entered in error: kept, never overwritten or deleted, but no
    longer counted as evidence. A pharmacy report's missed doses can have called an earlier review (App. C 1),
    so the schedule is worked out again."""
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
    schedule_refresh(record.episode)
    return record
