"""Import a caseload from CSV (docs/design.md, Interoperability): a dry run by default, the import with --commit.

    manage.py import_caseload caseload.csv --team North                  # dry run: counts and every problem
    manage.py import_caseload caseload.csv --team North --commit --as mgr.north

The dry run writes nothing. --commit imports all or nothing, recorded as the manager named by --as (who must
manage the team), and the attempt is kept and audited like one made from the page. Exit status 1 when --commit
was asked and the file has problems (nothing imported); 0 otherwise.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from interop.caseload_import import services
from interop.caseload_import.models import ImportStatus
from interop.caseload_import.parser import MAX_BYTES
from recovery_reviews.models import Team, User


class Command(BaseCommand):
    help = "Check a caseload CSV file against the record (dry run), or import it with --commit."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--team", required=True, help="The name of the team to import into.")
        parser.add_argument(
            "--commit", action="store_true", help="Import, all or nothing (default: dry run)."
        )
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="The manager the import is recorded as (needed with --commit).",
        )

    def handle(self, *args, file: Path, team: str, commit: bool, as_user: str | None, **options):
        chosen = Team.objects.filter(name__iexact=team.strip()).first()
        if chosen is None:
            names = ", ".join(Team.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No team is called '{team}'. Teams: {names}.")
        by = None
        if as_user:
            by = User.objects.filter(username=as_user).first()
            if by is None:
                raise CommandError(f"No one has the username '{as_user}'.")
            if not services.may_import(by, chosen):
                raise CommandError(
                    f"{as_user} is not an active manager of {chosen}: give a manager of the team."
                )
        elif commit:
            raise CommandError("--commit needs --as USERNAME: the manager the import is recorded as.")
        try:
            size = file.stat().st_size
            if size > MAX_BYTES:
                raise CommandError(
                    f"{file} is {size:,} bytes; one import takes at most {MAX_BYTES:,}: split it."
                )
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error

        if commit:
            upload = services.caseload_import_file(content=content, filename=file.name, team=chosen, by=by)
            self._report(upload.rows, upload.new_patients, upload.already_imported, upload.problems)
            if upload.status != ImportStatus.COMMITTED:
                self.stderr.write(f"Nothing imported: the file has problems (import {upload.pk}).")
                raise SystemExit(1)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {upload.new_patients} new patients into {chosen} (import {upload.pk}, "
                    f"SHA-256 {upload.sha256})."
                )
            )
            return
        dry_run = services.caseload_check(content=content, team=chosen, by=by, log_matches=by is not None)
        counts = dry_run.counts
        self._report(
            counts["rows"],
            counts["new_patients"],
            counts["already_imported"],
            [p.as_dict() for p in dry_run.plan.problems],
        )
        self.stdout.write("Dry run: nothing was written. Add --commit --as USERNAME to import.")

    def _report(self, rows: int, new: int, already: int, problems: list[dict]) -> None:
        for problem in problems:
            where = f"line {problem['line']}" if problem["line"] else "file"
            column = f", {problem['column']}" if problem["column"] else ""
            self.stdout.write(f"{where}{column}: {problem['what']} Fix: {problem['fix']}")
        self.stdout.write(
            f"{rows} rows: {new} new patients, {already} already imported, {len(problems)} problems."
        )
