"""Correcting a patient's details and their episode's (docs/conventions.md 3): each changed field is kept as a
RecordCorrection with what it was, what it is and why; nothing is silently overwritten. A corrected entry date moves
the first review (§1.3) and is refused where it would fall after something already recorded."""

from datetime import date

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from patients.models import (
    Patient,
    RecordCorrection,
    Substance,
    TreatmentEpisode,
)
from patients.services.schedule import schedule_refresh
from recovery_reviews.formatting import day
from reviews.models import (
    StrategicReview,  # an entry date after a review held cannot be right (layers exception)
)

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
        return day(value)
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
                    f"The episode already has {earliest[1]} on {day(earliest[0])}: treatment cannot have "
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
        schedule_refresh(episode)
    return rows
