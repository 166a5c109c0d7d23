"""The access and change log of patient records (docs/design.md, Access and audit).

Changes are logged by django-auditlog for every model registered in the apps' audit.py modules; each log entry
carries the patient's id in additional_data so that a patient's whole history is one query. Views log reads
with record_access. Nothing in the application edits or deletes a log entry: the admin is read-only and
deleting one raises.
"""

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.db.models.signals import pre_delete
from django.dispatch import receiver


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
