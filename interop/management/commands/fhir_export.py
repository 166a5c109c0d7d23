"""manage.py fhir_export --patient <id or NHS number> --as <username> [--out file.json]: a patient's record as a
FHIR R4 Bundle, the same as GET /fhir/Patient/<pk>/ (docs/design.md, Interoperability). The command acts as a
person of the service: it sees only the patients that person may see, and the export is written to the patient's
access log and that person's, as from the page."""

import os
import tempfile

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils import timezone

from interop.fhir.bundle import patient_bundle
from interop.fhir.selectors import patient_by_nhs_number, patient_record
from interop.fhir.views import bundle_json, export_description
from patients.validators import normalise_nhs_number, validate_nhs_number
from recovery_reviews.audit import record_access, record_export


class CommandRequest:
    """What the audit log reads of a request, for an export made at the command line: who, and what was run."""

    def __init__(self, user, command_line: str):
        self.user = user
        self.META = {}
        self._command_line = command_line

    def get_full_path(self) -> str:
        return self._command_line


class Command(BaseCommand):
    help = "Export a patient's record as a FHIR R4 Bundle (JSON), as the person named with --as may see it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--patient",
            required=True,
            help="The patient's id in this service, or their NHS number (10 digits).",
        )
        parser.add_argument(
            "--as", dest="username", required=True, help="The username of the person exporting."
        )
        parser.add_argument("--out", help="Write the bundle to this file (by default, to standard output).")

    def handle(self, *args, patient, username, out=None, **options):
        user = self._user(username)
        pk = self._patient_pk(user, patient)
        try:
            record = patient_record(user, pk)
        except Http404:
            raise CommandError(
                f"No patient {patient} that {username} may see: check the id or NHS number, or export as someone "
                "in the patient's team."
            ) from None
        bundle = patient_bundle(record, today=timezone.localdate(), generated_at=timezone.now())
        text = bundle_json(bundle) + "\n"
        if out:
            _write_whole(out, text)
        request = CommandRequest(
            user, f"manage.py fhir_export --patient {patient}" + (f" --out {out}" if out else "")
        )
        record_access(request, record.patient)
        record_export(request, export_description(record.patient))
        if out:
            self.stderr.write(
                f"Wrote {len(bundle['entry'])} resources for patient {record.patient.pk} to {out}."
            )
        else:
            self.stdout.write(text, ending="")

    def _user(self, username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}: give the username of the person exporting.")
        if not user.is_active:
            raise CommandError(f"{username} is not an active user: export as someone who works here now.")
        return user

    def _patient_pk(self, user, value: str) -> int:
        """An id is all digits and shorter than an NHS number; ten digits (spaces or hyphens allowed) are an NHS
        number, checked by its check digit before anyone is looked up."""
        digits = normalise_nhs_number(value.strip())
        if not digits.isdigit():
            raise CommandError(f"{value!r} is neither a patient id nor an NHS number: give one or the other.")
        if len(digits) < 10:
            return int(digits)
        try:
            validate_nhs_number(digits)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        found = patient_by_nhs_number(user, digits)
        if found is None:
            raise CommandError(
                f"No patient with NHS number {value} that {user.username} may see: check the number, or export "
                "as someone in the patient's team."
            )
        return found.pk


def _write_whole(path: str, text: str) -> None:
    """The whole file or none of it: written beside its place, readable by its owner only (it holds a patient's
    record), then moved into place."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CommandError(f"No folder {directory}: create it first or give another --out.")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".fhir-export-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
