"""Decisions follow the patient (§2.4; docs/design.md, Prescribing decisions).

The dispensing and intervention changes decided at a strategic review take effect through the clinical record's own
services (patients.services: dispensing_change_record, intervention_end, intervention_record), so their checks run
whoever records them: OST and more take-home doses are a senior practitioner's (§2.5), and no take-home doses are
introduced or extended while a run of missed doses waits for the prescriber to be told (App. C 1).

With the patient taking part they take effect on the day of the review, as before. At a review held without the
patient they are tried on that day (in a savepoint that is rolled back, so that what would be refused is refused
now, beside its answer) and then held as PendingDecision rows: nothing of them reaches the record. They take effect
on the day the patient's involvement is recorded, in the same transaction, checked again on that day by the same
services for the person recording it; when one is refused the involvement is refused with the reason and nothing
is saved. A review discarded while it awaits the patient takes its pending decisions with it, never applied."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from patients import services as record
from patients.models import Intervention, TreatmentEpisode
from recovery_reviews.formatting import day
from reviews.models import PendingDecision, PendingDecisionKind, StrategicReview
from reviews.services.errors import errors_under

FIELDS = {  # where each kind's errors go on the review form
    PendingDecisionKind.DISPENSING: "dispensing",
    PendingDecisionKind.END_INTERVENTION: "end_interventions",
    PendingDecisionKind.START_INTERVENTION: "start_intervention",
}


def decisions_take(
    *,
    review: StrategicReview,
    by,
    held_on: date,
    took_part: bool,
    dispensing: dict | None,
    end_interventions: Iterable[Intervention],
    start_intervention: dict | None,
) -> list[PendingDecision]:
    """What a review decided about dispensing and interventions: applied on the review's day when the patient
    took part; otherwise tried, undone and held until their involvement is recorded (§2.4). Called inside the
    review's transaction (reviews.services.strategic.review_complete)."""
    episode = review.episode
    decisions = _decisions(review, by, dispensing, end_interventions, start_intervention)
    if took_part:
        for decision in decisions:
            _apply(decision, episode, on=held_on, by=by)
            decision.applied_on = held_on
        return decisions
    savepoint = transaction.savepoint()
    try:
        for decision in decisions:
            _apply(decision, episode, on=held_on, by=by)
    finally:
        transaction.savepoint_rollback(savepoint)
    PendingDecision.objects.bulk_create(decisions)
    return decisions


def decisions_apply(*, review: StrategicReview, on: date, by) -> list[PendingDecision]:
    """The review's pending decisions take effect on `on`, the day the patient's involvement is recorded (§2.4),
    through the record's services for `by`. Any one refused refuses them all, keyed under "involved_on" with the
    decision and the reason: the caller's transaction then saves nothing. Call inside that transaction."""
    pending = list(
        PendingDecision.objects.select_for_update(of=("self",))  # not the nullable intervention it joins
        .filter(review=review, applied_on__isnull=True)
        .select_related("intervention")
    )
    episode = TreatmentEpisode.objects.get(pk=review.episode_id)
    if pending and episode.exit_date is not None:
        raise ValidationError(
            {
                "involved_on": f"Treatment ended on {day(episode.exit_date)}, so the decisions pending at this "
                f"review ({'; '.join(map(str, pending))}) can no longer take effect: discard the review, or "
                "record the change on the record (§2.4)."
            }
        )
    for decision in pending:
        try:
            _apply(decision, episode, on=on, by=by)
        except ValidationError as error:
            raise ValidationError(
                {
                    "involved_on": f"The decision pending at this review, “{decision}”, cannot take effect on "
                    f"{day(on)}: {' '.join(error.messages)} The involvement is not recorded and nothing is saved."
                }
            ) from error
        decision.applied_on = on
        decision.save(update_fields=["applied_on"])
    return pending


def _decisions(review, by, dispensing, end_interventions, start_intervention) -> list[PendingDecision]:
    decisions = []
    if dispensing:
        decisions.append(_decision(review, by, PendingDecisionKind.DISPENSING, details=dict(dispensing)))
    for intervention in end_interventions:
        if intervention.episode_id != review.episode_id:
            raise ValidationError({"end_interventions": "That intervention belongs to another episode."})
        decisions.append(
            _decision(review, by, PendingDecisionKind.END_INTERVENTION, intervention=intervention)
        )
    if start_intervention:
        details = dict(start_intervention)
        if details.get("daily_dose_mg") is not None:
            details["daily_dose_mg"] = str(details["daily_dose_mg"])
        decisions.append(_decision(review, by, PendingDecisionKind.START_INTERVENTION, details=details))
    return decisions


def _decision(review, by, kind, *, details=None, intervention=None) -> PendingDecision:
    return PendingDecision(
        review=review, kind=kind, details=details or {}, intervention=intervention, decided_by=by
    )


def _apply(decision: PendingDecision, episode: TreatmentEpisode, *, on: date, by) -> None:
    """One decision through the record's own service, dated `on`; its errors keyed as the review form's."""
    details = dict(decision.details)
    with errors_under(FIELDS[decision.kind]):
        if decision.kind == PendingDecisionKind.DISPENSING:
            record.dispensing_change_record(episode=episode, effective_from=on, by=by, **details)
        elif decision.kind == PendingDecisionKind.END_INTERVENTION:
            record.intervention_end(intervention=decision.intervention, ended_on=on, by=by)
        else:
            if details.get("daily_dose_mg") is not None:
                details["daily_dose_mg"] = Decimal(details["daily_dose_mg"])
            record.intervention_record(episode=episode, started_on=on, by=by, **details)
