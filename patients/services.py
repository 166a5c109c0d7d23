"""Every write of the clinical record (CONVENTIONS.md 3). Each validates the whole record with full_clean, so
bad input gets the same clear messages whatever the caller, runs in one transaction, and recomputes the
episode's next review where the change is an input of the scheduling policy (DESIGN.md)."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone

from patients.models import (
    Appointment,
    AppointmentStatus,
    CareTeamChange,
    DispensingArrangement,
    DrugTest,
    DrugTestResult,
    EpisodeCircumstance,
    Intervention,
    MissedDose,
    Patient,
    PharmacyReport,
    RecordCorrection,
    Substance,
    TopAssessment,
    TreatmentEpisode,
    longest_missed_run,
)
from patients.validators import normalise_nhs_number
from reviews.services.schedule import episode_schedule_refresh


def _refresh(episode: TreatmentEpisode) -> None:
    episode_schedule_refresh(episode)


@transaction.atomic
def patient_create(*, given_name, family_name, date_of_birth, team, keyworker, nhs_number="", by) -> Patient:
    patient = Patient(
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        team=team,
        keyworker=keyworker,
        nhs_number=nhs_number,
    )
    patient.full_clean()
    patient.save()
    return patient


NHS_NUMBER_TAKEN = (
    "A patient with this NHS number is already registered. Search the caseload for them; if they are with "
    "another team, ask its manager to move them rather than registering them twice."
)


@transaction.atomic
def patient_register(
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    team,
    keyworker,
    entry_date: date,
    primary_drug: str,
    by,
    nhs_number: str = "",
    other_substances: Iterable[str] = (),
    co_morbidities: str = "",
    lead_practitioner=None,
    different_person: bool = False,
) -> TreatmentEpisode:
    """Someone entering treatment: the patient and the episode that starts their review schedule (§1.3), both or
    neither. A second record of one person splits their evidence in two (and, on OST, risks a second
    prescription), so an NHS number already on record is refused, and a namesake born the same day must be
    confirmed as a different person. Both checks look across every team: the answer says only that a record
    exists, never whose or where."""
    nhs_number = normalise_nhs_number(nhs_number)
    if nhs_number and Patient.objects.filter(nhs_number=nhs_number).exists():
        raise ValidationError({"nhs_number": NHS_NUMBER_TAKEN})
    namesakes = Patient.objects.filter(
        given_name__iexact=given_name.strip(),
        family_name__iexact=family_name.strip(),
        date_of_birth=date_of_birth,
    )
    if not different_person and namesakes.exists():
        raise ValidationError(
            {
                "different_person": "A patient with this name and date of birth is already registered. Search "
                "the caseload first; if this is someone else, tick the box and save again."
            }
        )
    try:
        with transaction.atomic():
            patient = patient_create(
                given_name=given_name.strip(),
                family_name=family_name.strip(),
                date_of_birth=date_of_birth,
                team=team,
                keyworker=keyworker,
                nhs_number=nhs_number,
                by=by,
            )
    except IntegrityError as error:  # registered by someone else since the check above
        if "unique_nhs_number" in str(error) or "nhs_number" in str(error):
            raise ValidationError({"nhs_number": NHS_NUMBER_TAKEN}) from error
        raise
    return episode_open(
        patient=patient,
        entry_date=entry_date,
        primary_drug=primary_drug,
        other_substances=other_substances,
        co_morbidities=co_morbidities,
        lead_practitioner=lead_practitioner,
        by=by,
    )


@transaction.atomic
def episode_open(
    *,
    patient: Patient,
    entry_date: date,
    primary_drug: str,
    by,
    other_substances: Iterable[str] = (),
    co_morbidities: str = "",
    lead_practitioner=None,
) -> TreatmentEpisode:
    if patient.episodes.filter(exit_date__isnull=True).exists():
        raise ValidationError(
            "This patient already has an open treatment episode: end it before opening another."
        )
    episode = TreatmentEpisode(
        patient=patient,
        entry_date=entry_date,
        primary_drug=primary_drug,
        other_substances=list(other_substances),
        co_morbidities=co_morbidities,
        lead_practitioner=lead_practitioner,
    )
    episode.full_clean()
    episode.save()
    _refresh(episode)
    return episode


@transaction.atomic
def episode_exit(*, episode: TreatmentEpisode, exit_date: date, exit_reason: str, by) -> TreatmentEpisode:
    """End the episode: strategic reviews stop and recovery check-ups become due (§1.7)."""
    episode = TreatmentEpisode.objects.select_for_update().get(pk=episode.pk)
    if episode.exit_date is not None:
        raise ValidationError({"exit_date": f"This episode already ended on {episode.exit_date:%d %b %Y}."})
    episode.exit_date, episode.exit_reason = exit_date, exit_reason
    episode.full_clean()
    episode.save(update_fields=["exit_date", "exit_reason"])
    _refresh(episode)
    return episode


@transaction.atomic
def circumstance_record(*, episode: TreatmentEpisode, code: str, started_on: date, by, note: str = ""):
    """A §1.6 circumstance that calls for earlier review; current ones shorten the interval (rule 3)."""
    circumstance = EpisodeCircumstance(
        episode=episode, code=code, started_on=started_on, note=note, recorded_by=by
    )
    circumstance.full_clean()
    circumstance.save()
    _refresh(episode)
    return circumstance


@transaction.atomic
def circumstance_end(*, circumstance: EpisodeCircumstance, ended_on: date, by) -> EpisodeCircumstance:
    circumstance = _end_once(circumstance, ended_on, "circumstance")
    _refresh(circumstance.episode)
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
    return intervention


@transaction.atomic
def intervention_end(*, intervention: Intervention, ended_on: date, by) -> Intervention:
    return _end_once(intervention, ended_on, "intervention")


def _end_once(record, ended_on: date, what: str):
    """Set a record's end date once: an end already recorded is never silently overwritten."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if record.ended_on is not None:
        raise ValidationError({"ended_on": f"This {what} already ended on {record.ended_on:%d %b %Y}."})
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
    """A new dispensing arrangement; the old ones stay as its history (App. C 1)."""
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
    (App. C 1; DESIGN.md rule 4). The prescriber must be told before dosing resumes: when the report comes in
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
                + ", ".join(f"{d:%d %b %Y}" for d in outside)
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
    _refresh(episode)
    return report


@transaction.atomic
def patient_move(
    *, patient: Patient, team, keyworker, reason: str, by, lead_practitioner=None
) -> CareTeamChange:
    """Move a patient to another keyworker, team or lead practitioner, and keep why. Their episodes follow the
    patient's team and keyworker by database trigger; reminders follow at the next sweep, which asks who looks
    after the patient now (and withdraws any not yet sent to someone who no longer does)."""
    from recovery_reviews.models import Role
    from reviews.models import ReviewStatus, StrategicReview

    patient = Patient.objects.select_for_update().select_related("team", "keyworker").get(pk=patient.pk)
    episode = patient.episodes.filter(exit_date__isnull=True).select_related("lead_practitioner").first()
    reason = reason.strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why: the next keyworker and any later review will want to know."
    if keyworker.role != Role.KEYWORKER or not keyworker.is_active:
        errors["keyworker"] = f"{keyworker} is not an active keyworker."
    elif keyworker.team_id != team.pk:
        errors["keyworker"] = f"{keyworker} works in {keyworker.team}: choose a keyworker in {team}."
    if lead_practitioner is not None and episode is not None:
        if lead_practitioner.role != Role.SENIOR_PRACTITIONER or not lead_practitioner.is_active:
            errors["lead_practitioner"] = f"{lead_practitioner} is not an active senior practitioner."
        elif lead_practitioner.team_id != team.pk:
            errors["lead_practitioner"] = (
                f"{lead_practitioner} works in {lead_practitioner.team}: choose one in {team}."
            )
    from_lead = episode.lead_practitioner if episode else None
    to_lead = (lead_practitioner if lead_practitioner is not None else from_lead) if episode else None
    if episode and to_lead is not None and to_lead.team_id != team.pk and "lead_practitioner" not in errors:
        errors["lead_practitioner"] = (
            f"{to_lead} leads this patient's reviews but works in {to_lead.team}: choose a lead practitioner in "
            f"{team} (§2.5)."
        )
    if (team.pk, keyworker.pk, getattr(to_lead, "pk", None)) == (
        patient.team_id,
        patient.keyworker_id,
        getattr(from_lead, "pk", None),
    ):
        errors[NON_FIELD_ERRORS] = (
            "Nothing would change: choose a different keyworker, team or lead practitioner."
        )
    if team.pk != patient.team_id:
        unfinished = (
            StrategicReview.objects.filter(
                episode__patient=patient, status__in=[ReviewStatus.DRAFT, ReviewStatus.AWAITING_PATIENT]
            )
            .exclude(lead__team=team)
            .select_related("lead")
            .first()
        )
        if unfinished:
            errors["team"] = (
                f"The strategic review of {unfinished.held_on:%d %b %Y} led by {unfinished.lead} is "
                f"{unfinished.get_status_display().lower()}, and its lead must work in the patient's team to "
                f"complete it (§2.5). Complete it before moving {patient} to {team}."
            )
    if errors:
        raise ValidationError(errors)

    change = CareTeamChange(
        patient=patient,
        changed_on=timezone.localdate(),
        from_team=patient.team,
        to_team=team,
        from_keyworker=patient.keyworker,
        to_keyworker=keyworker,
        from_lead=from_lead,
        to_lead=to_lead,
        reason=reason,
        recorded_by=by,
    )
    change.full_clean()
    patient.team, patient.keyworker = team, keyworker
    patient.save(update_fields=["team", "keyworker"])  # the episodes follow by trigger (patients/0004)
    if episode and to_lead != from_lead:
        episode.lead_practitioner = to_lead
        episode.save(update_fields=["lead_practitioner"])
    change.save()
    return change


@transaction.atomic
def record_mark_entered_in_error(*, record: TopAssessment | DrugTest | PharmacyReport, reason: str, by):
    """Mark a TOP, drug test or pharmacy report as entered in error: kept, never overwritten or deleted, but no
    longer counted as evidence. A pharmacy report's missed doses can have called an earlier review (App. C 1),
    so the schedule is worked out again."""
    model = type(record)
    record = model.with_errors.select_for_update().select_related("episode").get(pk=record.pk)
    if record.is_entered_in_error:
        raise ValidationError(
            f"This was already marked as entered in error on {record.entered_in_error_at:%d %b %Y}: "
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
    _refresh(record.episode)
    return record


PATIENT_DETAILS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "nhs_number": "NHS number",
}
EPISODE_DETAILS = {
    "entry_date": "Entered treatment on",
    "primary_drug": "Primary problem drug",
    "other_substances": "Other problem substances",
    "co_morbidities": "Co-morbidities",
}


def _earliest_recorded(episode: TreatmentEpisode) -> tuple[date, str] | None:
    """The earliest date anything was recorded in the episode, and what it was: an entry date after it cannot be
    right."""
    from reviews.models import StrategicReview

    firsts = [
        (episode.appointments.aggregate(on=Min("starts_at__date"))["on"], "an appointment"),
        (episode.top_assessments.aggregate(on=Min("assessed_on"))["on"], "a TOP"),
        (episode.drug_tests.aggregate(on=Min("taken_on"))["on"], "a drug test"),
        (episode.pharmacy_reports.aggregate(on=Min("period_start"))["on"], "a pharmacy report"),
        (episode.interventions.aggregate(on=Min("started_on"))["on"], "an intervention"),
        (
            episode.dispensing_arrangements.aggregate(on=Min("effective_from"))["on"],
            "a dispensing arrangement",
        ),
        (episode.circumstances.aggregate(on=Min("started_on"))["on"], "a circumstance"),
        (
            StrategicReview.objects.filter(episode=episode).aggregate(on=Min("held_on"))["on"],
            "a strategic review",
        ),
    ]
    dated = [(on, what) for on, what in firsts if on is not None]
    return min(dated) if dated else None


def _shown(episode_or_patient, name: str) -> str:
    value = getattr(episode_or_patient, name)
    if name == "primary_drug":
        return episode_or_patient.get_primary_drug_display()
    if name == "other_substances":
        labels = dict(Substance.choices)
        return ", ".join(labels.get(code, code) for code in value)
    if isinstance(value, date):
        return f"{value:%d %b %Y}"
    return str(value or "")


@transaction.atomic
def details_correct(
    *, patient: Patient, episode: TreatmentEpisode | None, changes: dict, reason: str, by
) -> list[RecordCorrection]:
    """Correct details of a patient and of one of their episodes, keeping each change with its reason. A new
    entry date moves the first review (§1.3), so the schedule is worked out again; it may not fall after anything
    already recorded in the episode, nor after its exit."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if episode is not None:
        episode = TreatmentEpisode.objects.select_for_update().get(pk=episode.pk, patient=patient)
    reason = reason.strip()
    corrections = []
    for name, label in PATIENT_DETAILS.items():
        if name in changes and changes[name] != getattr(patient, name):
            before = _shown(patient, name)
            setattr(patient, name, changes[name])
            corrections.append((None, name, label, before, _shown(patient, name)))

    def differs(name, new, old) -> bool:
        return set(new) != set(old) if name == "other_substances" else new != old  # a list in any order

    for name, label in EPISODE_DETAILS.items():
        if episode is not None and name in changes and differs(name, changes[name], getattr(episode, name)):
            before = _shown(episode, name)
            setattr(episode, name, changes[name])
            corrections.append((episode, name, label, before, _shown(episode, name)))
    errors = {}
    if not corrections:
        errors[NON_FIELD_ERRORS] = "Nothing would change: correct a detail, or cancel."
    if not reason:
        errors["reason"] = "Say why, for example: the date of entry was mistyped at registration."
    try:
        patient.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    if episode is not None:
        try:
            episode.full_clean(exclude=["patient"])
        except ValidationError as error:
            errors.update(error.message_dict)
        entry = episode.entry_date
        if "entry_date" not in errors:
            earliest = _earliest_recorded(episode)
            if entry > timezone.localdate():
                errors["entry_date"] = "This date is in the future."
            elif entry < patient.date_of_birth:
                errors["entry_date"] = "This is before the patient's date of birth: check both dates."
            elif earliest and entry > earliest[0]:
                errors["entry_date"] = (
                    f"The episode already has {earliest[1]} on {earliest[0]:%d %b %Y}: treatment cannot have "
                    "begun after it."
                )
    if errors:
        raise ValidationError(errors)
    patient_fields = [name for on_episode, name, *_ in corrections if on_episode is None]
    episode_fields = [name for on_episode, name, *_ in corrections if on_episode is not None]
    if patient_fields:
        patient.save(update_fields=patient_fields)
    if episode_fields:
        episode.save(update_fields=episode_fields)
    rows = RecordCorrection.objects.bulk_create(
        RecordCorrection(
            patient=patient,
            episode=on_episode,
            field=name,
            label=label,
            before=before,
            after=after,
            reason=reason,
            corrected_by=by,
        )
        for on_episode, name, label, before, after in corrections
    )
    if episode is not None and any(name == "entry_date" for _, name, *_ in corrections):
        _refresh(episode)
    return rows


@transaction.atomic
def prescriber_informed_record(*, report: PharmacyReport, informed_on: date, by) -> PharmacyReport:
    """Record that the prescriber was told of the missed doses, which must happen before dosing resumes
    (tolerance may be lost). Recorded once: the first date stands."""
    report = PharmacyReport.objects.select_for_update().get(pk=report.pk)
    if report.prescriber_informed_on is not None:
        raise ValidationError(
            f"Already recorded: the prescriber was told on {report.prescriber_informed_on:%d %b %Y}."
        )
    if informed_on > timezone.localdate():
        raise ValidationError({"informed_on": "This date is in the future."})
    if informed_on < report.period_start:
        raise ValidationError(
            {"informed_on": f"This is before the report's period began on {report.period_start:%d %b %Y}."}
        )
    report.prescriber_informed_on, report.prescriber_informed_by = informed_on, by
    report.save(update_fields=["prescriber_informed_on", "prescriber_informed_by"])
    return report


@transaction.atomic
def caseload_handover(
    *, from_keyworker, to_keyworker, reason: str, by, team_ids: Iterable[int]
) -> list[CareTeamChange]:
    """Hand every patient of one keyworker in a team to another keyworker of that team (a keyworker leaving,
    a caseload rebalanced), each move kept with the reason as patient_move keeps one. `team_ids` are the teams
    whose patients the person handing over may move; all or none move."""
    from recovery_reviews.models import Role

    errors = {}
    if not reason.strip():
        errors["reason"] = "Say why: the next keyworker and any later review will want to know."
    if to_keyworker.pk == from_keyworker.pk:
        errors["to_keyworker"] = "Choose someone else: this is the keyworker handing over."
    elif to_keyworker.role != Role.KEYWORKER or not to_keyworker.is_active:
        errors["to_keyworker"] = f"{to_keyworker} is not an active keyworker."
    elif to_keyworker.team_id not in team_ids:
        errors["to_keyworker"] = f"{to_keyworker} is not in a team you can move patients in."
    if errors:
        raise ValidationError(errors)
    patients = list(
        Patient.objects.filter(keyworker=from_keyworker, team_id=to_keyworker.team_id)
        .select_related("team")
        .order_by("pk")
    )
    if not patients:
        raise ValidationError(
            {"from_keyworker": f"{from_keyworker} has no patients in {to_keyworker.team} to hand over."}
        )
    return [
        patient_move(patient=patient, team=patient.team, keyworker=to_keyworker, reason=reason, by=by)
        for patient in patients
    ]


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
                "status": f"The appointment is on {timezone.localtime(appointment.starts_at):%d %b %Y at %H:%M}: "
                "it can be cancelled now, attended or missed once its time has come."
            }
        )
    appointment.status, appointment.review_note = status, review_note.strip()
    appointment.full_clean()
    appointment.save(update_fields=["status", "review_note"])
    return appointment
