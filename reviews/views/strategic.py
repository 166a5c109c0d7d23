"""The strategic review (§2): start it (the evidence pack is compiled), record everything decided at it, check
the agreed next date against the policy before saving, and complete it in one transaction; record the
patient's involvement in a review held without them (§2.4); record recovery check-ups after treatment (§1.7)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from patients.access import episode_for_user
from patients.models import TreatmentEpisode
from recovery_reviews.access import record_for_user
from recovery_reviews.audit import record_access
from recovery_reviews.formatting import day
from recovery_reviews.forms import add_service_errors
from recovery_reviews.models import Role
from reviews import forms
from reviews.findings import suggestions_for_page
from reviews.models import CheckUpOutcome, Finding, ParticipantRole, ReviewStatus, StrategicReview
from reviews.risk_selectors import episode_risk
from reviews.selectors import contradictions, evidence_pack
from reviews.services import strategic
from reviews.services.schedule import policy, schedule_preview


def review_new(request, episode_pk):
    """Start a review (or go back to the one in progress): the next page compiles the evidence pack."""
    episode = episode_for_user(request.user, episode_pk)
    draft = episode.strategic_reviews.filter(status=ReviewStatus.DRAFT).first()
    if draft is not None:
        return redirect(draft)
    lead = request.user if request.user.role == Role.SENIOR_PRACTITIONER else episode.lead_practitioner
    form = forms.ReviewStartForm(
        request.POST or None,
        episode=episode,
        initial={"lead": lead or request.user, "held_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = strategic.review_start(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(review)
    record_access(request, episode.patient)
    return render(
        request,
        "reviews/review_start.html",
        {
            "form": form,
            "episode": episode,
            "prescribing": strategic.includes_prescribing(episode, timezone.localdate()),
        },
    )


@require_POST
def review_discard(request, pk):
    review = record_for_user(request.user, StrategicReview.objects.select_related("episode__patient"), pk)
    episode = review.episode
    awaiting = review.status == ReviewStatus.AWAITING_PATIENT
    try:
        unapplied = strategic.review_discard(review=review, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(review)
    if awaiting:
        never = (
            f" Its pending decisions were not applied and never will be: {'; '.join(unapplied)}."
            if unapplied
            else ""
        )
        messages.warning(
            request,
            f"The strategic review held without the patient on {day(review.held_on)} is discarded.{never} (§2.4)",
        )
    else:
        messages.success(
            request,
            f"The strategic review started on {day(review.held_on)} is discarded; nothing from it was recorded.",
        )
    return redirect(episode.get_absolute_url())


def review_detail(request, pk):
    review = record_for_user(
        request.user, StrategicReview.objects.select_related("episode__patient", "lead"), pk
    )
    if review.status == ReviewStatus.DRAFT:
        return _complete(request, review)
    record_access(request, review.episode.patient)
    return render(
        request,
        "reviews/review_detail.html",
        {
            "review": review,
            "episode": review.episode,
            "participants": review.participants.all(),
            "findings": review.findings.all(),
            "responses": review.responses.select_related("finding"),
            "unmet_needs": review.unmet_needs.all(),
            "decisions": review.pending_decisions.select_related("intervention"),
            "pack": evidence_pack(review.episode, as_of=review.held_on, review=review),
        },
    )


def _complete(request, review: StrategicReview):
    """The completion form of a review in progress, with the evidence pack beside it."""
    episode = review.episode
    pack = evidence_pack(episode, as_of=timezone.localdate(), review=review)
    staff = list(forms.clinical_staff(episode.patient.team_id))
    post = request.POST if request.method == "POST" else None
    form = forms.StrategicReviewForm(
        post,
        episode=episode,
        current_interventions=pack.current_interventions,
        initial={"held_on": review.held_on},
    )
    participants = forms.ParticipantFormSet(
        post, prefix="participants", initial=_participants_initial(review)
    )
    participants.took_part = bool(post and post.get("patient_took_part"))
    needs = forms.UnmetNeedFormSet(post, prefix="needs")
    if post is not None and all([form.is_valid(), participants.is_valid(), needs.is_valid()]):
        try:
            review = strategic.review_complete(
                review=review,
                by=request.user,
                participants=participants.participants(staff),
                unmet_needs=needs.needs(),
                **form.service_arguments(),
            )
        except ValidationError as error:
            add_service_errors(form, error, rename=forms.SERVICE_ERROR_FIELDS)
        else:
            if review.status == ReviewStatus.COMPLETED:
                messages.success(request, "Strategic review completed. The next review is scheduled from it.")
            else:
                messages.warning(
                    request,
                    "Review recorded without the patient: it completes, and resets the clock, once their "
                    "involvement is recorded (§2.4)."
                    + (
                        " Its dispensing and intervention changes are pending the patient's involvement and take "
                        "effect on that day."
                        if review.pending_decisions.exists()
                        else ""
                    ),
                )
            return redirect(episode.get_absolute_url())
    record_access(request, episode.patient)
    current = pack.current_dispensing
    return render(
        request,
        "reviews/review_form.html",
        {
            "review": review,
            "episode": episode,
            "pack": pack,
            "form": form,
            "participants": participants,
            "needs": needs,
            "suggestions": suggestions_for_page(contradictions(pack)),
            "finding_help": forms.finding_labels_with_guidance(),
            "current_take_home": current.take_home_doses_per_week if current else 0,
            "prescribing": strategic.includes_prescribing(episode, review.held_on),
            "risk": episode_risk(episode, today=timezone.localdate()),  # §2.2: the multidisciplinary team
        },
    )


def _participants_initial(review: StrategicReview) -> list[dict]:
    """The lead and the patient's keyworker, to start with (§2.6); the patient is added when they took part."""
    keyworker = review.episode.patient.keyworker
    rows = [{"name": str(review.lead), "role": _role_of(review.lead), "staff": review.lead.pk}]
    if keyworker.pk != review.lead_id:
        rows.append({"name": str(keyworker), "role": ParticipantRole.KEYWORKER, "staff": keyworker.pk})
    return rows


def _role_of(user) -> str:
    return (
        ParticipantRole.SENIOR_PRACTITIONER
        if user.role == Role.SENIOR_PRACTITIONER
        else ParticipantRole.KEYWORKER
    )


def review_preview(request, episode_pk):
    """What the policy will make of the proposed next date, shown before saving (§1.3-1.5); htmx swaps it in."""
    episode = episode_for_user(request.user, episode_pk)
    form = forms.SchedulePreviewForm(request.GET)
    form.is_valid()
    data, due, problem = form.cleaned_data, None, ""
    if not data.get("held_on"):
        problem = "Enter the date the review was held."
    elif not data.get("patient_took_part"):
        problem = (
            "Without the patient this review does not reset the clock until their involvement is recorded "
            "(§2.4): the current schedule stands until then."
        )
    else:
        try:
            due = schedule_preview(
                episode,
                completed_on=data["held_on"],
                agreed_next_date=data.get("agreed_next_date"),
                extension_justified=form.extension_justified,
                adherence_deteriorated_on=data["held_on"]
                if Finding.DETERIORATING_ADHERENCE in data.get("findings", [])
                else None,
                not_benefiting=bool(
                    {Finding.NO_BENEFIT, Finding.LESS_BENEFIT_THAN_EXPECTED} & set(data.get("findings", []))
                ),
            )
        except ValueError as error:
            problem = str(error)
    agreed = data.get("agreed_next_date")
    return render(
        request,
        "reviews/_schedule_preview.html",
        {
            "due": due,
            "problem": problem,
            "agreed": agreed,
            "refused": bool(due and agreed and agreed != due.target),
        },
    )


def review_involvement(request, pk):
    review = record_for_user(request.user, StrategicReview.objects.select_related("episode__patient"), pk)
    form = forms.PatientInvolvementForm(request.POST or None, initial={"involved_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            strategic.review_record_patient_involvement(
                review=review, involved_on=form.cleaned_data["involved_on"], by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            on = form.cleaned_data["involved_on"]
            applied = review.pending_decisions.select_related("intervention").filter(applied_on=on)
            took_effect = f" Taking effect from {day(on)}: {'; '.join(map(str, applied))}." if applied else ""
            messages.success(
                request, f"The patient's involvement is recorded: the review is complete.{took_effect}"
            )
            return redirect(review.episode.get_absolute_url())
    record_access(request, review.episode.patient)
    return render(
        request,
        "reviews/involvement_form.html",
        {
            "form": form,
            "review": review,
            "episode": review.episode,
            "decisions": review.pending_decisions.select_related("intervention"),
        },
    )


def check_up_new(request, episode_pk):
    """Record a recovery check-up, or an attempt that could not reach the patient, after which the same check-up
    stays owed (§1.7, docs/design.md rule 7c). Early signs of relapse offer a new episode at once; rapid access
    back into treatment opens it with the check-up, in one transaction."""
    episode = episode_for_user(request.user, episode_pk)
    in_treatment = episode.patient.episodes.filter(exit_date__isnull=True).exists()
    form = forms.CheckUpForm(
        request.POST or None,
        patient=None if in_treatment else episode.patient,
        initial={"held_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            check_up = strategic.check_up_record(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _check_up_recorded(check_up, episode))
            if form.cleaned_data["new_episode"]:
                return redirect(episode.patient)  # the record opens on the new episode
            return redirect(f"{episode.get_absolute_url()}?episode={episode.pk}")
    record_access(request, episode.patient)
    return render(
        request,
        "reviews/check_up_form.html",
        {
            "form": form,
            "episode": episode,
            "standing": strategic.check_up_standing(episode.check_ups.all()),
            "in_treatment": in_treatment,
            "relapse_days": policy().relapse_check_up_days,
            "new_episode_fields": [form[name] for name in form.new_episode_fields],
        },
    )


def _check_up_recorded(check_up, episode) -> str:
    """The success message: what was recorded and what is owed now, from the stored schedule."""
    target, deadline = TreatmentEpisode.objects.values_list("next_review_target", "next_review_deadline").get(
        pk=episode.pk
    )
    owed = f"target {day(target)}, no later than {day(deadline)}" if target else ""
    number = f"Recovery check-up {check_up.sequence}"
    if check_up.is_attempt:
        still = f" {number} is still owed: {owed} (§1.7)." if target else ""
        return f"Attempt recorded: {episode.patient} could not be reached on {day(check_up.held_on)}.{still}"
    if check_up.outcome == CheckUpOutcome.RETURNED_TO_TREATMENT:
        back = (
            episode.patient.episodes.filter(entry_date__gte=episode.exit_date).exclude(pk=episode.pk).first()
        )
        if back is not None:
            return (
                f"{number} recorded: rapid access back into treatment arranged. {episode.patient} is in treatment "
                f"again from {day(back.entry_date)}: first strategic review target {day(back.next_review_target)}, "
                f"no later than {day(back.next_review_deadline)} (§1.3). The check-ups after the episode that ended "
                f"on {day(episode.exit_date)} stop (§1.7)."
            )
    if check_up.outcome == CheckUpOutcome.RELAPSE_RISK:
        message = format_html(
            "{} recorded: early signs of relapse. {} (§1.7).",
            number,
            f"The next check-up is now due within {policy().relapse_check_up_days} days: {owed}"
            if target
            else "No further check-up is scheduled after this one",
        )
        if not episode.patient.episodes.filter(exit_date__isnull=True).exists():
            message += format_html(
                ' Offer rapid access back into treatment: <a class="alert-link" href="{}">Open a new treatment '
                "episode</a>.",
                reverse("patients:episode_open", args=[episode.patient_id]),
            )
        return message
    return f"{number} recorded. " + (
        f"Next recovery check-up: {owed} (§1.7)." if target else "Nothing more is owed (§1.7)."
    )


urlpatterns = [
    path("episodes/<int:episode_pk>/new/", review_new, name="review_new"),
    path("episodes/<int:episode_pk>/preview/", review_preview, name="review_preview"),
    path("episodes/<int:episode_pk>/check-ups/new/", check_up_new, name="check_up_new"),
    path("<int:pk>/", review_detail, name="detail"),
    path("<int:pk>/involvement/", review_involvement, name="review_involvement"),
    path("<int:pk>/discard/", review_discard, name="review_discard"),
]
