"""The strategic review services: started as a draft, completed in one transaction with everything decided at
it, complete only with the patient (§2.4), led by a senior practitioner where treatment includes prescribing
(§2.5); recovery check-ups after treatment (§1.7)."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from patients.models import DispensingArrangement, Intervention, TreatmentEpisode
from reviews.models import (
    RecoveryCheckUp,
    ReviewFinding,
    ReviewParticipant,
    ReviewResponse,
    ReviewStatus,
    StrategicReview,
    UnmetNeed,
)
from reviews.services import strategic
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import (
    DispensingArrangementFactory,
    InterventionFactory,
    StrategicReviewFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
HELD = date(2026, 4, 10)
FROZEN_AT = HELD


def schedule(episode):
    stored = TreatmentEpisode.objects.get(pk=episode.pk)
    return stored.next_review_target, stored.next_review_deadline


def complete(review, by, **overrides):
    arguments = {
        "review": review,
        "by": by,
        "held_on": HELD,
        "patient_took_part": True,
        "overview": "Stepped back over the whole plan.",
        "assessments": {
            "drug_alcohol_progress": "improved",
            "health_progress": "maintained",
            "offending_assessment": "Not discussed: the patient had to leave for work.",
            "social_progress": "no_change",
        },
    }
    return strategic.review_complete(**{**arguments, **overrides})


# --- Starting -------------------------------------------------------------------------------------------------


def test_starting_a_review_makes_a_draft_and_starting_again_returns_it(episode, sam):
    review = strategic.review_start(episode=episode, lead=sam, by=sam)
    assert (review.status, review.held_on, review.lead) == (ReviewStatus.DRAFT, HELD, sam)
    assert strategic.review_start(episode=episode, lead=sam, by=sam) == review


def test_a_keyworker_cannot_lead_where_treatment_includes_prescribing(episode, alice):
    InterventionFactory(episode=episode)
    with pytest.raises(ValidationError) as error:
        strategic.review_start(episode=episode, lead=alice, by=alice)
    assert error.value.message_dict == {
        "lead": ["Treatment includes prescribing, so a senior practitioner must lead this review (§2.5)."]
    }
    assert not StrategicReview.objects.exists()


def test_a_keyworker_can_lead_where_treatment_does_not_include_prescribing(episode, alice, sam):
    InterventionFactory(episode=episode, kind="psychosocial", medicine="", daily_dose_mg=None)
    InterventionFactory(episode=episode, ended_on=date(2026, 3, 1))  # OST that has ended
    # ... before the last completed review, so not in the period this one reviews (§2.5)
    StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=date(2026, 3, 5),
        status=ReviewStatus.COMPLETED,
        completed_on=date(2026, 3, 5),
        patient_took_part=True,
    )
    assert strategic.review_start(episode=episode, lead=alice, by=alice).lead == alice


@pytest.mark.parametrize("who", ["mona", "olga"])
def test_the_lead_is_a_clinician_of_the_patients_team(request, episode, sam, who):
    with pytest.raises(ValidationError, match="lead"):
        strategic.review_start(episode=episode, lead=request.getfixturevalue(who), by=sam)


def test_an_ended_episode_gets_check_ups_not_reviews(episode, sam):
    episode.exit_date, episode.exit_reason = date(2026, 4, 1), "dropped_out"
    episode.save()
    with pytest.raises(ValidationError, match="record a recovery check-up instead"):
        strategic.review_start(episode=episode, lead=sam, by=sam)


# --- Completing -------------------------------------------------------------------------------------------------


def test_a_review_with_the_patient_completes_and_resets_the_clock(episode, sam):
    episode_schedule_refresh(episode)
    review = complete(strategic.review_start(episode=episode, lead=sam, by=sam), sam)
    assert (review.status, review.completed_on) == (ReviewStatus.COMPLETED, HELD)
    assert (review.drug_alcohol_progress, review.offending_progress) == ("improved", "not_assessed")
    assert schedule(episode) == (date(2026, 10, 10), date(2026, 10, 10))


def test_a_review_without_the_patient_awaits_them_and_the_clock_does_not_move(episode, sam):
    episode_schedule_refresh(episode)
    review = complete(strategic.review_start(episode=episode, lead=sam, by=sam), sam, patient_took_part=False)
    assert (review.status, review.completed_on) == (ReviewStatus.AWAITING_PATIENT, None)
    assert schedule(episode) == (date(2026, 4, 15), date(2026, 7, 15))
    with time_machine.travel(date(2026, 4, 20), tick=False):
        strategic.review_record_patient_involvement(review=review, involved_on=date(2026, 4, 20), by=sam)
    review.refresh_from_db()
    assert (review.status, review.completed_on, review.patient_involved_on) == (
        ReviewStatus.COMPLETED,
        date(2026, 4, 20),
        date(2026, 4, 20),
    )
    assert schedule(episode) == (date(2026, 10, 20), date(2026, 10, 20))
    assert ReviewParticipant.objects.filter(review=review, role="patient").count() == 1


def test_involvement_on_or_after_the_agreed_next_date_is_refused(episode, sam):
    review = complete(
        strategic.review_start(episode=episode, lead=sam, by=sam),
        sam,
        patient_took_part=False,
        agreed_next_date=date(2026, 5, 1),
    )
    with time_machine.travel(date(2026, 5, 2), tick=False), pytest.raises(ValidationError) as error:
        strategic.review_record_patient_involvement(review=review, involved_on=date(2026, 5, 1), by=sam)
    assert "agreed for 1 May 2026" in error.value.message_dict["involved_on"][0]


def test_only_a_senior_practitioner_completes_where_treatment_includes_prescribing(episode, sam, alice):
    review = strategic.review_start(episode=episode, lead=sam, by=sam)
    InterventionFactory(episode=episode)
    with pytest.raises(
        ValidationError, match=r"only a senior practitioner can complete this review \(§2.5\)"
    ):
        complete(review, alice)
    review.refresh_from_db()
    assert review.status == ReviewStatus.DRAFT


def test_a_review_led_by_a_keyworker_cannot_complete_once_prescribing_has_started(episode, alice, sam):
    review = strategic.review_start(episode=episode, lead=alice, by=alice)
    InterventionFactory(episode=episode)
    with pytest.raises(ValidationError, match="a senior practitioner must lead this review"):
        complete(review, sam)


def test_everything_decided_at_the_review_is_recorded_together(episode, sam, alice):
    methadone = InterventionFactory(episode=episode, daily_dose_mg=Decimal("60"))
    DispensingArrangementFactory(
        episode=episode, take_home_doses_per_week=3, change_reason="introduce_take_home"
    )
    review = complete(
        strategic.review_start(episode=episode, lead=sam, by=sam),
        sam,
        participants=[
            {"name": str(alice), "role": "keyworker", "staff": alice},
            {"name": "Jo Pharmacist", "role": "pharmacist"},
        ],
        self_report="Using twice a week again.",
        family_comments="Mother worried.",
        findings=["deteriorating_adherence", {"code": "other", "note": "New partner using"}],
        responses=["reinstate_supervision", "earlier_re_review"],
        dispensing={"take_home_doses_per_week": 0, "change_reason": "", "reason_note": "Missed doses."},
        end_interventions=[methadone],
        start_intervention={"kind": "ost", "medicine": "methadone", "daily_dose_mg": Decimal("70")},
        unmet_needs=[{"category": "setting", "kind": "residential_rehab", "description": "No funded place."}],
    )
    assert sorted(review.participants.values_list("role", flat=True)) == [
        "keyworker",
        "patient",
        "pharmacist",
        "senior_practitioner",
    ]
    assert ReviewParticipant.objects.get(review=review, role="senior_practitioner").staff == sam
    assert sorted(review.findings.values_list("code", flat=True)) == ["deteriorating_adherence", "other"]
    linked = dict(review.responses.values_list("code", "finding__code"))
    assert linked == {
        "reinstate_supervision": "deteriorating_adherence",
        "earlier_re_review": "deteriorating_adherence",
    }
    latest = DispensingArrangement.objects.latest()
    assert (latest.effective_from, latest.take_home_doses_per_week, latest.change_reason) == (
        HELD,
        0,
        "reinstate_supervision",  # the reason the chosen response names (App. C 1)
    )
    methadone.refresh_from_db()
    assert methadone.ended_on == HELD
    assert Intervention.objects.get(ended_on__isnull=True).daily_dose_mg == Decimal("70")
    need = UnmetNeed.objects.get()
    assert (need.review, need.recorded_on, need.recorded_by) == (review, HELD, sam)
    # the finding of deteriorating adherence calls a re-review within 28 days (App. C 1)
    assert schedule(episode) == (date(2026, 5, 8), date(2026, 5, 8))


def test_a_failure_anywhere_leaves_nothing_behind(episode, sam):
    review = strategic.review_start(episode=episode, lead=sam, by=sam)
    with pytest.raises(ValidationError) as error:
        complete(
            review,
            sam,
            findings=["good_progress"],
            responses=["step_up_recovery_support"],
            unmet_needs=[{"category": "setting", "kind": "residential_rehab", "description": "No place."}],
            start_intervention={"kind": "ost", "medicine": "methadone", "daily_dose_mg": Decimal("900")},
        )
    assert "start_intervention__daily_dose_mg" in error.value.message_dict
    review.refresh_from_db()
    assert review.status == ReviewStatus.DRAFT
    assert not ReviewFinding.objects.exists() and not ReviewResponse.objects.exists()
    assert not UnmetNeed.objects.exists() and not ReviewParticipant.objects.exists()
    assert not Intervention.objects.exists()


@pytest.mark.parametrize(
    ("take_home_now", "arguments", "field", "message"),
    [
        (3, {"responses": ["reinstate_supervision"]}, "dispensing", "record the change to 0 take-home doses"),
        (0, {"responses": ["introduce_take_home"]}, "dispensing", "more than the 0 now"),
        (
            2,
            {
                "responses": ["extend_take_home"],
                "dispensing": {"take_home_doses_per_week": 2, "reason_note": "Same."},
            },
            "dispensing",
            "more than the 2 now",
        ),
        (0, {"responses": ["earlier_re_review"]}, "agreed_next_date", "agree its date with the patient"),
        (0, {"agreed_next_date": date(2027, 5, 1)}, "agreed_next_date", "More than 12 months"),
        (0, {"findings": [{"code": "other", "note": ""}]}, "findings", "Describe the other finding."),
        (
            0,
            {"participants": [{"name": "Pat", "role": "patient"}], "patient_took_part": False},
            "participants",
            "tick",
        ),
        (0, {"held_on": date(2026, 4, 11)}, "held_on", "in the future"),
        (0, {"agreed_next_date": date(2026, 4, 10)}, "agreed_next_date", "must be after this review"),
    ],
)
def test_decisions_that_contradict_each_other_are_refused_by_name(
    episode, sam, take_home_now, arguments, field, message
):
    if take_home_now:
        DispensingArrangementFactory(
            episode=episode, take_home_doses_per_week=take_home_now, change_reason="extend_take_home"
        )
    review = strategic.review_start(episode=episode, lead=sam, by=sam)
    with pytest.raises(ValidationError) as error:
        complete(review, sam, **arguments)
    assert message in " ".join(error.value.message_dict[field])


def test_reinstating_supervision_needs_no_change_when_every_dose_is_supervised(episode, sam):
    DispensingArrangementFactory(episode=episode, take_home_doses_per_week=0)
    review = complete(
        strategic.review_start(episode=episode, lead=sam, by=sam), sam, responses=["reinstate_supervision"]
    )
    assert review.status == ReviewStatus.COMPLETED
    assert DispensingArrangement.objects.count() == 1


def test_a_completed_review_cannot_be_completed_again(episode, sam):
    review = complete(strategic.review_start(episode=episode, lead=sam, by=sam), sam)
    with pytest.raises(ValidationError, match="already completed"):
        complete(review, sam)


def test_a_justified_longer_interval_agreed_with_the_patient_stands(episode, sam):
    complete(
        strategic.review_start(episode=episode, lead=sam, by=sam),
        sam,
        agreed_next_date=date(2027, 1, 10),
        clear_continuing_benefit=True,
        no_significant_change_envisaged=True,
        patient_agrees_interval=True,
    )
    assert schedule(episode) == (date(2027, 1, 10), date(2027, 1, 10))


# --- Recovery check-ups ------------------------------------------------------------------------------------------


def test_check_ups_follow_the_end_of_treatment_in_order(episode, alice):
    with pytest.raises(ValidationError, match="still open"):
        strategic.check_up_record(episode=episode, held_on=HELD, outcome="stable", by=alice)
    episode.exit_date, episode.exit_reason = date(2026, 3, 20), "completed_drug_free"
    episode.save()
    episode_schedule_refresh(episode)
    with pytest.raises(ValidationError) as error:
        strategic.check_up_record(episode=episode, held_on=date(2026, 3, 1), outcome="stable", by=alice)
    assert "before treatment ended on 20 Mar 2026" in error.value.message_dict["held_on"][0]
    first = strategic.check_up_record(episode=episode, held_on=date(2026, 4, 3), outcome="stable", by=alice)
    assert first.sequence == 1
    assert schedule(episode) == (date(2026, 6, 20), date(2026, 7, 4))  # the 3-month check-up (§1.7)
    assert RecoveryCheckUp.objects.count() == 1
