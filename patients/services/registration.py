"""Writes about the patient as a whole and who looks after them (docs/conventions.md 3): registering someone entering
treatment with their first episode, opening a later episode, moving a patient to another keyworker, lead or team,
and handing over a keyworker's caseload."""

from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from patients.models import (
    CareTeamChange,
    Patient,
    TreatmentEpisode,
)
from patients.services.schedule import schedule_refresh
from patients.validators import normalise_nhs_number
from recovery_reviews.audit import record_registration_match, registration_matches_since
from recovery_reviews.formatting import day
from recovery_reviews.models import Role
from reviews.models import (  # a move waits for unfinished reviews (layers exception)
    ReviewStatus,
    StrategicReview,
)


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


registration_match_limit_reached = Signal()  # sent with user and matches: the user's managers are told


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
    exists, never whose or where.

    That answer tells the user that the person is known to the service, so it is itself an access to the matched
    patient's record (docs/design.md, Access and audit): every match is written to that patient's access log with
    who asked, committed even though the registration is refused. A user whose registrations have matched
    settings.REGISTRATION_MATCHES_PER_HOUR records within the hour is refused any registration for the rest of
    it, matched or not (so the refusal says nothing of who is known), and their managers are told once."""
    nhs_number = normalise_nhs_number(nhs_number)
    _refuse_when_probing(by)
    _refuse_a_second_record(
        by,
        nhs_number=nhs_number,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        different_person=different_person,
    )
    with transaction.atomic():
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


def _matches_this_hour(user) -> int:
    return registration_matches_since(user, timezone.now() - timedelta(hours=1))


def _refuse_when_probing(user) -> None:
    limit = settings.REGISTRATION_MATCHES_PER_HOUR
    if _matches_this_hour(user) >= limit:
        raise ValidationError(
            f"Registering is paused for you for up to an hour: {limit} of your registrations in the last hour "
            "matched people already on record, which is more than registering new patients needs. Your manager "
            "has been told. Search the caseload for the person, or ask your manager."
        )


def _refuse_a_second_record(user, *, nhs_number, given_name, family_name, date_of_birth, different_person):
    """Refuse a person already on record, logging each match on the matched patient's access log first."""
    by_number = list(Patient.objects.filter(nhs_number=nhs_number)) if nhs_number else []
    namesakes = (
        []
        if different_person or by_number
        else list(
            Patient.objects.filter(
                given_name__iexact=given_name.strip(),
                family_name__iexact=family_name.strip(),
                date_of_birth=date_of_birth,
            )
        )
    )
    if not by_number and not namesakes:
        return
    for patient in by_number:
        record_registration_match(patient, by=user, matched_on="NHS number")
    for patient in namesakes:
        record_registration_match(patient, by=user, matched_on="name and date of birth")
    matches = _matches_this_hour(user)
    if matches >= settings.REGISTRATION_MATCHES_PER_HOUR > matches - len(by_number) - len(namesakes):
        registration_match_limit_reached.send(sender=Patient, user=user, matches=matches)
    if by_number:
        raise ValidationError({"nhs_number": NHS_NUMBER_TAKEN})
    raise ValidationError(
        {
            "different_person": "A patient with this name and date of birth is already registered. Search "
            "the caseload first; if this is someone else, tick the box and save again."
        }
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
    """A treatment episode for a patient not in treatment now: the first at registration, or a return to
    treatment. Its first strategic review is stored (§1.3), and so is what the patient's earlier episodes still
    owe, in the same transaction: once the patient is back in treatment their recovery check-ups stop
    (docs/design.md rule 7c)."""
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
    schedule_refresh(episode)
    still_owing = patient.episodes.filter(exit_date__isnull=False).filter(
        Q(next_review_target__isnull=False) | Q(schedule_computed_at__isnull=True)
    )
    for earlier in still_owing.exclude(pk=episode.pk).order_by("pk"):
        schedule_refresh(earlier)
    return episode


@transaction.atomic
def patient_move(
    *, patient: Patient, team, keyworker, reason: str, by, lead_practitioner=None
) -> CareTeamChange:
    """Move a patient to another keyworker, team or lead practitioner, and keep why. Their episodes follow the
    patient's team and keyworker by database trigger; reminders follow at the next sweep, which asks who looks
    after the patient now (and withdraws any not yet sent to someone who no longer does)."""
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
                f"The strategic review of {day(unfinished.held_on)} led by {unfinished.lead} is "
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
def caseload_handover(
    *, from_keyworker, to_keyworker, reason: str, by, team_ids: Iterable[int]
) -> list[CareTeamChange]:
    """Hand every patient of one keyworker in a team to another keyworker of that team (a keyworker leaving,
    a caseload rebalanced), each move kept with the reason as patient_move keeps one. `team_ids` are the teams
    whose patients the person handing over may move; all or none move."""
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
