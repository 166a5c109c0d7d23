"""Store a schedule by hand, as the scheduling adapter would (reviews.services.schedule): the episode's
next_review_* columns and its one owed item (reviews.models.OwedItem), or none when kind is ""."""

from datetime import date

from patients.models import TreatmentEpisode
from reviews.models import OwedItem


def store_schedule(
    episodes,
    *,
    kind: str = "strategic_review",
    target: date | None = None,
    deadline: date | None = None,
    reasons=(),
    **other_columns,
):
    """`episodes`: an episode, or a queryset of them. Other episode columns (exit_date...) may be set alike."""
    if isinstance(episodes, TreatmentEpisode):
        episodes = TreatmentEpisode.objects.filter(pk=episodes.pk)
    episodes.update(
        next_review_kind=kind,
        next_review_target=target,
        next_review_deadline=deadline,
        next_review_reasons=list(reasons),
        **other_columns,
    )
    OwedItem.objects.filter(episode__in=episodes).delete()
    if kind and target:
        OwedItem.objects.bulk_create(
            OwedItem(episode_id=pk, kind=kind, target=target, deadline=deadline, reasons=list(reasons))
            for pk in episodes.values_list("pk", flat=True)
        )
