from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from patients.views import _add_errors
from recovery_reviews.access import episode_for_user, record_for_user
from recovery_reviews.audit import record_access
from reviews.findings import SUGGESTIONS
from reviews.forms import PatientInvolvementForm, StrategicReviewForm
from reviews.models import Finding, StrategicReview
from reviews.services import strategic
from reviews.services.schedule import schedule_preview


def review_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    record_access(request, episode.patient)
    not_assessed = dict.fromkeys(
        ("drug_alcohol_progress", "health_progress", "offending_progress", "social_progress"), "not_assessed"
    )
    form = StrategicReviewForm(
        request.POST or None, initial={"held_on": timezone.localdate(), **not_assessed}
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = strategic.review_record(
                episode=episode, lead=request.user, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                "Strategic review completed."
                if review.completed_on
                else "Review recorded; it completes once the patient's involvement is recorded (§2.4).",
            )
            return redirect(episode.patient)
    suggestions = {code: {"responses": list(codes), "why": why} for code, (codes, why) in SUGGESTIONS.items()}
    return render(
        request, "reviews/review_form.html", {"form": form, "episode": episode, "suggestions": suggestions}
    )


def review_preview(request, episode_pk):
    """What the policy will make of the proposed next date, shown before saving (§1.3-1.5)."""
    episode = episode_for_user(request.user, episode_pk)
    form = StrategicReviewForm(request.GET)
    form.is_valid()
    data, due, problem = form.cleaned_data, None, ""
    if not data.get("held_on"):
        problem = "Enter the date the review was held."
    elif not data.get("patient_took_part"):
        problem = "Without the patient this review does not reset the clock until their involvement is recorded (§2.4)."
    else:
        try:
            due = schedule_preview(
                episode,
                completed_on=data["held_on"],
                agreed_next_date=data.get("agreed_next_date"),
                extension_justified=all(
                    data.get(k)
                    for k in (
                        "clear_continuing_benefit",
                        "no_significant_change_envisaged",
                        "patient_agrees_interval",
                    )
                ),
                adherence_deteriorated_on=data["held_on"]
                if Finding.DETERIORATING_ADHERENCE in data.get("findings", [])
                else None,
            )
        except ValueError as error:
            problem = str(error)
    return render(
        request,
        "reviews/_schedule_preview.html",
        {"due": due, "problem": problem, "agreed": data.get("agreed_next_date")},
    )


def review_involvement(request, pk):
    review = record_for_user(request.user, StrategicReview.objects.select_related("episode__patient"), pk)
    form = PatientInvolvementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            strategic.review_record_patient_involvement(
                review=review, involved_on=form.cleaned_data["involved_on"], by=request.user
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "The patient's involvement is recorded: the review is complete.")
            return redirect(review.episode.patient)
    return render(request, "reviews/involvement_form.html", {"form": form, "review": review})


urlpatterns = [
    path("episodes/<int:episode_pk>/new/", review_new, name="review_new"),
    path("episodes/<int:episode_pk>/preview/", review_preview, name="review_preview"),
    path("<int:pk>/involvement/", review_involvement, name="review_involvement"),
]
