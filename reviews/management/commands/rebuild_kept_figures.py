"""Recompute every team's kept figures (reviews.dashboards.kept): after a load that bypassed the triggers, or to
have today's ready before the first manager asks. The pages never need it to be right, only to be fast."""

from datetime import date

from dateutil.relativedelta import relativedelta
from django.core.management.base import BaseCommand
from django.utils import timezone

from recovery_reviews.models import Team
from reviews.dashboards import kept
from reviews.dashboards.forms import PeriodFilterForm, TimelinessFilterForm
from reviews.dashboards.outcomes import kept_outcomes
from reviews.dashboards.timeliness import first_quarter_of, kept_timeliness
from reviews.dashboards.unmet_needs import kept_unmet_needs


class Command(BaseCommand):
    help = "Drop the managers' kept figures and compute them again for every team, as of today."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=date.fromisoformat, help="Compute as of this day (YYYY-MM-DD).")

    def handle(self, *args, today=None, **options):
        today = today or timezone.localdate()
        dropped = kept.forget()
        teams = list(Team.objects.values_list("pk", flat=True))
        quarters = max(value for value, _ in TimelinessFilterForm.base_fields["quarters"].choices)
        first = first_quarter_of(today, quarters)
        kept_timeliness(
            teams, today=today, all_quarters=[first + relativedelta(months=3 * i) for i in range(quarters)]
        )
        period = PeriodFilterForm.default_period(today)
        kept_unmet_needs(
            teams, start=date.fromisoformat(period["start"]), end=date.fromisoformat(period["end"])
        )
        kept_outcomes(teams)
        self.stdout.write(
            f"{dropped} kept figures dropped; {len(teams)} teams' figures computed as of {today}."
        )
