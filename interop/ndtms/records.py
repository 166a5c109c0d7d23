"""What the NDTMS return reads (docs/design.md, Interoperability): a team's episodes for a period with everything
the file carries, in a fixed number of queries however many patients there are.

Which records a period's return holds is our reading, as the extraction criteria of P could not be read (facts
§5.1; S2 says only "as a technical minimum ... all new record..."): NDTMS returns are cumulative, so the return for
a period holds every episode open on any day of it (entered on or before its last day, not ended before its first
day), each with its whole history as it stood on the period's last day. An episode that ended in the period is
sent with its discharge; one that ended before the period is not sent again. Anything dated after the period's
last day (a later exit, a later end, a later TOP or review) is left out, as if the file had been made that day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Prefetch, Q, QuerySet

from interop.ndtms.models import NdtmsAgency, NdtmsConsent
from patients.models import Intervention, TopAssessment, TreatmentEpisode
from reviews.models import ReviewStatus, StrategicReview


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        start = date(year, month, 1)
        return cls(start, start + relativedelta(months=1, days=-1))

    @property
    def label(self) -> str:
        if self.start.day == 1 and self.end == self.start + relativedelta(months=1, days=-1):
            return f"{self.start:%B %Y}"
        return f"{self.start:%d/%m/%Y} to {self.end:%d/%m/%Y}"


def episodes_for_return(episodes: QuerySet[TreatmentEpisode], *, team_id: int, period: Period):
    """The team's episodes open on any day of the period, from `episodes` (the user's scope, or every episode for
    the command), with their interventions, TOPs and completed strategic reviews up to the period's last day."""
    end = period.end
    return (
        episodes.filter(team_id=team_id, entry_date__lte=end)
        .filter(Q(exit_date__isnull=True) | Q(exit_date__gte=period.start))
        .select_related("patient")
        .order_by("patient_id", "entry_date", "pk")
        .prefetch_related(
            Prefetch(
                "interventions",
                Intervention.objects.filter(started_on__lte=end).order_by("started_on", "pk"),
            ),
            Prefetch(
                "top_assessments",  # the default manager leaves out entries marked as entered in error
                TopAssessment.objects.filter(assessed_on__lte=end).order_by("assessed_on", "pk"),
            ),
            Prefetch(
                "strategic_reviews",
                StrategicReview.objects.filter(
                    status=ReviewStatus.COMPLETED, completed_on__lte=end, held_on__lte=end
                ).order_by("held_on", "pk"),
            ),
        )
    )


def consents_for(patient_ids) -> dict[int, bool]:
    """Each patient's standing decision about NDTMS sharing (the latest decided, then the latest recorded); a
    patient without one is absent, which the return reads as not consenting."""
    standing = {}
    decisions = NdtmsConsent.objects.filter(patient_id__in=list(patient_ids)).order_by(
        "patient_id", "decided_on", "recorded_at", "pk"
    )
    for patient_id, consented in decisions.values_list("patient_id", "consented"):
        standing[patient_id] = consented
    return standing


def agency_code_for(team_id: int) -> str:
    return NdtmsAgency.objects.filter(team_id=team_id).values_list("agency_code", flat=True).first() or ""
