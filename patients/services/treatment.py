"""Writes of the treatment delivered (docs/conventions.md 3): leaving treatment, circumstances that call for earlier review
(§1.6), interventions, dispensing arrangements (App. C 1), and appointments with their outcome (§1.1). Each that is
an input of the scheduling policy refreshes the episode's next review in the same transaction."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import (
    MISSED_DOSE_SAFETY_RUN,
    Appointment,
    AppointmentStatus,
    DispensingArrangement,
    EpisodeCircumstance,
    Intervention,
    InterventionKind,
    PharmacyReport,
    TreatmentEpisode,
)
from patients.models.leaving import exit_safety_check_errors
from patients.services.schedule import schedule_refresh
from recovery_reviews.formatting import day, day_and_time
from recovery_reviews.models import Role

OST_IS_PRESCRIBING = (
    "Starting, changing or ending opioid substitution treatment is a prescribing decision: a senior practitioner "
    "records it (§2.5)."
)
TAKE_HOME_IS_PRESCRIBING = (
    "Introducing or extending take-home doses is a prescribing decision: a senior practitioner records it, or "
    "the review that finds the patient stable decides it (§2.5, App. C 1)."
)


@dataclass(frozen=True)
class ExitRecorded:
    """An episode's exit and what ended with it on the exit date."""

    episode: TreatmentEpisode
    interventions_ended: tuple[Intervention, ...]
    dispensing_closed: DispensingArrangement | None


@transaction.atomic
def episode_exit(
    *,
    episode: TreatmentEpisode,
    exit_date: date,
    exit_reason: str,
    by,
    exit_relapse_risk: str = "",
    exit_risk_of_death_discussed: bool | None = None,
    exit_harm_reduction_discussed: bool | None = None,
    exit_discussion_note: str = "",
) -> ExitRecorded:
    """End the episode as a safety check: strategic reviews stop and recovery check-ups become due (§1.7).

    There is a brief raised risk of death just after treatment ends (Intro, App. B), so the exit records the
    relapse risk and whether the risk of death and the skills to reduce it were discussed, with the reason for a
    "no" (exit_safety_check_errors says what a new exit needs). Every intervention still open ends on the exit
    date, and the dispensing arrangement then current is closed on it, in the same transaction: nothing of the
    episode goes on after it. An intervention or arrangement dated after the exit is refused by name, not ended
    silently: one of the two dates is wrong. Recorded once; nothing is saved when anything is refused."""
    episode = TreatmentEpisode.objects.select_for_update().get(pk=episode.pk)
    if episode.exit_date is not None:
        raise ValidationError({"exit_date": f"This episode already ended on {day(episode.exit_date)}."})
    note = (exit_discussion_note or "").strip()
    episode.exit_date, episode.exit_reason = exit_date, exit_reason
    episode.exit_relapse_risk = exit_relapse_risk
    episode.exit_risk_of_death_discussed = exit_risk_of_death_discussed
    episode.exit_harm_reduction_discussed = exit_harm_reduction_discussed
    episode.exit_discussion_note = note
    errors = {
        name: [message]
        for name, message in exit_safety_check_errors(
            exit_reason=exit_reason,
            relapse_risk=exit_relapse_risk,
            risk_of_death_discussed=exit_risk_of_death_discussed,
            harm_reduction_discussed=exit_harm_reduction_discussed,
            note=note,
        ).items()
    }
    try:
        episode.full_clean()
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, messages)
    interventions = list(episode.interventions.select_for_update().order_by("started_on", "pk"))
    arrangements = list(
        episode.dispensing_arrangements.select_for_update().order_by("-effective_from", "-recorded_at")
    )
    if "exit_date" not in errors and (after := _dated_after_exit(exit_date, interventions, arrangements)):
        errors["exit_date"] = after
    if errors:
        raise ValidationError(errors)

    episode.save(update_fields=[*EXIT_FIELDS])
    ended = []
    for intervention in interventions:
        if intervention.ended_on is None:
            intervention.ended_on = exit_date
            intervention.full_clean()
            intervention.save(update_fields=["ended_on"])
            ended.append(intervention)
    current = next((a for a in arrangements if a.effective_from <= exit_date), None)
    if current is not None and current.ended_on is None:
        current.ended_on = exit_date
        current.full_clean()
        current.save(update_fields=["ended_on"])
    else:
        current = None
    schedule_refresh(episode)
    return ExitRecorded(episode=episode, interventions_ended=tuple(ended), dispensing_closed=current)


EXIT_FIELDS = (
    "exit_date",
    "exit_reason",
    "exit_relapse_risk",
    "exit_risk_of_death_discussed",
    "exit_harm_reduction_discussed",
    "exit_discussion_note",
)


def _dated_after_exit(exit_date, interventions, arrangements) -> list[str]:
    """What in the episode is dated after its exit: an intervention that starts or ends after it, an arrangement
    that starts after it. Each would need a wrong date corrected, so each is named."""
    if not isinstance(exit_date, date):
        return []
    found = []
    for i in interventions:
        if i.started_on > exit_date:
            found.append(f"{i} started on {day(i.started_on)}, after this exit date: check the exit date.")
        elif i.ended_on is not None and i.ended_on > exit_date:
            found.append(f"{i} ended on {day(i.ended_on)}, after this exit date: check the exit date.")
    for a in arrangements:
        if a.effective_from > exit_date:
            found.append(
                f"The dispensing arrangement from {day(a.effective_from)} ({a}) starts after this exit date: "
                "check the exit date."
            )
    return found


@transaction.atomic
def circumstance_record(*, episode: TreatmentEpisode, code: str, started_on: date, by, note: str = ""):
    """A §1.6 circumstance that calls for earlier review; current ones shorten the interval (rule 3)."""
    circumstance = EpisodeCircumstance(
        episode=episode, code=code, started_on=started_on, note=note, recorded_by=by
    )
    circumstance.full_clean()
    circumstance.save()
    schedule_refresh(episode)
    return circumstance


@transaction.atomic
def circumstance_end(*, circumstance: EpisodeCircumstance, ended_on: date, by) -> EpisodeCircumstance:
    circumstance = _end_once(circumstance, ended_on, "circumstance")
    schedule_refresh(circumstance.episode)
    return circumstance


@transaction.atomic
def intervention_record(
    *,
    episode: TreatmentEpisode,
    kind: str,
    started_on: date,
    by,
    medicine: str = "",
    daily_dose_mg: Decimal | None = None,
    note: str = "",
) -> Intervention:
    """Start an intervention. Opioid substitution treatment, its start or a new dose or medicine (a change is the
    old course ended and the new one started), is a prescribing decision, for a senior practitioner (§2.5)."""
    if kind == InterventionKind.OST and by.role != Role.SENIOR_PRACTITIONER:
        raise ValidationError({"kind": OST_IS_PRESCRIBING})
    intervention = Intervention(
        episode=episode,
        kind=kind,
        started_on=started_on,
        medicine=medicine,
        daily_dose_mg=daily_dose_mg,
        note=note,
    )
    intervention.full_clean()
    intervention.save()
    schedule_refresh(
        episode
    )  # the start of OST, detox, residential or inpatient treatment is a transition (rule 3b)
    return intervention


@transaction.atomic
def intervention_end(*, intervention: Intervention, ended_on: date, by) -> Intervention:
    """End an intervention once. The end of OST, detox, residential or inpatient treatment is a transition that
    brings the strategic review within 3 months (docs/design.md, rule 3b). Ending OST is a prescribing
    decision, for a senior practitioner (§2.5): otherwise a keyworker could end it and then lead the review."""
    if intervention.kind == InterventionKind.OST and by.role != Role.SENIOR_PRACTITIONER:
        raise ValidationError({"ended_on": OST_IS_PRESCRIBING})
    ended = _end_once(intervention, ended_on, "intervention")
    schedule_refresh(ended.episode)
    return ended


def _end_once(record, ended_on: date, what: str):
    """Set a record's end date once: an end already recorded is never silently overwritten."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if record.ended_on is not None:
        raise ValidationError({"ended_on": f"This {what} already ended on {day(record.ended_on)}."})
    record.ended_on = ended_on
    record.full_clean()
    record.save(update_fields=["ended_on"])
    return record


@transaction.atomic
def dispensing_change_record(
    *,
    episode: TreatmentEpisode,
    effective_from: date,
    take_home_doses_per_week: int,
    change_reason: str,
    reason_note: str,
    by,
) -> DispensingArrangement:
    """A new dispensing arrangement; the old ones stay as its history (App. C 1).

    More take-home doses a week than the arrangement in force that day (introducing or extending them) is a
    prescribing decision, for a senior practitioner (§2.5), and App. C 1 gives it only to a patient with
    demonstrated stability: it is refused while a run of missed doses waits for the prescriber to be told
    (tolerance may be lost; docs/design.md rule 4b), whoever records it, at a review or not. Fewer take-home
    doses, or supervision reinstated, is never refused on these grounds."""
    current = (
        episode.dispensing_arrangements.filter(effective_from__lte=effective_from)
        .order_by("-effective_from", "-recorded_at")
        .first()
    )
    if take_home_doses_per_week is not None and take_home_doses_per_week > (
        current.take_home_doses_per_week if current else 0
    ):
        _check_take_home_increase(episode, by)
    arrangement = DispensingArrangement(
        episode=episode,
        effective_from=effective_from,
        take_home_doses_per_week=take_home_doses_per_week,
        change_reason=change_reason,
        reason_note=reason_note.strip(),
        recorded_by=by,
    )
    arrangement.full_clean()
    arrangement.save()
    return arrangement


def _check_take_home_increase(episode: TreatmentEpisode, by) -> None:
    if by.role != Role.SENIOR_PRACTITIONER:
        raise ValidationError({"take_home_doses_per_week": TAKE_HOME_IS_PRESCRIBING})
    untold = untold_safety_event(episode)
    if untold is not None:
        raise ValidationError(
            {
                "take_home_doses_per_week": f"{untold.safety_run} doses in a row were missed from "
                f"{day(untold.safety_run_from)} and the prescriber is not yet recorded as told: record that they "
                "were told (on the pharmacy report) before take-home doses are introduced or extended (App. C 1)."
            }
        )


def untold_safety_event(episode: TreatmentEpisode) -> PharmacyReport | None:
    """The earliest safety event of the episode (a run of missed doses, read across its reports, rule 4b) whose
    prescriber is not yet recorded as told; reports entered in error do not count."""
    return (
        PharmacyReport.objects.filter(
            episode=episode, safety_run__gte=MISSED_DOSE_SAFETY_RUN, safety_run_told_on__isnull=True
        )
        .order_by("safety_run_from", "pk")
        .first()
    )


@transaction.atomic
def appointment_record(
    *, episode: TreatmentEpisode, keyworker, starts_at, status: str, by, review_note: str = ""
) -> Appointment:
    appointment = Appointment(
        episode=episode,
        keyworker=keyworker,
        starts_at=starts_at,
        status=status,
        review_note=review_note.strip(),
    )
    appointment.full_clean()
    appointment.save()
    return appointment


@transaction.atomic
def appointment_outcome_record(
    *, appointment: Appointment, status: str, by, review_note: str = ""
) -> Appointment:
    """What became of a booked appointment: attended (with its ongoing-review note, §1.1), missed or cancelled.
    Recorded once: an outcome is the record of what happened, so it is not changed afterwards."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ValidationError(
            f"This appointment's outcome is already recorded: {appointment.get_status_display().lower()}."
        )
    if status == AppointmentStatus.BOOKED:
        raise ValidationError({"status": "Choose what happened: attended, missed or cancelled."})
    if (
        status in (AppointmentStatus.ATTENDED, AppointmentStatus.MISSED)
        and appointment.starts_at > timezone.now()
    ):
        raise ValidationError(
            {
                "status": f"The appointment is on {day_and_time(timezone.localtime(appointment.starts_at))}: "
                "it can be cancelled now, attended or missed once its time has come."
            }
        )
    appointment.status, appointment.review_note = status, review_note.strip()
    appointment.full_clean()
    appointment.save(update_fields=["status", "review_note"])
    return appointment
