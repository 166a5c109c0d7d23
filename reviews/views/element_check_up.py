"""Record the check-up after an element of treatment (§1.7, docs/design.md rule 7b), from the patient's record."""

from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from patients.access import episode_for_user
from recovery_reviews.audit import record_access
from recovery_reviews.formatting import day
from recovery_reviews.forms import DATE, add_service_errors
from reviews.models import OwedItem
from reviews.scheduling import ELEMENT_CHECK_UP
from reviews.services import element_check_ups


class ElementCheckUpForm(forms.Form):
    held_on = forms.DateField(
        widget=DATE, label="Date of the check-up", help_text="Or of the attempt to reach them."
    )
    outcome = forms.ChoiceField(choices=element_check_ups.OUTCOMES)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


def element_check_up_new(request, episode_pk, end):
    episode = episode_for_user(request.user, episode_pk)
    try:
        element_end = date.fromisoformat(end)
    except ValueError as error:
        raise Http404("No such element of treatment.") from error
    if element_end not in element_check_ups.episode_element_ends(episode):
        raise Http404("No element of treatment of this episode ended on that day.")
    form = ElementCheckUpForm(request.POST or None, initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            check_up = element_check_ups.element_check_up_record(
                episode=episode, element_end=element_end, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if check_up.is_attempt:
                said = (
                    f"The attempt of {day(check_up.held_on)} is recorded: the check-up is still owed (§1.7)."
                )
            else:
                said = f"The check-up after the element that ended on {day(element_end)} is recorded (§1.7)."
            messages.success(request, said)
            return redirect(f"{episode.get_absolute_url()}?episode={episode.pk}")
    record_access(request, episode.patient)
    item = OwedItem.objects.filter(episode=episode, kind=ELEMENT_CHECK_UP, element_end=element_end).first()
    return render(
        request,
        "reviews/element_check_up_form.html",
        {
            "form": form,
            "episode": episode,
            "element_end": element_end,
            "item": item,
            "attempts": episode.element_check_ups.filter(element_end=element_end).order_by("held_on", "pk"),
        },
    )


urlpatterns = [
    path(
        "episodes/<int:episode_pk>/element-check-ups/<str:end>/new/",
        element_check_up_new,
        name="element_check_up_new",
    ),
]
