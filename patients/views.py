"""The keyworker's pages: the caseload, the patient's record, and a form for each thing recorded. Every view
asks the access door (404 outside scope), logs each view of a record, and hands a form's cleaned data to a
service; a service's validation errors come back beside the fields they are about."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from patients import forms, services
from patients.models import (
    Appointment,
    DrugTest,
    EpisodeCircumstance,
    Intervention,
    PharmacyReport,
    TopAssessment,
    TreatmentEpisode,
)
from patients.selectors import (
    appointments_to_record,
    caseload_for_user,
    due_this_week,
    episode_record,
    patients_with_nothing_due,
    recent_safety_events,
    reviews_to_finish,
)
from recovery_reviews.access import (
    can_move_patient,
    episode_for_user,
    patient_for_user,
    record_for_user,
    team_ids_for_user,
)
from recovery_reviews.audit import record_access
from recovery_reviews.models import Role
from reviews.models import ReviewStatus
from reviews.status import STATUS_LABELS

TIMELINE_SHOWN = 40


def add_service_errors(form, error: ValidationError, *, rename: dict | None = None) -> None:
    """Put a service's validation errors beside the fields they name (renamed where the form calls a field
    otherwise), the rest at the top of the form."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            name = rename.get(name, name)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


_add_errors = add_service_errors  # the name the first review views imported


# --- Caseload and record --------------------------------------------------------------------------------------


def caseload(request):
    """The keyworker's home: next reviews soonest first, filtered and searched; due this week; safety events."""
    today = timezone.localdate()
    form = forms.CaseloadFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    episodes = caseload_for_user(
        request.user,
        today=today,
        status=filters.get("status", ""),
        search=filters.get("q", ""),
        team_id=getattr(filters.get("team"), "pk", None),
        mine=filters.get("mine", False),
        this_week=filters.get("week", False),
    )
    page = Paginator(episodes, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "patients/caseload.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "status_labels": STATUS_LABELS,
            "due_this_week": due_this_week(request.user, today=today),
            "appointments_to_record": appointments_to_record(request.user),
            "reviews_to_finish": reviews_to_finish(request.user),
            "safety_events": recent_safety_events(request.user, today=today),
            "filtered": any(filters.values()),
            "can_register": bool(team_ids_for_user(request.user)),
            "nothing_due": patients_with_nothing_due(request.user, search=filters.get("q", "")),
        },
    )


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
            target, deadline = _schedule(episode.pk)
            messages.success(
                request,
                f"{episode.patient} is registered and in treatment from {episode.entry_date:%d %b %Y}. First "
                f"strategic review: target {target:%d %b %Y}, no later than {deadline:%d %b %Y} (§1.3).",
            )
            return redirect(episode.patient)
    return render(request, "patients/patient_register.html", {"form": form})


def _patient_form_page(request, patient, form, *, title: str, intro: str = ""):
    """A form about the patient as a whole (not one episode's record), with the access logged."""
    record_access(request, patient)
    return render(
        request,
        "patients/episode_form.html",
        {"form": form, "episode": None, "patient": patient, "title": title, "intro": intro},
    )


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
    return _patient_form_page(
        request,
        patient,
        form,
        title="Change keyworker or team",
        intro="Reminders go to whoever looks after the patient from the next sweep; the review schedule does not "
        "change. The change and its reason stay on the record.",
    )


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
        before = _schedule(episode.pk) if episode else None
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
                _say_if_moved(request, episode, before)
            return redirect(f"{patient.get_absolute_url()}?episode={episode.pk}" if episode else patient)
    which = (
        f"The patient's details, and those of the episode from {episode.entry_date:%d %b %Y}."
        if episode
        else ("The patient's details.")
    )
    return _patient_form_page(
        request,
        patient,
        form,
        title="Correct details",
        intro=f"{which} Each change is kept on the timeline with what it was and why.",
    )


def patient_detail(request, pk):
    patient = patient_for_user(request.user, pk)
    record_access(request, patient)
    today = timezone.localdate()
    episodes = list(patient.episodes.select_related("lead_practitioner").order_by("-entry_date"))
    chosen = request.GET.get("episode", "")
    episode = next((e for e in episodes if str(e.pk) == chosen), episodes[0] if episodes else None)
    record = episode_record(episode, today=today) if episode else None
    timeline = record.timeline() if record else []
    show_all = request.GET.get("timeline") == "all"
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "episodes": episodes,
            "episode": episode,
            "record": record,
            "today": today,
            "timeline": timeline if show_all else timeline[:TIMELINE_SHOWN],
            "timeline_hidden": 0 if show_all else max(0, len(timeline) - TIMELINE_SHOWN),
            "can_open_episode": not any(e.is_open for e in episodes),
            "can_move": can_move_patient(request.user, patient),
        },
    )


# --- Recording forms --------------------------------------------------------------------------------------------


def _schedule(episode_pk: int) -> tuple:
    return TreatmentEpisode.objects.values_list("next_review_target", "next_review_deadline").get(
        pk=episode_pk
    )


def _say_if_moved(request, episode: TreatmentEpisode, before: tuple) -> None:
    after = _schedule(episode.pk)
    if after != before and after[0] is not None:
        direction = "earlier" if before[0] is None or after < before else "later"
        messages.info(
            request,
            f"The next review moved {direction}: target {after[0]:%d %b %Y}, deadline {after[1]:%d %b %Y}. "
            "The reasons are on the record.",
        )


def _episode_form(
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
        before = _schedule(episode.pk)
        try:
            result = save(form)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            message = success(result) if callable(success) else success
            if message:
                messages.success(request, message)
            _say_if_moved(request, episode, before)
            return redirect(episode.get_absolute_url())
    record_access(request, episode.patient)
    context = {"form": form, "episode": episode, "title": title, "intro": intro, **(extra or {})}
    return render(request, template, context)


def appointment_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    now = timezone.localtime()
    keyworker = request.user if request.user.team_id == episode.patient.team_id else episode.patient.keyworker
    return _episode_form(
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


def top_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    stage = (
        "start" if not episode.top_assessments.exists() else ("post_exit" if episode.exit_date else "review")
    )
    return _episode_form(
        request,
        episode,
        form_class=forms.TopAssessmentForm,
        initial={"assessed_on": timezone.localdate(), "stage": stage},
        save=lambda form: services.top_assessment_record(
            episode=episode,
            assessed_on=form.cleaned_data["assessed_on"],
            stage=form.cleaned_data["stage"],
            answers=form.answers(),
            by=request.user,
        ),
        success="Treatment Outcomes Profile recorded.",
        template="patients/top_form.html",
    )


def drug_test_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    prescribed = forms.prescribed_substances(episode.interventions.all(), timezone.localdate())
    results = forms.DrugTestResultFormSet(
        request.POST or None, prefix="results", initial=forms.result_rows_initial(prescribed)
    )
    if results.is_bound:
        results.is_valid()  # so that its errors show even when the test's own fields are wrong

    def save(form):
        if not results.is_valid():
            raise ValidationError("Correct the results below.")
        return services.drug_test_record(
            episode=episode, by=request.user, results=results.results(), **form.cleaned_data
        )

    return _episode_form(
        request,
        episode,
        form_class=forms.DrugTestForm,
        initial={"taken_on": timezone.localdate()},
        save=save,
        success=lambda test: (
            "Drug test recorded."
            + (
                " It has unexpected results: see the record."
                if any(r.is_unexpected for r in test.results.all())
                else ""
            )
        ),
        template="patients/drug_test_form.html",
        extra={"results": results},
    )


def pharmacy_report_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)

    def success(report):
        if report.is_safety_event:
            told = report.prescriber_informed_on
            messages.warning(
                request,
                f"{report.missed_dose_run} consecutive missed doses: a safety event. Tolerance may be lost; "
                + (
                    f"the prescriber was told on {told:%d %b %Y}."
                    if told
                    else "tell the prescriber before dosing resumes, and record it on the safety alert."
                ),
            )
            return ""
        return "Pharmacy report recorded."

    return _episode_form(
        request,
        episode,
        form_class=forms.PharmacyReportForm,
        save=lambda form: services.pharmacy_report_record(
            episode=episode, by=request.user, **form.cleaned_data
        ),
        success=success,
        template="patients/pharmacy_report_form.html",
    )


def dispensing_change_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    return _episode_form(
        request,
        episode,
        form_class=forms.DispensingChangeForm,
        initial={"effective_from": timezone.localdate()},
        save=lambda form: services.dispensing_change_record(
            episode=episode, by=request.user, **form.cleaned_data
        ),
        success="Dispensing arrangement changed.",
        title="Change the dispensing arrangement",
        intro="Every change is kept with its reason (App. C 1: introduce or extend take-home doses with "
        "demonstrated stability; reinstate supervision when adherence deteriorates).",
    )


def circumstance_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    return _episode_form(
        request,
        episode,
        form_class=forms.CircumstanceForm,
        initial={"started_on": timezone.localdate()},
        save=lambda form: services.circumstance_record(episode=episode, by=request.user, **form.cleaned_data),
        success="Circumstance recorded.",
        title="A circumstance that calls for earlier review",
        intro="Review is called earlier for short-term treatment, complex or co-morbid needs, treatment not "
        "producing the expected benefit, and at times of transition (§1.6).",
    )


def intervention_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    return _episode_form(
        request,
        episode,
        form_class=forms.InterventionForm,
        initial={"started_on": timezone.localdate()},
        save=lambda form: services.intervention_record(episode=episode, by=request.user, **form.cleaned_data),
        success="Intervention recorded.",
        title="Start an intervention",
        intro="For opioid substitution treatment give the medicine and the daily dose.",
    )


def _exit_message(episode: TreatmentEpisode) -> str:
    message = "The episode has ended: recovery check-ups are now scheduled (§1.7)."
    draft = episode.strategic_reviews.filter(status=ReviewStatus.DRAFT).select_related("lead").first()
    if draft:
        message += (
            f" The strategic review started on {draft.held_on:%d %b %Y} (lead {draft.lead}) was not completed: "
            "open it and discard it."
        )
    return message


def episode_exit(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    return _episode_form(
        request,
        episode,
        form_class=forms.EpisodeExitForm,
        initial={"exit_date": timezone.localdate()},
        save=lambda form: services.episode_exit(episode=episode, by=request.user, **form.cleaned_data),
        success=_exit_message,
        title="End the treatment episode",
        intro="Strategic reviews stop and recovery check-ups follow at 14 days, 3, 6 and 12 months (§1.7).",
    )


def _end(request, record, *, service, what: str):
    form = forms.EndForm(
        request.POST or None, started_on=record.started_on, initial={"ended_on": timezone.localdate()}
    )
    episode = record.episode
    if request.method == "POST" and form.is_valid():
        before = _schedule(episode.pk)
        try:
            service(record, form.cleaned_data["ended_on"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{what} ended.")
            _say_if_moved(request, episode, before)
            return redirect(episode.get_absolute_url())
    record_access(request, episode.patient)
    return render(
        request,
        "patients/episode_form.html",
        {"form": form, "episode": episode, "title": f"End: {record}", "intro": ""},
    )


def circumstance_end(request, pk):
    circumstance = record_for_user(
        request.user, EpisodeCircumstance.objects.select_related("episode__patient"), pk
    )
    return _end(
        request,
        circumstance,
        service=lambda c, day: services.circumstance_end(circumstance=c, ended_on=day, by=request.user),
        what="Circumstance",
    )


def intervention_end(request, pk):
    intervention = record_for_user(request.user, Intervention.objects.select_related("episode__patient"), pk)
    return _end(
        request,
        intervention,
        service=lambda i, day: services.intervention_end(intervention=i, ended_on=day, by=request.user),
        what="Intervention",
    )


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
    return _patient_form_page(request, patient, form, title="Open a treatment episode")


ENTERED_IN_ERROR_KINDS = {"top": TopAssessment, "drug-test": DrugTest, "pharmacy-report": PharmacyReport}
ENTERED_IN_ERROR_NAMES = {"top": "TOP", "drug-test": "Drug test", "pharmacy-report": "Pharmacy report"}


def entered_in_error(request, kind, pk):
    """Mark a TOP, drug test or pharmacy report as entered in error: kept on the record, no longer evidence."""
    model = ENTERED_IN_ERROR_KINDS.get(kind)
    if model is None:
        raise Http404("No such kind of record.")
    record = record_for_user(request.user, model.with_errors.select_related("episode__patient"), pk)
    episode = record.episode
    form = forms.EnteredInErrorForm(request.POST or None)
    if request.method == "POST" and not record.is_entered_in_error and form.is_valid():
        before = _schedule(episode.pk)
        try:
            services.record_mark_entered_in_error(record=record, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{ENTERED_IN_ERROR_NAMES[kind]} ({record}) is marked as entered in error: it no longer counts "
                "as evidence.",
            )
            _say_if_moved(request, episode, before)
            return redirect(episode.get_absolute_url())
    record_access(request, episode.patient)
    return render(
        request, "patients/entered_in_error.html", {"form": form, "record": record, "episode": episode}
    )


def prescriber_informed(request, pk):
    """Record that the prescriber was told of a run of missed doses (before dosing resumes)."""
    report = record_for_user(request.user, PharmacyReport.objects.select_related("episode__patient"), pk)
    form = forms.PrescriberInformedForm(request.POST or None, initial={"informed_on": timezone.localdate()})
    if request.method == "POST" and report.prescriber_informed_on is None and form.is_valid():
        try:
            services.prescriber_informed_record(report=report, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Recorded: the prescriber was told on {form.cleaned_data['informed_on']:%d %b %Y}."
            )
            return redirect(report.episode.get_absolute_url())
    record_access(request, report.episode.patient)
    return render(
        request,
        "patients/prescriber_informed.html",
        {"form": form, "report": report, "episode": report.episode},
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
                f"Appointment of {timezone.localtime(appointment.starts_at):%d %b %Y}: {status.lower()}.",
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
            "intro": f"The appointment with {appointment.keyworker} on {when:%d %b %Y at %H:%M}, "
            f"{appointment.get_status_display().lower()}.",
        },
    )
