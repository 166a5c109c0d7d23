"""What a patient's FHIR record is built from (docs/design.md, Interoperability), read through the one door to
patient data (patients/access.py: a patient outside the user's scope is a 404) in a fixed number of queries
whatever the size of the record: one for the patient, one for their episodes and one for each kind of record
the episodes hold. What was marked entered in error is left out, as from every other reading of the evidence."""

from dataclasses import dataclass

from careplans.models import CarePlan, Goal, GoalAction
from patients.access import episodes_for_user, patient_for_user, patients_for_user
from patients.models import (
    Appointment,
    DispensingArrangement,
    Intervention,
    InterventionKind,
    Patient,
    TopAssessment,
    TreatmentEpisode,
)
from reviews.models import ElementCheckUp, OwedItem, RecoveryCheckUp, StrategicReview


@dataclass(frozen=True)
class PatientRecord:
    """A patient and every record of theirs that goes into their FHIR bundle, each list in date order."""

    patient: Patient
    episodes: list[TreatmentEpisode]
    ost: list[Intervention]
    dispensing: list[DispensingArrangement]
    care_plans: list[CarePlan]
    goals: list[Goal]
    actions: list[GoalAction]
    tops: list[TopAssessment]
    appointments: list[Appointment]
    reviews: list[StrategicReview]
    check_ups: list[RecoveryCheckUp]
    element_check_ups: list[ElementCheckUp]
    owed: list[OwedItem]


def patient_record(user, pk) -> PatientRecord:
    """The patient `pk` as `user` may see them (Http404 outside their scope), with every record of theirs."""
    patient = patient_for_user(user, pk)
    return _record(user, patient)


def patient_by_nhs_number(user, nhs_number: str) -> Patient | None:
    """The patient with this NHS number in the user's scope, or None (for the command)."""
    return patients_for_user(user).filter(nhs_number=nhs_number).first()


def _record(user, patient: Patient) -> PatientRecord:
    # The episodes as the user may see them: the same scope as the patient's (the episode carries the patient's
    # team and keyworker), asked again so that nothing here widens it.
    episodes = list(
        episodes_for_user(user)
        .filter(patient=patient)
        .select_related("lead_practitioner", "keyworker", "team")
        .order_by("entry_date", "pk")
    )
    ids = [episode.pk for episode in episodes]
    return PatientRecord(
        patient=patient,
        episodes=episodes,
        ost=list(
            Intervention.objects.filter(episode_id__in=ids, kind=InterventionKind.OST).order_by(
                "started_on", "pk"
            )
        ),
        dispensing=list(
            DispensingArrangement.objects.filter(episode_id__in=ids).order_by("effective_from", "pk")
        ),
        care_plans=list(CarePlan.objects.filter(episode_id__in=ids).order_by("agreed_on", "pk")),
        goals=list(
            Goal.objects.filter(care_plan__episode_id__in=ids).order_by("care_plan_id", "domain", "pk")
        ),
        actions=list(
            GoalAction.objects.filter(goal__care_plan__episode_id__in=ids).order_by(
                "goal_id", "target_date", "pk"
            )
        ),
        tops=list(
            TopAssessment.objects.filter(episode_id__in=ids)
            .select_related("recorded_by")
            .order_by("assessed_on", "pk")
        ),
        appointments=list(
            Appointment.objects.filter(episode_id__in=ids)
            .select_related("keyworker")
            .order_by("starts_at", "pk")
        ),
        reviews=list(
            StrategicReview.objects.filter(episode_id__in=ids)
            .select_related("lead")
            .order_by("held_on", "pk")
        ),
        check_ups=list(
            RecoveryCheckUp.objects.filter(episode_id__in=ids)
            .select_related("held_by")
            .order_by("held_on", "sequence", "pk")
        ),
        element_check_ups=list(
            ElementCheckUp.objects.filter(episode_id__in=ids)
            .select_related("held_by")
            .order_by("held_on", "pk")
        ),
        owed=list(OwedItem.objects.filter(episode_id__in=ids).order_by("target", "deadline", "pk")),
    )


def record_of(user, patient: Patient) -> PatientRecord:
    """The record of a patient already found through patients_for_user(user)."""
    return _record(user, patient)
