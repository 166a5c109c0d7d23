"""The access and change log of patient records (docs/design.md, Access and audit).

Changes are logged by django-auditlog for every model registered in the apps' audit.py modules; each log entry
carries the patient's id in additional_data so that a patient's whole history is one query. Views log reads
with record_access. Nothing in the application edits or deletes a log entry: the admin is read-only and
deleting one raises.
"""

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
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
    now, path = timezone.now(), request.get_full_path()
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=content_type,
            object_pk=str(patient.pk),
            object_id=patient.pk,
            object_repr=str(patient)[:200],
            action=LogEntry.Action.ACCESS,
            actor=request.user,
            remote_addr=request.META.get("REMOTE_ADDR"),
            timestamp=now,
            changes={"list": [None, path]},
            additional_data={"patient_id": patient.pk},
        )
        for patient in patients
    )


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
