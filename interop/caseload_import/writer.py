"""Writing a checked caseload (docs/design.md, Interoperability), inside the commit's transaction.

Registering patients one by one through patients.services.patient_register costs about twenty queries a patient
(its checks, the episode, the schedule), a quarter of an hour for 10,000, so the rows are written in bulk instead,
after the same validation (checks.py: each record's full_clean, the uniqueness the services check, and the
database's constraints when the rows go in), and then:

- every imported episode's schedule is computed at once by the scheduling adapter's own functions
  (reviews.services.schedule: the facts read with one query per kind of input, the policy, the owed items
  stored), exactly as episodes_schedule_recompute does for every open episode, but for these episodes only;
- every record created gets its "created" entry in the audit log, with the patient's id, as django-auditlog
  writes for a record saved one by one (bulk_create sends no signals).
"""

from datetime import date

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from interop.caseload_import.checks import NewPatient
from patients.models import DispensingArrangement, Intervention, Patient, TreatmentEpisode
from reviews.models import StrategicReview
from reviews.services.schedule import episodes_schedule_store

BATCH = 2000


def write(new: list[NewPatient], *, by, today: date, import_label: str) -> dict[str, int]:
    """Insert every record of the new rows, compute their schedules, log each; the counts written by kind."""
    patients = Patient.objects.bulk_create([n.patient for n in new], batch_size=BATCH)
    for item in new:
        item.episode.patient = item.patient  # now with its id
    episodes = TreatmentEpisode.objects.bulk_create([n.episode for n in new], batch_size=BATCH)
    for item in new:
        for record in (item.ost, item.dispensing, item.review):
            if record is not None:
                record.episode = item.episode
    interventions = Intervention.objects.bulk_create([n.ost for n in new if n.ost], batch_size=BATCH)
    arrangements = DispensingArrangement.objects.bulk_create(
        [n.dispensing for n in new if n.dispensing], batch_size=BATCH
    )
    reviews = StrategicReview.objects.bulk_create([n.review for n in new if n.review], batch_size=BATCH)
    schedules_compute(episodes, today=today)
    _log_created(new, by=by, import_label=import_label)
    return {
        "patients": len(patients),
        "episodes": len(episodes),
        "interventions": len(interventions),
        "dispensing": len(arrangements),
        "reviews": len(reviews),
    }


def schedules_compute(episodes: list[TreatmentEpisode], *, today: date) -> int:
    """Store the owed items of these episodes (docs/design.md, Review scheduling policy), by the adapter, in the
    import's transaction. Returns how many need their record corrected."""
    return episodes_schedule_store([e.pk for e in episodes], today=today)


AUDITED = {
    Patient: ("given_name", "family_name", "date_of_birth", "nhs_number", "team_id", "keyworker_id"),
    TreatmentEpisode: ("entry_date", "primary_drug", "other_substances", "lead_practitioner_id"),
    Intervention: ("kind", "medicine", "daily_dose_mg", "started_on", "note"),
    DispensingArrangement: ("effective_from", "take_home_doses_per_week", "change_reason", "reason_note"),
    StrategicReview: (
        "held_on",
        "completed_on",
        "status",
        "patient_took_part",
        "lead_id",
        "agreed_next_date",
    ),
}


def _log_created(new: list[NewPatient], *, by, import_label: str) -> None:
    now = timezone.now()
    types = ContentType.objects.get_for_models(*AUDITED)

    def entry(record, patient_id):
        changes = {
            name.removesuffix("_id"): [None, _text(getattr(record, name))] for name in AUDITED[type(record)]
        }
        changes["import"] = [None, import_label]
        return LogEntry(
            content_type=types[type(record)],
            object_pk=str(record.pk),
            object_id=record.pk,
            object_repr=str(record)[:200],
            action=LogEntry.Action.CREATE,
            actor=by,
            timestamp=now,
            changes=changes,
            additional_data={"patient_id": patient_id},
        )

    LogEntry.objects.bulk_create(
        (
            entry(record, item.patient.pk)
            for item in new
            for record in (item.patient, item.episode, item.ost, item.dispensing, item.review)
            if record is not None
        ),
        batch_size=BATCH,
    )


def _text(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
