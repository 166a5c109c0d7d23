"""Pages about the patient as a whole: registering someone entering treatment, opening a later episode, changing
the care team, handing over a caseload, and correcting details with a reason kept on the timeline."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from patients import forms, services
from patients.access import patient_for_user
from patients.views.common import patient_form_page, say_if_moved, schedule_of
from recovery_reviews.access import can_move_patient, team_ids_for_user
from recovery_reviews.formatting import day
from recovery_reviews.forms import add_service_errors
from recovery_reviews.models import Role


def patient_register(request):
    """Someone entering treatment: the patient and their first episode, which starts the review schedule."""
    if not team_ids_for_user(request.user):
        raise PermissionDenied("Registering patients is for staff of a clinical team.")
    form = forms.PatientRegisterForm(
        request.POST or None, user=request.user, initial={"entry_date": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            episode = services.patient_register(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            if "different_person" in form.errors:
                form.ask_about_a_namesake()
        else:
            target, deadline, _ = schedule_of(episode.pk)
            messages.success(
                request,
                f"{episode.patient} is registered and in treatment from {day(episode.entry_date)}. First "
                f"strategic review: target {day(target)}, no later than {day(deadline)} (§1.3).",
            )
            return redirect(episode.patient)
    return render(request, "patients/patient_register.html", {"form": form})


def episode_open(request, pk):
    patient = patient_for_user(request.user, pk)
    form = forms.EpisodeOpenForm(
        request.POST or None, patient=patient, initial={"entry_date": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.episode_open(patient=patient, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Treatment episode opened; the first strategic review is scheduled (§1.3)."
            )
            return redirect(patient)
    return patient_form_page(request, patient, form, title="Open a treatment episode")


def patient_move(request, pk):
    """A new keyworker, lead practitioner or team for the patient, with the reason kept on the record."""
    patient = patient_for_user(request.user, pk)
    if not can_move_patient(request.user, patient):
        raise PermissionDenied(
            "A manager, or a senior practitioner in the patient's team, changes the care team."
        )
    episode = patient.episodes.filter(exit_date__isnull=True).select_related("lead_practitioner").first()
    form = forms.PatientMoveForm(request.POST or None, user=request.user, patient=patient, episode=episode)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.patient_move(patient=patient, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Care team changed: " + "; ".join(change.changes()) + ".")
            return redirect(patient)
    return patient_form_page(
        request,
        patient,
        form,
        title="Change keyworker or team",
        intro="Reminders go to whoever looks after the patient from the next sweep; the review schedule does not "
        "change. The change and its reason stay on the record.",
    )


def caseload_handover(request):
    """A manager (for the teams they manage) or a senior practitioner (for their team) hands every patient of one
    keyworker to another: someone leaving, a caseload rebalanced."""
    user = request.user
    if user.role == Role.MANAGER:
        team_ids = team_ids_for_user(user)
    elif user.role == Role.SENIOR_PRACTITIONER:
        team_ids = [user.team_id]
    else:
        raise PermissionDenied(
            "A manager, or a senior practitioner for their own team, hands over a caseload."
        )
    form = forms.CaseloadHandoverForm(
        request.POST or None, team_ids=team_ids, initial={"from_keyworker": request.GET.get("from")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.caseload_handover(by=user, team_ids=team_ids, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            giver, taker = form.cleaned_data["from_keyworker"], form.cleaned_data["to_keyworker"]
            messages.success(
                request,
                f"{len(moved)} patient{'s' if len(moved) != 1 else ''} handed over from {giver} to {taker}; "
                "each patient's timeline keeps the reason.",
            )
            return redirect(f"{reverse('reviews:dashboard')}?team={taker.team_id}")
    return render(request, "patients/handover.html", {"form": form})


def details_correct(request, pk):
    """Correct a patient's details and their episode's; each change is kept with its reason on the timeline."""
    patient = patient_for_user(request.user, pk)
    episodes = list(patient.episodes.order_by("-entry_date"))
    chosen = request.GET.get("episode", "")
    episode = next((e for e in episodes if str(e.pk) == chosen), episodes[0] if episodes else None)
    initial = {name: getattr(patient, name) for name in services.PATIENT_DETAILS}
    if episode is not None:
        initial.update({name: getattr(episode, name) for name in services.EPISODE_DETAILS})
    form = forms.DetailsCorrectionForm(request.POST or None, initial=initial, episode=episode)
    if request.method == "POST" and form.is_valid():
        changes = {name: value for name, value in form.cleaned_data.items() if name != "reason"}
        before = schedule_of(episode.pk) if episode else None
        try:
            corrected = services.details_correct(
                patient=patient,
                episode=episode,
                changes=changes,
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Corrected: " + "; ".join(str(c) for c in corrected) + ".")
            if episode is not None:
                say_if_moved(request, episode, before)
            return redirect(f"{patient.get_absolute_url()}?episode={episode.pk}" if episode else patient)
    which = (
        f"The patient's details, and those of the episode from {day(episode.entry_date)}."
        if episode
        else ("The patient's details.")
    )
    return patient_form_page(
        request,
        patient,
        form,
        title="Correct details",
        intro=f"{which} Each change is kept on the timeline with what it was and why.",
    )
