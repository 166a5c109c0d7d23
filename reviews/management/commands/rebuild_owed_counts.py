"""Count every owed item afresh into the kept counts (reviews.dashboards.owed_counts), as of today or --today.

The pages rebuild the counts themselves when they are not as of today, and the nightly task does it before
anyone asks; run this after restoring a database, or to see how long a rebuild takes."""

import time
from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from reviews.dashboards.owed_counts import rebuild


class Command(BaseCommand):
    help = "Count every owed item afresh into the kept counts the dashboard and the forecast read."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=date.fromisoformat, help="Count as of this day (YYYY-MM-DD).")

    def handle(self, *args, today=None, **options):
        today = today or timezone.localdate()
        started = time.perf_counter()
        items = rebuild(today=today)
        self.stdout.write(
            f"{items:,} owed items counted as of {today} in {time.perf_counter() - started:.2f} s "
            "(the changes since the last rebuild absorbed)."
        )
