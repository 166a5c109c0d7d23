"""The access and change log of patient records (docs/design.md, Access and audit).

Changes are logged by django-auditlog for every model registered in the apps' audit.py modules; each log entry
carries the patient's id in additional_data so that a patient's whole history is one query. Views log reads
with record_access. Nothing in the application edits or deletes a log entry: the admin is read-only and
deleting one raises.
"""

import json

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.db.models import JSONField
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone


def register(*models, **kwargs):
    for model in models:
        auditlog.register(model, **kwargs)


def record_access(request, instance) -> LogEntry:
    """Log that request.user viewed `instance` (a patient record or part of one)."""
    return LogEntry.objects.log_create(
        instance,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        actor=request.user,
        remote_addr=request.META.get("REMOTE_ADDR"),
        changes={"path": [None, request.get_full_path()]},
    )


def record_list_access(request, patients) -> None:
    """Log that request.user saw each of these patients in a list (the caseload, the review list): one access per
    patient, on their log, written in one query (docs/design.md, Access and audit)."""
    patients = list({patient.pk: patient for patient in patients}.values())
    if not patients:
        return
    content_type = ContentType.objects.get_for_model(type(patients[0]))
    shared = LogEntry(
        content_type=content_type,
        action=LogEntry.Action.ACCESS,
        actor=request.user,
        remote_addr=request.META.get("REMOTE_ADDR"),
        timestamp=timezone.now(),
        changes={"list": [None, request.get_full_path()]},
    )
    per_patient = {
        "object_pk": [str(patient.pk) for patient in patients],
        "object_id": [patient.pk for patient in patients],
        "object_repr": [str(patient)[:200] for patient in patients],
        "additional_data": [{"patient_id": patient.pk} for patient in patients],
    }
    db = connections[LogEntry.objects.db]
    if db.vendor == "postgresql":
        _insert_postgresql(db, shared, per_patient)
        return
    same = {
        field.attname: getattr(shared, field.attname)
        for field in _LOG_FIELDS
        if field.attname not in per_patient
    }
    LogEntry.objects.bulk_create(
        LogEntry(**same, **dict(zip(per_patient, row, strict=True)))
        for row in zip(*per_patient.values(), strict=True)
    )


# Every column of a log entry but its id, as Django writes them.
_LOG_FIELDS = [field for field in LogEntry._meta.concrete_fields if not field.primary_key]


def _insert_postgresql(db, shared: LogEntry, per_patient: dict[str, list]) -> None:
    """One INSERT ... SELECT for every patient of a list: what is the same for all of them passed once, what is
    each patient's passed as an array and unnested, every value prepared by its model field as bulk_create
    prepares it. bulk_create built a model instance and prepared fifteen values a patient: a sixth of the
    caseload's Python, on the page keyworkers open most (tests/recovery_reviews/test_audit.py holds the two to the
    same rows)."""
    columns, values, params = [], [], []
    for field in _LOG_FIELDS:
        columns.append(db.ops.quote_name(field.column))
        cast = field.db_type(db)
        if field.attname in per_patient:
            values.append(f"unnest(%s::{cast}[])")
            params.append([_prepared(field, value, db) for value in per_patient[field.attname]])
        else:
            values.append(f"%s::{cast}")
            params.append(_prepared(field, field.pre_save(shared, add=True), db))
    table = db.ops.quote_name(LogEntry._meta.db_table)
    with db.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)}", params)


def _prepared(field, value, db):
    """A value as the field gives it to the database; JSON as its text, which an array of jsonb takes."""
    if isinstance(field, JSONField):
        return None if value is None else json.dumps(value, cls=field.encoder)
    return field.get_db_prep_save(value, db)


def record_export(request, what: str) -> LogEntry:
    """Log that request.user exported a list holding patient identifiers (what it was, and its filters)."""
    return LogEntry.objects.log_create(
        request.user,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        actor=request.user,
        remote_addr=request.META.get("REMOTE_ADDR"),
        changes={"export": [None, what], "path": [None, request.get_full_path()]},
    )


REGISTRATION_MATCH = "registration_match"


def record_registration_match(patient, *, by, matched_on: str) -> LogEntry:
    """Log, on the matched patient's access log, that `by` typed details that matched them while registering
    someone (docs/design.md, Access and audit): what matched ("NHS number" or "name and date of birth")."""
    return LogEntry.objects.log_create(
        patient,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        actor=by,
        changes={REGISTRATION_MATCH: [None, matched_on]},
    )


def record_account_event(user, *, by, event: str) -> LogEntry:
    """Log a change to how `user` signs in (a password changed, a reset link made, a second factor enrolled), by
    whom, on the user's own log: it carries no secret."""
    return LogEntry.objects.log_create(
        user, force_log=True, action=LogEntry.Action.UPDATE, actor=by, changes={"account": [None, event]}
    )


def registration_matches_since(user, since) -> int:
    """How many registration matches `user` has made since `since` (each patient matched is one)."""
    return LogEntry.objects.filter(
        actor=user, action=LogEntry.Action.ACCESS, timestamp__gte=since, changes__has_key=REGISTRATION_MATCH
    ).count()


def patient_history(patient_id: int):
    """Every log entry about one patient, newest first."""
    return (
        LogEntry.objects.filter(additional_data__patient_id=patient_id)
        .select_related("actor", "content_type")
        .order_by("-timestamp")
    )


class AuditLogImmutable(Exception):
    pass


@receiver(pre_delete, sender=LogEntry)
def _refuse_log_deletion(sender, instance, **kwargs):
    raise AuditLogImmutable("Audit log entries cannot be deleted.")
