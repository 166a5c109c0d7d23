"""Benchmark: the caseload import of N rows (default 10,000; docs/design.md, Interoperability).

Makes a team called "Import benchmark" with a manager, keyworkers and senior practitioners, writes a caseload
file of N patients (about half on OST, half with a last review, some with an agreed next date), and times the
dry run (the upload: parse, check against the record, store), the commit (the check again, the bulk write, every
schedule computed, every record logged) and a second dry run of the same file (every row already imported).
Prints seconds and queries, then removes the patients it imported unless --keep (the team, its staff and
the audit log's entries stay: the log is append-only). The target is a minute or less for 10,000 rows on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_import .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_import .venv/bin/python manage.py bench_import
"""

import random
import time
from datetime import date, timedelta

from auditlog.context import disable_auditlog
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from interop.caseload_import import services
from interop.caseload_import.models import CaseloadImport
from patients.models import Patient, TreatmentEpisode
from patients.validators import nhs_number_check_digit
from recovery_reviews.models import Role, Team, User
from reviews.models import StrategicReview

BENCH_TEAM = "Import benchmark"
HEADER = (
    "nhs_number,given_name,family_name,date_of_birth,team,keyworker,lead_practitioner,entry_date,"
    "primary_substance,other_substances,ost_medicine,ost_daily_dose_mg,dispensing,last_review_date,agreed_next_date"
)


class Command(BaseCommand):
    help = "Time the caseload import (dry run and commit) of N generated rows."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--keep", action="store_true", help="Keep the imported patients afterwards.")

    def handle(self, *args, rows, seed, keep, **options):
        if connection.vendor != "postgresql":
            self.stderr.write(
                "Note: the target is measured on PostgreSQL; this database is " + connection.vendor
            )
        today = timezone.localdate()
        self._remove()
        manager, keyworkers, leads = self._staff()
        content = self._file(rows, random.Random(seed), today, keyworkers, leads)
        self.stdout.write(f"{rows:,} rows, {len(content) / 1_048_576:.1f} MB, on {connection.vendor}")
        try:
            upload = self._timed(
                "dry run (upload: parse, check, store)",
                lambda: services.caseload_import_upload(
                    content=content, filename="bench.csv", team=manager.team, by=manager
                ),
            )
            self.stdout.write(
                f"  {upload.new_patients:,} new, {upload.already_imported:,} already imported, "
                f"{len(upload.problems):,} problems"
            )
            done = self._timed(
                "commit (check again, write, schedules, audit)",
                lambda: services.caseload_import_commit(upload=upload, by=manager),
            )
            self.stdout.write(
                f"  {done.get_status_display()}: {Patient.objects.filter(team=manager.team).count():,} patients, "
                f"{StrategicReview.objects.filter(episode__team=manager.team).count():,} reviews, "
                f"{TreatmentEpisode.objects.filter(team=manager.team, next_review_target__isnull=False).count():,} "
                "episodes with their next review"
            )
            again = self._timed(
                "the same file again (dry run: every row already imported)",
                lambda: services.caseload_import_upload(
                    content=content, filename="bench.csv", team=manager.team, by=manager
                ),
            )
            self.stdout.write(f"  {again.new_patients:,} new, {again.already_imported:,} already imported")
        finally:
            if not keep:
                self._remove()

    def _timed(self, label: str, work):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = work()
            elapsed = time.perf_counter() - started
        self.stdout.write(f"{label}: {elapsed:.1f} s, {len(queries):,} queries")
        return result

    def _staff(self):
        """The team and its staff, kept between runs: the audit log names them, and it is append-only."""
        with transaction.atomic():
            team, _ = Team.objects.get_or_create(name=BENCH_TEAM)
            manager, _ = User.objects.get_or_create(
                username="bench.import.mgr", defaults={"role": Role.MANAGER, "team": team}
            )
            manager.managed_teams.add(team)
            keyworkers = [
                User.objects.get_or_create(
                    username=f"bench.import.kw{i}", defaults={"role": Role.KEYWORKER, "team": team}
                )[0]
                for i in range(25)
            ]
            leads = [
                User.objects.get_or_create(
                    username=f"bench.import.sp{i}", defaults={"role": Role.SENIOR_PRACTITIONER, "team": team}
                )[0]
                for i in range(5)
            ]
        return manager, keyworkers, leads

    def _file(self, count: int, rng: random.Random, today: date, keyworkers, leads) -> bytes:
        taken = set(Patient.objects.exclude(nhs_number="").values_list("nhs_number", flat=True))
        lines = [HEADER]
        for n, number in zip(range(count), _nhs_numbers(rng, taken), strict=False):
            entry = today - timedelta(days=rng.randint(1, 1100))
            birth = date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28))
            on_ost = rng.random() < 0.55
            medicine, dose = rng.choice(
                [("methadone", rng.choice([30, 45, 60, 80, 100])), ("buprenorphine", rng.choice([8, 12, 16]))]
            )
            last = entry + timedelta(days=rng.randint(80, 200)) if rng.random() < 0.5 else None
            if last and last >= today:
                last = None
            agreed = (
                last + timedelta(days=rng.choice([60, 90, 120, 180])) if last and rng.random() < 0.6 else None
            )
            lines.append(
                ",".join(
                    [
                        f"{number[:3]} {number[3:6]} {number[6:]}",
                        f"Given{n}",
                        f"Family{n}",
                        birth.strftime("%d/%m/%Y") if n % 2 else birth.isoformat(),
                        BENCH_TEAM if n % 3 else "",
                        keyworkers[n % len(keyworkers)].username,
                        leads[n % len(leads)].username if (last or rng.random() < 0.7) else "",
                        entry.isoformat(),
                        rng.choice(["heroin", "heroin", "crack", "alcohol", "cannabis"]),
                        rng.choice(["", "", "crack", "alcohol; benzodiazepines"]),
                        medicine if on_ost else "",
                        str(dose) if on_ost else "",
                        rng.choice(["supervised", "3", "6"]) if on_ost else "",
                        last.isoformat() if last else "",
                        agreed.isoformat() if agreed else "",
                    ]
                )
            )
        return ("\r\n".join(lines) + "\r\n").encode()

    def _remove(self) -> None:
        """The imported records and the uploads (the team, its staff and the audit log stay)."""
        team = Team.objects.filter(name=BENCH_TEAM).first()
        if team is None:
            return
        with transaction.atomic(), disable_auditlog():
            episodes = TreatmentEpisode.objects.filter(patient__team=team)
            StrategicReview.objects.filter(episode__in=episodes).delete()
            episodes.delete()  # interventions, dispensing and owed items go with them
            Patient.objects.filter(team=team).delete()
            CaseloadImport.objects.filter(team=team).delete()


def _nhs_numbers(rng: random.Random, taken: set[str]):
    """Valid NHS numbers (their check digit right) not yet on record, from a random start in the 9 range."""
    first = rng.randint(900_000_000, 980_000_000)
    while True:
        nine = str(first)
        check = nhs_number_check_digit(nine)
        if check is not None and nine + str(check) not in taken:
            yield nine + str(check)
        first += 1
