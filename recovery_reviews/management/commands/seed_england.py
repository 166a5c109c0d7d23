"""Seed a PostgreSQL database the size of England's treatment population, in bulk, for bench_pages.

    createdb -h 127.0.0.1 -U postgres rr_scale
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_scale
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_england
    .venv/bin/python manage.py bench_pages

By default 300,000 patients, each with an episode and its history (about 1.2 million TOPs, 3 million drug test
results, 2 million pharmacy reports, reviews, check-ups, unmet needs), about 150 teams, a keyworker for every 40
patients; `--patients 3000` builds the small database the query counts are compared with. Logins (password
recovery-demo-2026): mgr.scale manages every team, kw.scale is a keyworker with a typical caseload.
"""

import time
from datetime import date

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from patients.models import Patient
from recovery_reviews.management.england import TODAY_DEFAULT, EnglandBuilder, Loader
from reviews.dashboards import owed_counts
from reviews.services.schedule import episodes_schedule_recompute

PASSWORD = "recovery-demo-2026"
TABLES_IN_LOAD_ORDER = [
    "recovery_reviews_team",
    "recovery_reviews_user",
    "recovery_reviews_user_managed_teams",
    "patients_patient",
    "patients_treatmentepisode",
]


class Command(BaseCommand):
    help = "Seed an England-sized treatment population into PostgreSQL with COPY (for the page benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=300_000)
        parser.add_argument(
            "--teams",
            type=int,
            default=None,
            help="How many teams (default: one for every 2,000 patients, at least 3; 150 at 300,000).",
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--today", type=date.fromisoformat, default=None, help="Default: today.")
        parser.add_argument("--flush", action="store_true", help="Empty the application's tables first.")

    def handle(self, *args, patients, teams, seed, today, flush, **options):
        check_database(flush=flush)
        if patients < 1 or patients > 909_000:
            raise CommandError("--patients must be between 1 and 909,000 (the NHS test-number range).")
        if teams is not None and not 1 <= teams <= min(patients, 1000):
            raise CommandError(
                f"--teams must be between 1 and {min(patients, 1000):,} (at most one a patient, and 1,000); "
                f"it was {teams}."
            )
        today = today or timezone.localdate() or TODAY_DEFAULT
        started = time.perf_counter()
        loader = Loader(timezone.now())
        builder = EnglandBuilder(
            patients=patients, seed=seed, today=today, loader=loader, log=self.stdout.write, teams=teams
        )
        with transaction.atomic():
            if flush:
                truncate_application_tables()
            staff = builder.staff(make_password(PASSWORD))
            builder.records(staff)
            reset_sequences()
        self.stdout.write(f"{'table':24} {'rows':>12} {'seconds':>8}")
        for model, rows in loader.counts.rows.items():
            self.stdout.write(f"{model:24} {rows:12,} {loader.counts.seconds[model]:8.1f}")
        step = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(f"ANALYZE in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        result = episodes_schedule_recompute(today=today)
        self.stdout.write(
            f"schedules of {result.episodes:,} episodes computed by the policy in {time.perf_counter() - step:.1f} s"
            f" ({result.errors} need correcting)"
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE patients_treatmentepisode")
        step = time.perf_counter()
        items = owed_counts.rebuild(today=today)  # the loaded items counted, as the nightly task would
        self.stdout.write(f"{items:,} owed items counted in {time.perf_counter() - step:.1f} s")
        self.stdout.write(
            f"seeded {patients:,} patients in {time.perf_counter() - started:.0f} s. "
            f"Logins (password {PASSWORD}): mgr.scale manages every team; kw.scale is a keyworker."
        )


def check_database(*, flush: bool) -> None:
    """A bulk loader for PostgreSQL only, into an empty database unless told to empty it."""
    if connection.vendor != "postgresql":
        raise CommandError(
            "seed_england loads with PostgreSQL COPY: set DATABASE_URL to a PostgreSQL database, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_scale (use seed_demo for the embedded default)."
        )
    if not flush and Patient.objects.exists():
        raise CommandError(
            "This database already has patients. Use --flush to empty the application's tables first "
            "(everything in them is deleted), or point DATABASE_URL at a new database."
        )


def _application_tables() -> list[str]:
    from django.apps import apps

    tables = []
    for label in ("recovery_reviews", "patients", "careplans", "reviews"):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            tables.append(model._meta.db_table)
    return tables


def truncate_application_tables() -> None:
    """Empty the application's tables. The audit log is append-only (its trigger refuses deletes) and is left:
    it does not reference rows by foreign key."""
    tables = ", ".join(connection.ops.quote_name(t) for t in _application_tables())
    with connection.cursor() as cursor:
        # Django's foreign keys are checked at commit: check the pending ones now, or TRUNCATE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"TRUNCATE {tables}, axes_accessattempt, axes_accesslog, django_session RESTART IDENTITY CASCADE"
        )


def reset_sequences() -> None:
    """Ids were given in the load: move every sequence past them so the ORM can insert afterwards."""
    from django.apps import apps
    from django.core.management.color import no_style

    models = []
    for label in ("recovery_reviews", "patients", "careplans", "reviews"):
        models += list(apps.get_app_config(label).get_models(include_auto_created=True))
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
