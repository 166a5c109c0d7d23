"""Leaving treatment: the episode's end, after which strategic reviews stop and recovery check-ups follow (§1.7).
A page of the top layer because what it says next reads the episode's strategic reviews: a draft that will now
never be held is named, to be discarded."""

from django.utils import timezone

from patients import forms, services
from patients.access import episode_for_user
from patients.models import TreatmentEpisode
from patients.views.common import episode_form_page
from recovery_reviews.formatting import day
from reviews.models import ReviewStatus


def _exit_message(episode: TreatmentEpisode) -> str:
    message = "The episode has ended: recovery check-ups are now scheduled (§1.7)."
    draft = episode.strategic_reviews.filter(status=ReviewStatus.DRAFT).select_related("lead").first()
    if draft:
        message += (
            f" The strategic review started on {day(draft.held_on)} (lead {draft.lead}) was not completed: "
            "open it and discard it."
        )
    return message


def episode_exit(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    return episode_form_page(
        request,
        episode,
        form_class=forms.EpisodeExitForm,
        initial={"exit_date": timezone.localdate()},
        save=lambda form: services.episode_exit(episode=episode, by=request.user, **form.cleaned_data),
        success=_exit_message,
        title="End the treatment episode",
        intro="Strategic reviews stop and recovery check-ups follow at 14 days, 3, 6 and 12 months (§1.7).",
    )
