"""Benchmark: the reminder sweep over N open episodes (default 100,000) with a realistic spread of due dates,
and the reminders per second one process delivers through the file email backend (issue 5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench .venv/bin/python manage.py bench_reminders
"""

import random
import tempfile
import time
from datetime import date

from auditlog.context import disable_auditlog
from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from reviews.management.commands.bench_schedule import Command as ScheduleBench
from reviews.models import InboxItem, Reminder
from reviews.services import reminders
from reviews.services.schedule import episodes_schedule_recompute


class Command(BaseCommand):
    help = "Time the reminder sweep over N seeded open episodes and the delivery rate."

    def add_arguments(self, parser):
        parser.add_argument("--episodes", type=int, default=100_000)
        parser.add_argument(
            "--deliver", type=int, default=2000, help="How many reminders to deliver and time."
        )
        parser.add_argument("--keep", action="store_true")

    def handle(self, *args, episodes, deliver, keep, **options):
        today = date(2026, 11, 24)
        seeder = ScheduleBench(stdout=self.stdout, stderr=self.stderr)
        started = time.perf_counter()
        with disable_auditlog():
            seeder._seed(episodes, random.Random(1), today)
        episodes_schedule_recompute(today=today)
        self.stdout.write(
            f"seeded and scheduled {episodes} episodes in {time.perf_counter() - started:.1f} s"
        )
        try:
            for label in ("first sweep (claims)", "second sweep (nothing new)"):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    result = reminders.reminders_sweep(today=today)
                    elapsed = time.perf_counter() - started
                self.stdout.write(
                    f"{label}: {elapsed:.2f} s, {len(queries)} queries, {result.claimed} claimed, "
                    f"{len(result.to_deliver)} to deliver"
                )
            batch = result.to_deliver[:deliver]
            with (
                tempfile.TemporaryDirectory() as mail_dir,
                override_settings(
                    EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=mail_dir
                ),
            ):
                started = time.perf_counter()
                for pk in batch:
                    reminders.reminder_deliver(reminder_id=pk)
                elapsed = time.perf_counter() - started
            self.stdout.write(
                f"delivered {len(batch)} reminders (inbox + file email) in {elapsed:.1f} s: "
                f"{len(batch) / elapsed:.0f} per second in one process"
            )
        finally:
            InboxItem.objects.filter(reminder__episode__patient__team__name="Benchmark").delete()
            Reminder.objects.filter(episode__patient__team__name="Benchmark").delete()
            if not keep:
                seeder._remove()
