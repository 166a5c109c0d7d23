"""The patient's timeline: everything recorded in one episode, newest first. One small function per kind of entry
reads the rows the record already holds (recovery_reviews/pages/record.py) and says what a clinician scanning the
page needs: what happened, a word of detail, a flag where it needs attention, and where to act on it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone

from patients.models import AppointmentStatus, DrugTest, ExitReason, PharmacyReport, TopAssessment
from patients.models.leaving import RelapseRisk
from recovery_reviews.formatting import day
from reviews.models import CheckUpOutcome, ReviewStatus

if TYPE_CHECKING:
    from recovery_reviews.pages.record import EpisodeRecord


@dataclass
class TimelineEntry:
    on: date
    kind: str
    title: str
    detail: str = ""
    flag: str = ""  # "danger" or "warning" for attention; "in-error" for an entry kept but not counted
    url: str = ""
    error_url: str = ""  # where to mark the entry as entered in error
    outcome_url: str = ""  # a booked appointment: where to record what happened


def _error_url(kind: str, pk: int) -> str:
    return reverse("patients:entered_in_error", args=[kind, pk])


def _yes_no(answer: bool | None) -> str:
    return {True: "yes", False: "no"}.get(answer, "not recorded")


def episode_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    """Entry and exit. The exit carries its safety check (Intro, App. B): the relapse risk and whether the risk of
    death after leaving treatment, and the skills to reduce it, were discussed; flagged when either was not, or
    the relapse risk was high."""
    episode = record.episode
    yield TimelineEntry(episode.entry_date, "episode", "Entered treatment")
    if episode.exit_date:
        detail = f"{episode.get_exit_reason_display()}."
        if episode.has_exit_check:
            detail += (
                f" Relapse risk: {(episode.get_exit_relapse_risk_display() or 'not recorded').lower()}."
                " Risk of death after leaving treatment discussed: "
                f"{_yes_no(episode.exit_risk_of_death_discussed)}; skills to reduce it discussed: "
                f"{_yes_no(episode.exit_harm_reduction_discussed)}."
            )
            if episode.exit_discussion_note:
                detail += f" {episode.exit_discussion_note}"
        elif episode.exit_reason != ExitReason.DIED:
            detail += " No leaving-treatment safety check was recorded."
        not_discussed = False in (episode.exit_risk_of_death_discussed, episode.exit_harm_reduction_discussed)
        flag = "warning" if not_discussed or episode.exit_relapse_risk == RelapseRisk.HIGH else ""
        yield TimelineEntry(episode.exit_date, "episode", "Left treatment", detail, flag)


def appointment_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for a in record.appointments:
        booked = a.status == AppointmentStatus.BOOKED
        yield TimelineEntry(
            a.starts_at.date(),
            "appointment",
            f"Appointment with {a.keyworker}: {a.get_status_display().lower()}",
            a.review_note,
            "warning" if a.status == AppointmentStatus.MISSED else "",
            outcome_url=reverse("patients:appointment_outcome", args=[a.pk]) if booked else "",
        )


def top_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for top in record.tops:
        yield TimelineEntry(
            top.assessed_on,
            "top",
            f"TOP: {top.get_stage_display().lower()}",
            error_url=_error_url("top", top.pk),
        )


def drug_test_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for test in record.tests:
        results = list(test.results.all())
        yield TimelineEntry(
            test.taken_on,
            "drug_test",
            f"{test.get_method_display()} drug test",
            "; ".join(str(r) for r in results),
            "danger" if any(r.is_unexpected for r in results) else "",
            error_url=_error_url("drug-test", test.pk),
        )


def pharmacy_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for report in record.reports:
        supervised_due = report.doses_due - report.take_home_doses_collected
        detail = f"{report.supervised_doses_taken} of {supervised_due} supervised doses taken"
        if report.missed_dose_run:
            detail += f"; longest run of missed doses {report.missed_dose_run}"
        if report.is_safety_event:  # the run of missed doses this report owns, read across reports (rule 4b)
            detail += f"; a safety event: {report.safety_run} missed doses in a row from {day(report.safety_run_from)}"
            told = report.safety_run_told_on
            detail += f"; prescriber told on {day(told)}" if told else "; prescriber not yet told"
        elif report.prescriber_informed_on:
            detail += f"; prescriber told on {day(report.prescriber_informed_on)}"
        yield TimelineEntry(
            report.period_end,
            "pharmacy",
            f"Pharmacy report, {report.pharmacy_name}",
            detail,
            "danger" if report.is_safety_event else "",
            error_url=_error_url("pharmacy-report", report.pk),
        )


def review_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for review in record.reviews:
        yield TimelineEntry(
            review.held_on,
            "review",
            f"Strategic review led by {review.lead}: {review.get_status_display().lower()}",
            ", ".join(f.get_code_display() for f in review.findings.all()),
            "warning" if review.status == ReviewStatus.AWAITING_PATIENT else "",
            reverse("reviews:detail", args=[review.pk]),
        )


def dispensing_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for d in record.dispensing:
        yield TimelineEntry(
            d.effective_from,
            "dispensing",
            f"Dispensing: {d}",
            f"{d.get_change_reason_display()}. {d.reason_note}",
        )


def intervention_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for i in record.interventions:
        yield TimelineEntry(i.started_on, "intervention", f"Started: {i}", i.note)
        if i.ended_on:
            yield TimelineEntry(i.ended_on, "intervention", f"Ended: {i}")


def circumstance_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for c in record.circumstances:
        yield TimelineEntry(c.started_on, "circumstance", f"Recorded: {c.get_code_display()}", c.note)
        if c.ended_on:
            yield TimelineEntry(c.ended_on, "circumstance", f"No longer: {c.get_code_display()}")


def check_up_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    """Check-ups held, and attempts that could not reach the patient, kept as attempts: the check-up they tried
    stays owed until one is held (docs/design.md rule 7c)."""
    held = {c.sequence: c for c in record.check_ups if not c.is_attempt}
    for check_up in record.check_ups:
        if check_up.is_attempt:
            since = held.get(check_up.sequence)
            standing = f"held on {day(since.held_on)}" if since else "not yet held"
            yield TimelineEntry(
                check_up.held_on,
                "check_up",
                f"Tried to reach them on {day(check_up.held_on)}: could not be reached",
                " ".join(
                    filter(None, [f"Recovery check-up {check_up.sequence}: {standing}.", check_up.notes])
                ),
                "" if since else "warning",
            )
            continue
        relapse = check_up.outcome == CheckUpOutcome.RELAPSE_RISK
        yield TimelineEntry(
            check_up.held_on,
            "check_up",
            f"Recovery check-up {check_up.sequence}",
            check_up.get_outcome_display(),
            "danger" if relapse else "",
        )


def element_check_up_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    """Check-ups after an element of treatment ended (docs/design.md rule 7b), and attempts that could not reach
    the patient: that check-up stays owed until one is held."""
    held = {c.element_end for c in record.element_check_ups if not c.is_attempt}
    for check_up in record.element_check_ups:
        what = f"Check-up after the element of treatment that ended on {day(check_up.element_end)}"
        if check_up.is_attempt:
            standing = "held since" if check_up.element_end in held else "still owed"
            yield TimelineEntry(
                check_up.held_on,
                "check_up",
                f"Tried to reach them on {day(check_up.held_on)}: could not be reached",
                " ".join(filter(None, [f"{what}: {standing}.", check_up.notes])),
                "" if check_up.element_end in held else "warning",
            )
            continue
        yield TimelineEntry(
            check_up.held_on,
            "check_up",
            what,
            " ".join(filter(None, [check_up.get_outcome_display() + ".", check_up.notes])),
            "danger" if check_up.outcome == CheckUpOutcome.RELAPSE_RISK else "",
        )


# Entries kept but marked entered in error: their timeline kind and the date they are shown at.
IN_ERROR_ON_TIMELINE = {
    TopAssessment: ("top", "assessed_on"),
    DrugTest: ("drug_test", "taken_on"),
    PharmacyReport: ("pharmacy", "period_end"),
}


def entered_in_error_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for wrong in record.entered_in_error:
        kind, dated_by = IN_ERROR_ON_TIMELINE[type(wrong)]
        yield TimelineEntry(
            getattr(wrong, dated_by),
            kind,
            f"Entered in error: {wrong}",
            f"{wrong.entered_in_error_reason} (marked by {wrong.entered_in_error_by} on "
            f"{day(wrong.entered_in_error_at)}; not counted as evidence)",
            "in-error",
        )


def correction_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for correction in record.corrections:
        yield TimelineEntry(
            timezone.localdate(correction.corrected_at),
            "correction",
            f"Corrected: {correction}",
            f"{correction.reason} ({correction.corrected_by})",
        )


def care_team_entries(record: EpisodeRecord) -> Iterable[TimelineEntry]:
    for change in record.care_team_changes:
        yield TimelineEntry(
            change.changed_on, "care_team", "Care team: " + "; ".join(change.changes()), change.reason
        )


# Every kind of entry, in the order entries of the same day are listed.
ENTRY_KINDS: tuple[Callable[[EpisodeRecord], Iterable[TimelineEntry]], ...] = (
    episode_entries,
    appointment_entries,
    top_entries,
    drug_test_entries,
    pharmacy_entries,
    review_entries,
    dispensing_entries,
    intervention_entries,
    circumstance_entries,
    check_up_entries,
    element_check_up_entries,
    entered_in_error_entries,
    correction_entries,
    care_team_entries,
)


def build_timeline(record: EpisodeRecord) -> list[TimelineEntry]:
    """Appointments, TOP, drug tests, pharmacy reports, reviews and changes of treatment, newest first."""
    entries = [entry for kind in ENTRY_KINDS for entry in kind(record)]
    return sorted(entries, key=lambda e: e.on, reverse=True)
