"""The caseload import's writes (docs/conventions.md 3; docs/design.md, Interoperability): an upload checked as a
dry run, then an all-or-nothing commit that checks the same file again.

- caseload_import_upload: keep the file (with its SHA-256), parse it, check it against the record, and store the
  dry run's counts and problems. Nothing clinical is written.
- caseload_import_commit: in one transaction, lock the upload, check the kept file again (the record may have
  changed since the dry run), and either write every new patient with their open episode, OST, dispensing and
  last review, compute every imported episode's schedule and log each record, or write nothing and store the
  problems. The kept file is then dropped (the records hold what it held); its hash stays.

Re-running a file changes nothing: a row whose NHS number is on record with the same details is counted as
already imported and skipped, and one that differs is a problem, never an overwrite. Who may import: a manager,
into a team in their scope (recovery_reviews.access.team_ids_for_user); the keyworkers and leads named must be
active staff of that team in the right role (checks.py).
"""

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from interop.caseload_import import writer
from interop.caseload_import.checks import Plan, plan_import
from interop.caseload_import.models import CaseloadImport, ImportSource, ImportStatus
from interop.caseload_import.parser import Problem, parse
from recovery_reviews.access import team_ids_for_user
from recovery_reviews.models import Role

KEEP_FOR = timedelta(hours=24)  # an upload not committed within a day is dropped: its file holds a caseload


def may_import(user, team) -> bool:
    return bool(
        user is not None
        and user.is_active
        and user.role == Role.MANAGER
        and team is not None
        and team.pk in team_ids_for_user(user)
    )


def _check_may_import(user, team) -> None:
    if not may_import(user, team):
        raise PermissionDenied(f"Only a manager of {team} imports a caseload into it.")


@dataclass(frozen=True)
class DryRun:
    plan: Plan

    @property
    def counts(self) -> dict:
        return {
            "rows": self.plan.rows,
            "new_patients": len(self.plan.new),
            "already_imported": len(self.plan.already),
            "rows_with_problems": self.plan.rows_with_problems,
        }


def caseload_check(
    *, content: bytes, team, by=None, today: date | None = None, log_matches: bool = False
) -> DryRun:
    """Parse and check a file without writing anything (but, with log_matches, the matches on other patients'
    access logs): what the dry run reports."""
    today = today or timezone.localdate()
    parsed = parse(content, today=today)
    plan = plan_import(parsed, team=team, by=by, today=today, log_matches_by=by if log_matches else None)
    return DryRun(plan)


def _store(upload: CaseloadImport, dry_run: DryRun) -> None:
    for name, value in dry_run.counts.items():
        setattr(upload, name, value)
    upload.problems = [p.as_dict() for p in dry_run.plan.problems]


def caseload_import_upload(
    *, content: bytes, filename: str, team, by, source: str = ImportSource.PAGE, today: date | None = None
) -> CaseloadImport:
    """Keep the file (until its commit, when it has no problems) and its dry run. Any of the team's uploads older
    than a day and never committed lose their file first (KEEP_FOR)."""
    _check_may_import(by, team)
    _expire_old(team)
    dry_run = caseload_check(content=content, team=team, by=by, today=today, log_matches=True)
    upload = CaseloadImport(
        team=team,
        filename=(filename or "caseload.csv")[:255],
        content=content if dry_run.plan.ok else b"",  # kept for the commit only; a file with problems is not
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        source=source,
        status=ImportStatus.READY if dry_run.plan.ok else ImportStatus.PROBLEMS,
        uploaded_by=by,
    )
    _store(upload, dry_run)
    upload.full_clean(exclude=["content"])
    upload.save()
    _log(upload, by, LogEntry.Action.CREATE, "checked (dry run)")
    return upload


def caseload_import_commit(*, upload: CaseloadImport, by, today: date | None = None) -> CaseloadImport:
    """Import every new patient of a checked upload, or nothing. Refused (ValidationError) when the upload is
    not ready; when the check made again finds problems, nothing clinical is written and the upload is stored
    with them (status PROBLEMS): the caller shows them."""
    today = today or timezone.localdate()
    with transaction.atomic():
        upload = CaseloadImport.objects.select_for_update().select_related("team").get(pk=upload.pk)
        _check_may_import(by, upload.team)
        if upload.status != ImportStatus.READY:
            raise ValidationError(_not_ready(upload))
        if timezone.now() - upload.uploaded_at > KEEP_FOR:
            _expire(upload)
        else:
            _commit_locked(upload, by, today)
    if upload.status == ImportStatus.EXPIRED:
        raise ValidationError(_not_ready(upload))
    return upload


def _commit_locked(upload: CaseloadImport, by, today: date) -> None:
    """Check the kept file again, under the upload's lock, and write all of it or none."""
    dry_run = caseload_check(content=bytes(upload.content), team=upload.team, by=by, today=today)
    _store(upload, dry_run)
    if dry_run.plan.ok:
        try:
            with transaction.atomic():
                writer.write(
                    dry_run.plan.new, by=by, today=today, import_label=f"caseload import {upload.pk}"
                )
        except IntegrityError:
            # Someone registered one of these patients since the check: nothing of the import is kept.
            dry_run.plan.problems.append(
                Problem(
                    None,
                    "nhs_number",
                    "A patient in this file was registered by someone else while it was being imported; "
                    "nothing was imported.",
                    "Check the file again (upload it again) and import it.",
                )
            )
            _store(upload, dry_run)
    if dry_run.plan.ok:
        upload.status = ImportStatus.COMMITTED
        upload.committed_by, upload.committed_at = by, timezone.now()
        upload.content = b""
    else:
        upload.status, upload.content = ImportStatus.PROBLEMS, b""
    upload.save()
    _log(upload, by, LogEntry.Action.UPDATE, upload.get_status_display())


def caseload_import_file(
    *, content: bytes, filename: str, team, by, today: date | None = None
) -> CaseloadImport:
    """The command's --commit: the upload and its commit in one go (nothing written when the dry run finds
    problems, and the attempt kept with them)."""
    upload = caseload_import_upload(
        content=content, filename=filename, team=team, by=by, source=ImportSource.COMMAND, today=today
    )
    if upload.status != ImportStatus.READY:
        return upload
    return caseload_import_commit(upload=upload, by=by, today=today)


def _not_ready(upload: CaseloadImport) -> str:
    if upload.status == ImportStatus.COMMITTED:
        return f"This file was imported on {timezone.localtime(upload.committed_at):%d %b %Y at %H:%M}: nothing more to do."
    if upload.status == ImportStatus.EXPIRED:
        return (
            "This upload was not imported within a day and its file is no longer kept: upload the file again."
        )
    return "This file has problems: correct them and upload it again."


def _expire(upload: CaseloadImport) -> None:
    upload.status, upload.content = ImportStatus.EXPIRED, b""
    upload.save(update_fields=["status", "content"])


def _expire_old(team) -> None:
    CaseloadImport.objects.filter(
        team=team,
        status__in=[ImportStatus.READY, ImportStatus.PROBLEMS],
        uploaded_at__lt=timezone.now() - KEEP_FOR,
    ).update(status=ImportStatus.EXPIRED, content=b"")


def _log(upload: CaseloadImport, by, action, what: str) -> None:
    """The import itself on the audit log: who, the team, the file's name and hash, the counts."""
    LogEntry.objects.log_create(
        upload,
        force_log=True,
        action=action,
        actor=by,
        changes={
            "caseload_import": [None, what],
            "team": [None, str(upload.team)],
            "file": [None, f"{upload.filename} ({upload.size:,} bytes, SHA-256 {upload.sha256})"],
            "counts": [
                None,
                f"{upload.rows} rows: {upload.new_patients} new, {upload.already_imported} already imported, "
                f"{upload.rows_with_problems} with problems ({len(upload.problems)} problems)",
            ],
        },
    )
