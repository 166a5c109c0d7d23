"""Pages that record the treatment delivered: appointments and their outcome (§1.1), dispensing arrangements
(App. C 1), circumstances that call for earlier review (§1.6) and interventions, each started and ended."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from patients import forms, services
from patients.access import episode_for_user
from patients.models import (
    Appointment,
    EpisodeCircumstance,
    Intervention,
)
from patients.services.treatment import untold_safety_event
from patients.views.common import end_page, episode_form_page
from recovery_reviews.access import record_for_user
from recovery_reviews.audit import record_access
from recovery_reviews.formatting import day, day_and_time
from recovery_reviews.forms import add_service_errors
from recovery_reviews.models import Role


def appointment_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    now = timezone.localtime()
    keyworker = request.user if request.user.team_id == episode.patient.team_id else episode.patient.keyworker
    return episode_form_page(
        request,
        episode,
        form_class=forms.AppointmentForm,
        initial={"keyworker": keyworker, "on": now.date(), "at": now.strftime("%H:00")},
        save=lambda form: services.appointment_record(
            episode=episode, by=request.user, **form.service_arguments()
        ),
        success="Appointment recorded.",
        title="Appointment",
        intro="Ongoing clinical review is part of every one-to-one appointment (§1.1): note what was reviewed.",
    )


def appointment_outcome(request, pk):
    """Record what became of a booked appointment."""
    appointment = record_for_user(
        request.user, Appointment.objects.select_related("episode__patient", "keyworker"), pk
    )
    episode = appointment.episode
    form = forms.AppointmentOutcomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_outcome_record(appointment=appointment, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            status = dict(forms.AppointmentOutcomeForm.base_fields["status"].choices)[
                form.cleaned_data["status"]
            ]
            messages.success(
                request,
                f"Appointment of {day(timezone.localdate(appointment.starts_at))}: {status.lower()}.",
            )
            return redirect(episode.get_absolute_url())
    record_access(request, episode.patient)
    when = timezone.localtime(appointment.starts_at)
    return render(
        request,
        "patients/episode_form.html",
        {
            "form": form,
            "episode": episode,
            "title": "Record the outcome",
            "intro": f"The appointment with {appointment.keyworker} on {day_and_time(when)}, "
            f"{appointment.get_status_display().lower()}.",
        },
    )


TAKE_HOME_CONDITIONS = (
    "Every change is kept with its reason. Introducing or extending take-home doses is a prescribing decision, "
    "for a senior practitioner (§2.5), and App. C 1 sets its conditions: introduce some take-home doses only "
    "for a patient with demonstrated adherence to and stability on opioid substitution treatment; extend them "
    "only after further good continued adherence and clinical benefit since they were introduced; where "
    "adherence deteriorates, reinstate supervised dosing and review earlier. Not while a run of missed doses "
    "waits for the prescriber to be told."
)


def dispensing_change_new(request, episode_pk):
    """A new dispensing arrangement, with App. C 1's conditions for take-home doses above the form and, when a run
    of missed doses waits for the prescriber to be told, that too: the service refuses more take-home doses then."""
    episode = episode_for_user(request.user, episode_pk)
    intro = TAKE_HOME_CONDITIONS
    if (untold := untold_safety_event(episode)) is not None:
        intro += (
            f" Now: {untold.safety_run} doses in a row missed from {day(untold.safety_run_from)}, the prescriber "
            "not yet recorded as told."
        )
    if request.user.role != Role.SENIOR_PRACTITIONER:
        intro += " You can reduce take-home doses or reinstate supervision; a senior practitioner adds them."
    return episode_form_page(
        request,
        episode,
        form_class=forms.DispensingChangeForm,
        initial={"effective_from": timezone.localdate()},
        save=lambda form: services.dispensing_change_record(
            episode=episode, by=request.user, **form.cleaned_data
        ),
        success="Dispensing arrangement changed.",
        title="Change the dispensing arrangement",
        intro=intro,
    )


def circumstance_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    return episode_form_page(
        request,
        episode,
        form_class=forms.CircumstanceForm,
        # The prompt on the record to consider complex needs (rule 3c) links here with the code chosen.
        initial={"started_on": timezone.localdate(), "code": request.GET.get("code", "")},
        save=lambda form: services.circumstance_record(episode=episode, by=request.user, **form.cleaned_data),
        success="Circumstance recorded.",
        title="A circumstance that calls for earlier review",
        intro="Review is called earlier for short-term treatment, complex or co-morbid needs, treatment not "
        "producing the expected benefit, and at times of transition (§1.6).",
    )


def circumstance_end(request, pk):
    circumstance = record_for_user(
        request.user, EpisodeCircumstance.objects.select_related("episode__patient"), pk
    )
    return end_page(
        request,
        circumstance,
        service=lambda c, day: services.circumstance_end(circumstance=c, ended_on=day, by=request.user),
        what="Circumstance",
    )


def intervention_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    return episode_form_page(
        request,
        episode,
        form_class=forms.InterventionForm,
        initial={"started_on": timezone.localdate()},
        save=lambda form: services.intervention_record(episode=episode, by=request.user, **form.cleaned_data),
        success="Intervention recorded.",
        title="Start an intervention",
        intro="For opioid substitution treatment give the medicine and the daily dose.",
    )


def intervention_end(request, pk):
    intervention = record_for_user(request.user, Intervention.objects.select_related("episode__patient"), pk)
    return end_page(
        request,
        intervention,
        service=lambda i, day: services.intervention_end(intervention=i, ended_on=day, by=request.user),
        what="Intervention",
    )
