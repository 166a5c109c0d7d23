"""What every form page of the record shares: the form on GET (a view of the record, logged), the service on
a valid POST with its errors beside the fields, the message that says what changed, and a word when the next review
moved because of it."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from patients import forms
from patients.models import (
    TreatmentEpisode,
)
from recovery_reviews.audit import record_access
from recovery_reviews.formatting import day
from recovery_reviews.forms import add_service_errors


def schedule_of(episode_pk: int) -> tuple:
    return TreatmentEpisode.objects.values_list(
        "next_review_target", "next_review_deadline", "next_review_kind"
    ).get(pk=episode_pk)


def say_if_moved(request, episode: TreatmentEpisode, before: tuple) -> None:
    """Say when the first item owed moved, or another item came first (a check-up after an element of treatment
    ahead of the strategic review, docs/design.md rule 7b): every item and its reasons are on the record."""
    after = schedule_of(episode.pk)
    if after == before or after[0] is None:
        return
    if before[0] is not None and after[2] != before[2]:
        said = f"Something else is now owed first: target {day(after[0])}, deadline {day(after[1])}."
    else:
        direction = "earlier" if before[0] is None or after[:2] < before[:2] else "later"
        said = f"The next review moved {direction}: target {day(after[0])}, deadline {day(after[1])}."
    messages.info(request, f"{said} Every item owed and its reasons are on the record.")


def episode_form_page(
    request,
    episode: TreatmentEpisode,
    *,
    form_class,
    save: Callable,
    success: str | Callable,
    template: str = "patients/episode_form.html",
    title: str = "",
    intro: str = "",
    initial: dict | None = None,
    extra: dict | None = None,
):
    """GET shows the form (a view of the record, logged); a valid POST calls `save(form)`, which calls one
    service; its errors come back beside the fields; success returns to the record with what changed."""
    form = form_class(request.POST or None, episode=episode, initial=initial)
    if request.method == "POST" and form.is_valid():
        before = schedule_of(episode.pk)
        try:
            result = save(form)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            message = success(result) if callable(success) else success
            if message:
                messages.success(request, message)
            say_if_moved(request, episode, before)
            return redirect(episode.get_absolute_url())
    record_access(request, episode.patient)
    context = {"form": form, "episode": episode, "title": title, "intro": intro, **(extra or {})}
    return render(request, template, context)


def patient_form_page(request, patient, form, *, title: str, intro: str = ""):
    """A form about the patient as a whole (not one episode's record), with the access logged."""
    record_access(request, patient)
    return render(
        request,
        "patients/episode_form.html",
        {"form": form, "episode": None, "patient": patient, "title": title, "intro": intro},
    )


def end_page(request, record, *, service, what: str):
    form = forms.EndForm(
        request.POST or None, started_on=record.started_on, initial={"ended_on": timezone.localdate()}
    )
    episode = record.episode
    if request.method == "POST" and form.is_valid():
        before = schedule_of(episode.pk)
        try:
            service(record, form.cleaned_data["ended_on"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{what} ended.")
            say_if_moved(request, episode, before)
            return redirect(episode.get_absolute_url())
    record_access(request, episode.patient)
    return render(
        request,
        "patients/episode_form.html",
        {"form": form, "episode": episode, "title": f"End: {record}", "intro": ""},
    )
