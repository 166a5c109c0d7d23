from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone

from patients import services
from patients.forms import CaseloadFilterForm, PharmacyReportForm
from patients.selectors import caseload_for_user, drug_test_summary, pharmacy_summary, recent_safety_events
from recovery_reviews.access import episode_for_user, patient_for_user
from recovery_reviews.audit import record_access
from reviews.models import ReviewStatus
from reviews.scheduling import ReviewDue, review_status
from reviews.status import STATUS_LABELS


def caseload(request):
    today = timezone.localdate()
    form = CaseloadFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    episodes = caseload_for_user(
        request.user,
        today=today,
        status=filters.get("status", ""),
        search=filters.get("q", ""),
        team_id=getattr(filters.get("team"), "pk", None),
        mine=filters.get("mine", False),
    )
    page = Paginator(episodes, 50).get_page(request.GET.get("page"))
    week_end = today + timedelta(days=7)
    due_this_week = [e for e in page if e.next_review_target <= week_end and e.next_review_deadline >= today]
    return render(
        request,
        "patients/caseload.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "status_labels": STATUS_LABELS,
            "due_this_week": due_this_week,
            "safety_events": recent_safety_events(request.user, today=today),
        },
    )


def patient_detail(request, pk):
    patient = patient_for_user(request.user, pk)
    record_access(request, patient)
    today = timezone.localdate()
    episodes = list(patient.episodes.select_related("lead_practitioner").order_by("-entry_date"))
    episode = episodes[0] if episodes else None
    context = {"patient": patient, "episode": episode, "past_episodes": episodes[1:], "today": today}
    if episode is not None:
        context.update(_episode_context(episode, today))
    return render(request, "patients/detail.html", context)


def _episode_context(episode, today):
    status = ""
    if episode.next_review_target:
        due = ReviewDue(
            episode.next_review_kind, episode.next_review_target, episode.next_review_deadline, ()
        )
        status = review_status(due, today)
    awaiting = episode.strategic_reviews.filter(status=ReviewStatus.AWAITING_PATIENT).first()
    tops = list(episode.top_assessments.order_by("assessed_on"))
    return {
        "status": status,
        "status_label": STATUS_LABELS.get(status, ""),
        "awaiting_review": awaiting,
        "interventions": episode.interventions.order_by("-started_on"),
        "dispensing": episode.dispensing_arrangements.order_by("-effective_from", "-recorded_at").first(),
        "circumstances": episode.circumstances.filter(ended_on__isnull=True),
        "first_top": tops[0] if tops else None,
        "latest_top": tops[-1] if len(tops) > 1 else None,
        "tests": drug_test_summary(episode, today=today),
        "pharmacy": pharmacy_summary(episode, today=today),
        "reports": episode.pharmacy_reports.order_by("-period_end")[:5],
        "reviews": episode.strategic_reviews.select_related("lead").order_by("-held_on")[:5],
        "appointments": episode.appointments.order_by("-starts_at")[:5],
    }


def pharmacy_report_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    form = PharmacyReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.pharmacy_report_record(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if report.is_safety_event:
                messages.warning(
                    request,
                    f"{report.missed_dose_run} consecutive missed doses: a safety event. Tolerance may be lost; "
                    "tell the prescriber before dosing resumes. The next review has moved earlier.",
                )
            else:
                messages.success(request, "Pharmacy report recorded.")
            return redirect(episode.patient)
    record_access(request, episode.patient)
    return render(request, "patients/pharmacy_report_form.html", {"form": form, "episode": episode})


def _add_errors(form, error: ValidationError) -> None:
    """Put a service's validation errors beside the fields they name, the rest at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
