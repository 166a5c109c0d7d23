"""Today's kept figures ready for every team, stale ones dropped (reviews.dashboards.kept_rebuild); --everything
drops them all first, after a load that bypassed the triggers. The pages never need it to be right, only fast."""

from datetime import date

from django.core.management.base import BaseCommand
from django.utils import timezone

from reviews.dashboards.kept_rebuild import kept_figures_rebuild


class Command(BaseCommand):
    help = "Compute the managers' kept figures for every team as of today, dropping stale ones."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=date.fromisoformat, help="Compute as of this day (YYYY-MM-DD).")
        parser.add_argument("--everything", action="store_true", help="Drop every kept figure first.")

    def handle(self, *args, today=None, everything=False, **options):
        result = kept_figures_rebuild(today=today or timezone.localdate(), everything=everything)
        self.stdout.write(str(result))
