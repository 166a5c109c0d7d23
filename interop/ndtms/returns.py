"""Making a team's NDTMS return for a period, and auditing its export (docs/design.md, Interoperability)."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from interop.ndtms.export import Return, build_return
from interop.ndtms.fieldmaps import FieldMap, field_map
from interop.ndtms.records import Period, agency_code_for, consents_for, episodes_for_return
from patients.models import Patient

AUDIT_BATCH = 500


class NoAgencyCode(Exception):
    """The team has no NDTMS agency code, so no file can be named or sent for it."""

    def __init__(self, team):
        super().__init__(
            f"{team} has no NDTMS agency code, so its return cannot be made: an administrator sets it under "
            "Admin, NDTMS agency codes (a capital letter then 2 to 9 capitals or digits, such as N0852)."
        )


def ndtms_return(*, episodes, team, period: Period, fmap: FieldMap | None = None) -> Return:
    """The team's return for the period from `episodes` (a user's scope, or every episode for the command)."""
    agency = agency_code_for(team.pk)
    if not agency:
        raise NoAgencyCode(team)
    chosen = list(episodes_for_return(episodes, team_id=team.pk, period=period))
    consents = consents_for({episode.patient_id for episode in chosen})
    return build_return(chosen, fmap=fmap or field_map("P"), period=period, agency=agency, consents=consents)


def export_description(ret: Return, team) -> str:
    return (
        f"NDTMS return (data set {ret.fmap.dataset}) {ret.file_name}: {team}, {ret.period.label}, "
        f"{len(ret.sent_patient_ids)} patients, {len(ret.rows)} rows"
    )


def record_return_export(ret: Return, *, what: str, actor=None, remote_addr=None) -> None:
    """An access entry on the log of every patient whose record is in the file, saying which export it was, written
    in one query per AUDIT_BATCH patients (a return of 3,000 patients is 6 inserts, not 3,000)."""
    if not ret.sent_patient_ids:
        return
    content_type = ContentType.objects.get_for_model(Patient)
    now = timezone.now()
    LogEntry.objects.bulk_create(
        (
            LogEntry(
                content_type=content_type,
                object_pk=str(patient_id),
                object_id=patient_id,
                object_repr=str(patient)[:200],
                action=LogEntry.Action.ACCESS,
                actor=actor,
                remote_addr=remote_addr,
                timestamp=now,
                changes={"export": [None, what]},
                additional_data={"patient_id": patient_id},
            )
            for patient_id, patient in ret.sent_patients.items()
        ),
        batch_size=AUDIT_BATCH,
    )
