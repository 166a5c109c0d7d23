from datetime import date

from django.core.management.base import BaseCommand

from reviews.dashboards.owed_counts import rebuild as rebuild_owed_counts
from reviews.services.schedule import episodes_schedule_recompute


class Command(BaseCommand):
    help = "Recompute the next review of every open episode (the safety net beat also runs nightly)."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=date.fromisoformat, help="Compute as of this day (YYYY-MM-DD).")

    def handle(self, *args, today=None, **options):
        result = episodes_schedule_recompute(today=today)
        # The changes it made folded into the kept counts, unless it rebuilt them itself (none wait then).
        rebuild_owed_counts(today=today, force=False, changes_over=0)
        self.stdout.write(
            f"{result.episodes} open episodes recomputed: {result.changed} dates changed, "
            f"{result.errors} records need correcting."
        )
