"""Strategic reviews (§2): recorded and completed in one transaction, counting only once the patient took part
(§2.4), led by a senior practitioner where treatment includes prescribing (§2.5)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from patients.models import InterventionKind, TreatmentEpisode
from recovery_reviews.models import Role
from reviews.models import ReviewFinding, ReviewParticipant, ReviewResponse, ReviewStatus, StrategicReview
from reviews.services.schedule import episode_schedule_refresh

DOMAIN_FIELDS = (
    "drug_alcohol_progress",
    "drug_alcohol_assessment",
    "health_progress",
    "health_assessment",
    "offending_progress",
    "offending_assessment",
    "social_progress",
    "social_assessment",
)


def _includes_prescribing(episode: TreatmentEpisode, on: date) -> bool:
    return (
        episode.interventions.filter(kind=InterventionKind.OST, started_on__lte=on)
        .exclude(ended_on__lt=on)
        .exists()
    )


@transaction.atomic
def review_record(
    *,
    episode: TreatmentEpisode,
    lead,
    held_on: date,
    patient_took_part: bool,
    by,
    findings=(),
    responses=(),
    self_report: str = "",
    family_comments: str = "",
    overview: str = "",
    agreed_next_date: date | None = None,
    clear_continuing_benefit: bool = False,
    no_significant_change_envisaged: bool = False,
    patient_agrees_interval: bool = False,
    **domains,
) -> StrategicReview:
    """Record a strategic review. With the patient taking part it completes now and resets the clock; without
    them it awaits their involvement (§2.4) and the clock does not move."""
    if _includes_prescribing(episode, held_on) and lead.role != Role.SENIOR_PRACTITIONER:
        raise ValidationError(
            {"lead": "Treatment includes prescribing, so a senior practitioner must lead this review (§2.5)."}
        )
    if episode.exit_date is not None:
        raise ValidationError("This episode has ended: record a recovery check-up instead (§1.7).")
    unknown = set(domains) - set(DOMAIN_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown review fields: {', '.join(sorted(unknown))}.")
    review = StrategicReview(
        episode=episode,
        lead=lead,
        held_on=held_on,
        patient_took_part=patient_took_part,
        created_by=by,
        status=ReviewStatus.COMPLETED if patient_took_part else ReviewStatus.AWAITING_PATIENT,
        completed_on=held_on if patient_took_part else None,
        self_report=self_report,
        family_comments=family_comments,
        overview=overview,
        agreed_next_date=agreed_next_date,
        clear_continuing_benefit=clear_continuing_benefit,
        no_significant_change_envisaged=no_significant_change_envisaged,
        patient_agrees_interval=patient_agrees_interval,
        **domains,
    )
    review.full_clean()
    review.save()
    participants = [ReviewParticipant(review=review, name=str(lead), role="senior_practitioner", staff=lead)]
    if patient_took_part:
        participants.append(ReviewParticipant(review=review, name=str(episode.patient), role="patient"))
    ReviewParticipant.objects.bulk_create(participants)
    ReviewFinding.objects.bulk_create([ReviewFinding(review=review, code=code) for code in findings])
    ReviewResponse.objects.bulk_create([ReviewResponse(review=review, code=code) for code in responses])
    episode_schedule_refresh(episode)
    return review


@transaction.atomic
def review_record_patient_involvement(*, review: StrategicReview, involved_on: date, by) -> StrategicReview:
    """The patient has now been properly involved (§2.4): the review completes on that date."""
    review = StrategicReview.objects.select_for_update().get(pk=review.pk)
    if review.status != ReviewStatus.AWAITING_PATIENT:
        raise ValidationError("This review is not awaiting the patient's involvement.")
    review.patient_involved_on = involved_on
    review.completed_on = involved_on
    review.status = ReviewStatus.COMPLETED
    review.full_clean()
    review.save(update_fields=["patient_involved_on", "completed_on", "status", "updated_at"])
    ReviewParticipant.objects.create(review=review, name=str(review.episode.patient), role="patient")
    episode_schedule_refresh(review.episode)
    return review
