"""Today's kept figures made ready for every team, and figures no page will read again dropped
(reviews.dashboards.kept): run nightly by beat (reviews.tasks.rebuild_kept_figures) and by
`manage.py rebuild_kept_figures`. The pages are right without it, only slower on the day's first request."""

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from recovery_reviews.models import Team
from reviews.dashboards import kept
from reviews.dashboards.forms import PeriodFilterForm, TimelinessFilterForm
from reviews.dashboards.outcomes import kept_outcomes
from reviews.dashboards.timeliness import first_quarter_of, kept_timeliness
from reviews.dashboards.unmet_needs import _segments, kept_unmet_needs
from reviews.kept_models import KeptFigure, KeptGeneration


@dataclass
class Rebuilt:
    dropped: int
    teams: int
    kept: int

    def __str__(self):
        return f"{self.dropped} kept figures dropped; {self.teams} teams' figures ready ({self.kept} kept)."


def kept_figures_rebuild(*, today: date, everything: bool = False) -> Rebuilt:
    """Drop stale figures (all of them with `everything`: after a load that bypassed the triggers), then compute
    what the pages' default views read today: 12 quarters of timeliness, the default period's unmet needs, and
    outcomes; figures still valid are kept as they are."""
    quarters = max(value for value, _ in TimelinessFilterForm.base_fields["quarters"].choices)
    first = first_quarter_of(today, quarters)
    all_quarters = [first + relativedelta(months=3 * i) for i in range(quarters)]
    period = PeriodFilterForm.default_period(today)
    start, end = date.fromisoformat(period["start"]), date.fromisoformat(period["end"])
    unmet_keys = [key for _, key in _segments(start, end)]
    if everything:
        dropped = kept.forget()
    else:
        current = KeptGeneration.objects.filter(report=OuterRef("report"), team_id=OuterRef("team_id"))
        stale = KeptFigure.objects.annotate(
            current=Coalesce(Subquery(current.values("generation")[:1]), Value(0))
        ).exclude(generation=F("current"))
        dropped = KeptFigure.objects.filter(
            Q(pk__in=stale.values("pk"))
            | Q(report="timeliness", key__lt=first.isoformat())
            | (Q(report="unmet") & ~Q(key__in=unmet_keys))
        ).delete()[0]
    teams = list(Team.objects.values_list("pk", flat=True))
    kept_timeliness(teams, today=today, all_quarters=all_quarters)
    kept_unmet_needs(teams, start=start, end=end)
    kept_outcomes(teams)
    return Rebuilt(dropped=dropped, teams=len(teams), kept=KeptFigure.objects.count())
