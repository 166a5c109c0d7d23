"""Strategic reviews (§2) and recovery check-ups (§1.7). Every write here validates with full_clean, runs in one
transaction and recomputes the episode's next review in it.

A review is started (a draft, with the evidence pack compiled for its step-back overview) and completed in one
transaction with everything decided at it: participants, findings, responses, dispensing and intervention
changes, unmet needs and the next date agreed with the patient. It counts as complete only once the patient
took part (§2.4), and where treatment includes prescribing only a senior practitioner leads and completes it
(§2.5)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from patients import services as record
from patients.models import DispensingChange, Intervention, TreatmentEpisode
from recovery_reviews.formatting import day
from recovery_reviews.models import Role
from reviews.findings import RESPONSE_DISPENSING, finding_for_response
from reviews.models import (
    CheckUpOutcome,
    DomainProgress,
    Finding,
    ParticipantRole,
    RecoveryCheckUp,
    Response,
    ReviewFinding,
    ReviewParticipant,
    ReviewResponse,
    ReviewStatus,
    StrategicReview,
    UnmetNeed,
)
from reviews.services import pending, prescribing
from reviews.services.errors import errors_under as _errors_under
from reviews.services.multidisciplinary import multidisciplinary_errors
from reviews.services.schedule import episode_schedule_refresh, policy

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
CORE_DOMAINS = ("drug_alcohol", "health", "offending", "social")  # §2.10, as the review's fields name them


def includes_prescribing(episode: TreatmentEpisode, on: date) -> bool:
    """Treatment includes prescribing for a review dated `on` (§2.5): OST current at any time in the period it
    reviews, or since (reviews.services.prescribing)."""
    return prescribing.prescribing_review(episode, on)


def _check_open(episode: TreatmentEpisode) -> None:
    if episode.exit_date is not None:
        raise ValidationError("This episode has ended: record a recovery check-up instead (§1.7).")


@transaction.atomic
def review_discard(*, review: StrategicReview, by) -> list[str]:
    """Discard a review that was started and not completed: a draft holds only its lead and date (everything
    decided at a review is written when it completes), so nothing clinical is lost. A review awaiting the
    patient whose involvement will not be had is discarded too: its pending decisions go with it, never
    applied (§2.4), and are returned so that the page says which. The audit log keeps the review and who
    discarded it."""
    review = StrategicReview.objects.select_for_update().select_related("episode").get(pk=review.pk)
    if review.status not in (ReviewStatus.DRAFT, ReviewStatus.AWAITING_PATIENT):
        raise ValidationError(
            f"Only a review in progress can be discarded: this one is {review.get_status_display().lower()}."
        )
    allowed = by.pk == review.lead_id or by.role in (Role.SENIOR_PRACTITIONER, Role.MANAGER)
    if not allowed:
        raise PermissionDenied("The review's lead, a senior practitioner or a manager discards a review.")
    episode = review.episode
    unapplied = [str(d) for d in review.pending_decisions.filter(applied_on__isnull=True)]
    review.delete()
    episode_schedule_refresh(episode)
    return unapplied


@transaction.atomic
def review_start(*, episode: TreatmentEpisode, lead, by, held_on: date | None = None) -> StrategicReview:
    """Start a strategic review: a draft whose page compiles the evidence pack. One draft per episode at a time:
    starting again returns the review already in progress."""
    episode = TreatmentEpisode.objects.select_for_update().select_related("patient").get(pk=episode.pk)
    _check_open(episode)
    draft = StrategicReview.objects.filter(episode=episode, status=ReviewStatus.DRAFT).first()
    if draft is not None:
        return draft
    held_on = held_on or timezone.localdate()
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": "Start the review on the day it is held, not before."})
    if errors := prescribing.review_date_errors(episode, held_on):
        raise ValidationError(errors)
    prescribing.check_lead(episode, lead, held_on)
    review = StrategicReview(
        episode=episode, lead=lead, held_on=held_on, status=ReviewStatus.DRAFT, created_by=by
    )
    review.full_clean()
    review.save()
    episode_schedule_refresh(episode)
    return review


def _coded(items: Iterable) -> list[dict]:
    """Findings or responses given as codes or as {"code": ..., "note": ...}."""
    return [item if isinstance(item, dict) else {"code": item, "note": ""} for item in items]


@transaction.atomic
def review_complete(
    *,
    review: StrategicReview,
    by,
    held_on: date,
    patient_took_part: bool,
    participants: Iterable[dict] = (),
    self_report: str = "",
    family_comments: str = "",
    overview: str = "",
    assessments: dict | None = None,
    findings: Iterable = (),
    responses: Iterable = (),
    dispensing: dict | None = None,
    end_interventions: Iterable[Intervention] = (),
    start_intervention: dict | None = None,
    unmet_needs: Iterable[dict] = (),
    agreed_next_date: date | None = None,
    clear_continuing_benefit: bool = False,
    no_significant_change_envisaged: bool = False,
    patient_agrees_interval: bool = False,
    multidisciplinary_reason: str = "",
) -> StrategicReview:
    """Record everything decided at a review in one transaction: any error leaves nothing behind.

    With the patient taking part the review completes on the day it was held and the clock resets; without
    them it awaits their involvement (§2.4) and the clock does not move. Dispensing and intervention changes
    go through the clinical record's own services: on the day of the review with the patient, and without them
    held as pending until their involvement is recorded (reviews/services/pending.py)."""
    review = (
        StrategicReview.objects.select_for_update()
        .select_related("episode__patient", "lead")
        .get(pk=review.pk)
    )
    if review.status != ReviewStatus.DRAFT:
        raise ValidationError(f"This review is already {review.get_status_display().lower()}.")
    episode = review.episode
    _check_open(episode)
    if errors := prescribing.review_date_errors(episode, held_on, review=review):
        raise ValidationError(errors)
    prescribing.check_lead(episode, review.lead, held_on, review=review)
    if by.role != Role.SENIOR_PRACTITIONER and prescribing.prescribing_review(
        episode, held_on, review=review
    ):
        raise ValidationError(prescribing.COMPLETE_MUST_BE_SENIOR)
    findings, responses = _coded(findings), _coded(responses)
    participants = list(participants)
    if dispensing and not dispensing.get("change_reason"):
        # the reason the chosen response names (App. C 1), else "other" with the practitioner's note
        chosen = [RESPONSE_DISPENSING[r["code"]] for r in responses if r["code"] in RESPONSE_DISPENSING]
        dispensing = {**dispensing, "change_reason": chosen[0] if chosen else DispensingChange.OTHER}
    assessments = assessments or {}
    unknown = sorted(set(assessments) - set(DOMAIN_FIELDS))
    if unknown:
        raise ValidationError(f"Unknown review fields: {', '.join(unknown)}.")
    _check_decisions(
        episode,
        held_on,
        patient_took_part,
        participants,
        findings,
        responses,
        dispensing,
        agreed_next_date,
        {
            **domain_errors(assessments),
            **_agreement_errors(patient_took_part, patient_agrees_interval),
            **multidisciplinary_errors(
                episode=episode, participants=participants, reason=multidisciplinary_reason
            ),
        },
    )
    for name, value in {
        "held_on": held_on,
        "patient_took_part": patient_took_part,
        "status": ReviewStatus.COMPLETED if patient_took_part else ReviewStatus.AWAITING_PATIENT,
        "completed_on": held_on if patient_took_part else None,
        "self_report": self_report.strip(),
        "family_comments": family_comments.strip(),
        "overview": overview.strip(),
        "agreed_next_date": agreed_next_date,
        "clear_continuing_benefit": clear_continuing_benefit,
        "no_significant_change_envisaged": no_significant_change_envisaged,
        "patient_agrees_interval": patient_agrees_interval,
        "multidisciplinary_reason": multidisciplinary_reason.strip(),
        **assessments,
    }.items():
        setattr(review, name, value)
    review.full_clean()
    review.save()

    _save_participants(review, participants, patient_took_part)
    _save_findings_and_responses(review, findings, responses)
    pending.decisions_take(
        review=review,
        by=by,
        held_on=held_on,
        took_part=patient_took_part,
        dispensing=dispensing,
        end_interventions=end_interventions,
        start_intervention=start_intervention,
    )
    _save_unmet_needs(review, unmet_needs, held_on, by)
    episode_schedule_refresh(episode)
    return review


def domain_errors(assessments: dict) -> dict:
    """Every core domain considered (§2.10-2.11): each of the four has its progress assessed or, left "not
    assessed", the reason it could not be, in its assessment. One message per domain missing both, keyed by its
    assessment (where the reason is written)."""
    errors = {}
    for domain in CORE_DOMAINS:
        progress = assessments.get(f"{domain}_progress", DomainProgress.NOT_ASSESSED)
        if (
            progress == DomainProgress.NOT_ASSESSED
            and not assessments.get(f"{domain}_assessment", "").strip()
        ):
            label = StrategicReview._meta.get_field(f"{domain}_progress").verbose_name
            errors[f"{domain}_assessment"] = (
                f"{label} is not assessed: give its progress, or say here why it could not be assessed "
                "(§2.10-2.11)."
            )
    return errors


def _agreement_errors(took_part: bool, agrees_interval: bool) -> dict:
    """§1.5's "the patient agrees" a longer interval is theirs to give: not at a review they did not take part in
    (§2.4), where it would let the interval run past six months on an agreement never given."""
    if agrees_interval and not took_part:
        return {
            "patient_agrees_interval": "The patient did not take part in this review, so their agreement to a "
            "longer interval cannot be recorded here (§1.5, §2.4): untick it, and agree the interval with them at "
            "a review they take part in."
        }
    return {}


def _check_decisions(
    episode, held_on, took_part, participants, findings, responses, dispensing, agreed, domains
) -> None:
    """Decisions that contradict each other, and core domains left unconsidered, are refused with a message
    beside the answer to change."""
    errors = dict(domains)
    if not took_part and any(p.get("role") == ParticipantRole.PATIENT for p in participants):
        errors["participants"] = (
            "The patient is listed as a participant: tick that they took part, or remove them (§2.4)."
        )
    if any(f["code"] == Finding.OTHER and not f.get("note", "").strip() for f in findings):
        errors["findings"] = "Describe the other finding."
    if any(r["code"] == Response.OTHER and not r.get("note", "").strip() for r in responses):
        errors["responses"] = "Describe the other response."
    codes = {r["code"] for r in responses}
    current = (
        episode.dispensing_arrangements.filter(effective_from__lte=held_on)
        .order_by("-effective_from", "-recorded_at")
        .first()
    )
    current_take_home = current.take_home_doses_per_week if current else 0
    new_take_home = dispensing.get("take_home_doses_per_week") if dispensing else None
    if Response.REINSTATE_SUPERVISION in codes and current_take_home and new_take_home != 0:
        errors["dispensing"] = (
            "You chose to reinstate supervised dosing: record the change to 0 take-home doses (App. C 1)."
        )
    for code in (Response.INTRODUCE_TAKE_HOME, Response.EXTEND_TAKE_HOME):
        if code in codes and (new_take_home is None or new_take_home <= current_take_home):
            errors["dispensing"] = (
                f"You chose to {Response(code).label.lower()}: record the new number of take-home doses a week "
                f"(more than the {current_take_home} now) (App. C 1)."
            )
    found = {f["code"] for f in findings}
    if (
        Response.EARLIER_RE_REVIEW in codes
        and Finding.DETERIORATING_ADHERENCE not in found
        and agreed is None
    ):
        errors["agreed_next_date"] = "You chose an earlier re-review: agree its date with the patient."
    longest = policy().max_agreed_interval_months
    if agreed and agreed > held_on + relativedelta(months=longest):
        errors["agreed_next_date"] = (
            f"More than {longest} months after this review: the policy never goes beyond that (§1.5)."
        )
    if errors:
        raise ValidationError(errors)


def _save_participants(review: StrategicReview, participants: list[dict], took_part: bool) -> None:
    """Who took part and in what role (§2.6); the lead always, and the patient when they took part (§2.1)."""
    rows = [
        ReviewParticipant(review=review, name=p["name"].strip(), role=p["role"], staff=p.get("staff"))
        for p in participants
    ]
    if not any(r.staff_id == review.lead_id for r in rows):
        role = (
            ParticipantRole.SENIOR_PRACTITIONER
            if review.lead.role == Role.SENIOR_PRACTITIONER
            else ParticipantRole.KEYWORKER
        )
        rows.insert(0, ReviewParticipant(review=review, name=str(review.lead), role=role, staff=review.lead))
    if took_part and not any(r.role == ParticipantRole.PATIENT for r in rows):
        rows.append(
            ReviewParticipant(review=review, name=str(review.episode.patient), role=ParticipantRole.PATIENT)
        )
    for row in rows:
        with _errors_under("participants"):
            row.full_clean(exclude=["review"])
    ReviewParticipant.objects.bulk_create(rows)


def _save_findings_and_responses(
    review: StrategicReview, findings: list[dict], responses: list[dict]
) -> None:
    saved = {}
    for f in findings:
        row = ReviewFinding(review=review, code=f["code"], note=f.get("note", "").strip())
        with _errors_under("findings"):
            row.full_clean(exclude=["review"], validate_constraints=False)
        row.save()
        saved.setdefault(row.code, row)
    codes = list(saved)
    rows = []
    for r in responses:
        linked = finding_for_response(r["code"], codes)
        row = ReviewResponse(
            review=review, code=r["code"], note=r.get("note", "").strip(), finding=saved.get(linked)
        )
        with _errors_under("responses"):
            row.full_clean(exclude=["review", "finding"], validate_constraints=False)
        rows.append(row)
    ReviewResponse.objects.bulk_create(rows)


def _save_unmet_needs(review: StrategicReview, needs: Iterable[dict], held_on: date, by) -> None:
    """Interventions, intensities or settings needed and not to be had (§2.14), for the commissioners."""
    rows = [
        UnmetNeed(episode=review.episode, review=review, recorded_on=held_on, recorded_by=by, **need)
        for need in needs
    ]
    for row in rows:
        row.description = row.description.strip()
        with _errors_under("unmet_needs"):
            row.full_clean(exclude=["episode", "review", "recorded_by"])
    UnmetNeed.objects.bulk_create(rows)


@transaction.atomic
def review_record_patient_involvement(*, review: StrategicReview, involved_on: date, by) -> StrategicReview:
    """The patient has now been properly involved (§2.4): the review completes on that date, and only then
    does the clock reset. The decisions held pending at it take effect on that date, in this transaction; when
    one is refused, so is the involvement, and nothing is saved (reviews/services/pending.py)."""
    review = (
        StrategicReview.objects.select_for_update()
        .select_related("episode__patient", "lead")
        .get(pk=review.pk)
    )
    if review.status != ReviewStatus.AWAITING_PATIENT:
        raise ValidationError("This review is not awaiting the patient's involvement.")
    prescribing.check_involvement_recorder(review, by)
    if involved_on > timezone.localdate():
        raise ValidationError({"involved_on": "This date is in the future."})
    if review.agreed_next_date and involved_on >= review.agreed_next_date:
        raise ValidationError(
            {
                "involved_on": f"The next review was agreed for {day(review.agreed_next_date)}, which is not after "
                "this date: hold that review with the patient instead."
            }
        )
    review.patient_involved_on = involved_on
    review.completed_on = involved_on
    review.status = ReviewStatus.COMPLETED
    try:
        review.full_clean()
    except ValidationError as error:
        raise ValidationError({"involved_on": error.messages}) from error
    review.save(update_fields=["patient_involved_on", "completed_on", "status", "updated_at"])
    pending.decisions_apply(review=review, on=involved_on, by=by)
    ReviewParticipant.objects.create(
        review=review, name=str(review.episode.patient), role=ParticipantRole.PATIENT
    )
    episode_schedule_refresh(review.episode)
    return review


def next_check_up_sequence(episode: TreatmentEpisode) -> int | None:
    """The next recovery check-up not yet held (§1.7). An attempt that could not reach the patient does not
    hold it: the same check-up stays owed (docs/design.md rule 7c)."""
    held = _held_sequences(episode)
    return next((o.sequence for o in policy().check_up_offsets if o.sequence not in held), None)


@dataclass(frozen=True)
class CheckUpStanding:
    """Where an ended episode's recovery check-ups stand (§1.7, docs/design.md rule 7c), for the pages."""

    owed: int | None  # the next check-up not yet held; None after the fourth
    attempts: tuple  # the attempts at that check-up that could not reach the patient, oldest first
    relapse: RecoveryCheckUp | None  # the latest held check-up, when it found early signs of relapse


def check_up_standing(check_ups: Iterable[RecoveryCheckUp]) -> CheckUpStanding:
    """From one episode's check-up rows (already read), as the adapter reads them: attempts hold nothing, and the
    latest held check-up (by date, then number) is the one whose early signs of relapse count."""
    rows = sorted(check_ups, key=lambda c: (c.held_on, c.sequence, c.pk or 0))
    held = [c for c in rows if not c.is_attempt]
    sequences = {c.sequence for c in held}
    owed = next((o.sequence for o in policy().check_up_offsets if o.sequence not in sequences), None)
    latest = held[-1] if held else None
    return CheckUpStanding(
        owed=owed,
        attempts=tuple(c for c in rows if c.is_attempt and c.sequence == owed),
        relapse=latest if latest and latest.outcome == CheckUpOutcome.RELAPSE_RISK else None,
    )


NEW_EPISODE = "new_episode_"  # the prefix of the new episode's fields in errors (and in the check-up form)


@transaction.atomic
def check_up_record(
    *,
    episode: TreatmentEpisode,
    held_on: date,
    outcome: str,
    by,
    notes: str = "",
    sequence: int | None = None,
    new_episode: dict | None = None,
) -> RecoveryCheckUp:
    """A recovery check-up after treatment (§1.7); by default the next one not yet held.

    "Could not be reached" is kept as an attempt at that check-up, which stays owed; several attempts may
    precede the check-up held (docs/design.md rule 7c). "Rapid access back into treatment arranged" opens the
    patient's new treatment episode in the same transaction (§1.7 "rapid access back into treatment"):
    `new_episode` holds what patients.services.episode_open asks (entry_date, by default the day of the
    check-up; primary_drug; other_substances, co_morbidities, lead_practitioner). If the new episode is refused,
    nothing is saved, the check-up neither. Opening it ends what this episode owes (episode_open refreshes it)."""
    episode = TreatmentEpisode.objects.select_for_update().select_related("patient").get(pk=episode.pk)
    if episode.exit_date is None:
        raise ValidationError(
            "Recovery check-ups follow the end of treatment: this episode is still open (§1.7)."
        )
    if held_on < episode.exit_date:
        raise ValidationError({"held_on": f"This is before treatment ended on {day(episode.exit_date)}."})
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": "This date is in the future."})
    returned = outcome == CheckUpOutcome.RETURNED_TO_TREATMENT
    if new_episode is not None and not returned:
        raise ValidationError(
            {
                "outcome": "A new treatment episode is opened only when rapid access back into treatment was arranged."
            }
        )
    if returned and new_episode is None and not _back_in_treatment(episode):
        raise ValidationError(
            {
                "outcome": "Rapid access back into treatment opens a new treatment episode: give its entry date "
                "and primary problem drug (§1.7)."
            }
        )
    if sequence is not None and sequence in _held_sequences(episode):
        raise ValidationError(f"Recovery check-up {sequence} has already been held.")
    sequence = sequence or next_check_up_sequence(episode)
    if sequence is None:
        raise ValidationError("All four recovery check-ups have been held.")
    check_up = RecoveryCheckUp(
        episode=episode, sequence=sequence, held_on=held_on, held_by=by, outcome=outcome, notes=notes.strip()
    )
    check_up.full_clean()
    check_up.save()
    episode_schedule_refresh(episode)
    if new_episode is not None:
        _episode_reopen(episode, held_on=held_on, by=by, **new_episode)
    return check_up


def _held_sequences(episode: TreatmentEpisode) -> set[int]:
    return set(
        RecoveryCheckUp.objects.filter(episode=episode)
        .exclude(outcome=CheckUpOutcome.NOT_REACHED)
        .values_list("sequence", flat=True)
    )


def _back_in_treatment(episode: TreatmentEpisode) -> bool:
    """Whether the patient already has a later episode, begun on or after this one ended (rule 7c)."""
    return (
        TreatmentEpisode.objects.filter(patient_id=episode.patient_id, entry_date__gte=episode.exit_date)
        .exclude(pk=episode.pk)
        .exists()
    )


def _episode_reopen(
    episode: TreatmentEpisode, *, held_on: date, by, entry_date: date | None = None, **details
):
    """The new episode after a check-up that arranged rapid access back into treatment, through the
    returning-patient flow (patients.services.episode_open); its errors are named as the check-up form's
    fields (NEW_EPISODE)."""
    entry_date = entry_date or held_on
    if entry_date < episode.exit_date:
        raise ValidationError(
            {
                f"{NEW_EPISODE}entry_date": "The new episode cannot begin before the last one ended, on "
                f"{day(episode.exit_date)}."
            }
        )
    try:
        return record.episode_open(patient=episode.patient, entry_date=entry_date, by=by, **details)
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError(
            {
                name if name == NON_FIELD_ERRORS else f"{NEW_EPISODE}{name}": messages
                for name, messages in error.message_dict.items()
            }
        ) from error
