"""Decisions follow the patient (§2.4): dispensing and intervention changes decided at a review held without the
patient are held as pending, shown as such, and take effect on the day the involvement is recorded, through the
record's own services; one that can no longer be made refuses the involvement and nothing is saved; a review
discarded leaves them unapplied. Tried as the attacker would, through the services and through the pages: ending
OST at a review awaiting the patient took effect at once."""

import html
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients import services as record
from patients.models import (
    DispensingArrangement,
    DispensingChange,
    ExitReason,
    Intervention,
    InterventionKind,
    Medicine,
    PharmacyReport,
    TreatmentEpisode,
)
from reviews.models import PendingDecision, PendingDecisionKind, ReviewStatus
from reviews.services import strategic
from tests.reviews.test_review_views import ASSESSED, page_data
from tests.support.factories import DispensingArrangementFactory, InterventionFactory, PharmacyReportFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 4, 10)
HELD = date(2026, 4, 1)  # the review without the patient; their involvement is recorded TODAY
WITHOUT = {
    "held_on": HELD,
    "patient_took_part": False,
    "overview": "Held with the prescriber; the patient did not come.",
    "assessments": ASSESSED,
    # the dispensing pharmacist took part: a multidisciplinary review, whatever the patient's risk (§2.2, §2.6)
    "participants": [{"name": "Priya Shah", "role": "pharmacist"}],
}
SUPERVISED = {
    "take_home_doses_per_week": 0,
    "change_reason": DispensingChange.REINSTATE_SUPERVISION,
    "reason_note": "Missed doses: back to supervised consumption.",
}


@pytest.fixture
def on_ost(episode, sam):
    DispensingArrangementFactory(
        episode=episode, take_home_doses_per_week=2, change_reason=DispensingChange.INTRODUCE_TAKE_HOME
    )
    return InterventionFactory(episode=episode, started_on=date(2026, 2, 1))


def awaiting(episode, sam, **decisions):
    draft = strategic.review_start(episode=episode, lead=sam, by=sam, held_on=HELD)
    return strategic.review_complete(review=draft, by=sam, **WITHOUT, **decisions)


def arrangements(episode) -> list[int]:
    return list(
        DispensingArrangement.objects.filter(episode=episode)
        .order_by("effective_from", "recorded_at")
        .values_list("take_home_doses_per_week", flat=True)
    )


# --- the exact route: ending OST at a review awaiting the patient took effect at once ---------------------------


def test_ending_ost_at_a_review_awaiting_the_patient_does_not_take_effect(episode, on_ost, sam):
    review = awaiting(episode, sam, end_interventions=[on_ost])
    on_ost.refresh_from_db()
    assert review.status == ReviewStatus.AWAITING_PATIENT
    assert on_ost.ended_on is None  # OST goes on until the patient has been involved
    decision = PendingDecision.objects.get(review=review)
    assert (decision.kind, decision.intervention, decision.applied_on, decision.decided_by) == (
        PendingDecisionKind.END_INTERVENTION,
        on_ost,
        None,
        sam,
    )
    assert str(decision) == "End Methadone (oral) 60 mg daily"
    episode.refresh_from_db()
    assert not any("ended" in reason for reason in episode.next_review_reasons)  # no transition from an end


def test_dispensing_and_a_new_intervention_at_a_review_awaiting_the_patient_are_held_too(
    episode, on_ost, sam
):
    review = awaiting(
        episode,
        sam,
        dispensing=SUPERVISED,
        start_intervention={
            "kind": InterventionKind.OST,
            "medicine": Medicine.BUPRENORPHINE,
            "daily_dose_mg": "8",
            "note": "",
        },
    )
    assert arrangements(episode) == [2]
    assert list(Intervention.objects.filter(episode=episode)) == [on_ost]
    assert [str(d) for d in review.pending_decisions.all()] == [
        "Dispensing: every dose supervised (Missed doses: back to supervised consumption)",
        "Start opioid substitution treatment (Buprenorphine (sublingual) 8 mg daily)",
    ]


def test_the_involvement_makes_them_take_effect_on_its_day(episode, on_ost, sam):
    review = awaiting(episode, sam, dispensing=SUPERVISED, end_interventions=[on_ost])
    strategic.review_record_patient_involvement(review=review, involved_on=TODAY, by=sam)
    on_ost.refresh_from_db()
    assert on_ost.ended_on == TODAY
    latest = DispensingArrangement.objects.filter(episode=episode).latest("effective_from")
    assert (latest.take_home_doses_per_week, latest.effective_from, latest.recorded_by) == (0, TODAY, sam)
    assert set(review.pending_decisions.values_list("applied_on", flat=True)) == {TODAY}
    review.refresh_from_db()
    assert (review.status, review.completed_on) == (ReviewStatus.COMPLETED, TODAY)


def test_with_the_patient_taking_part_the_changes_take_effect_on_the_day_of_the_review(episode, on_ost, sam):
    draft = strategic.review_start(episode=episode, lead=sam, by=sam, held_on=HELD)
    strategic.review_complete(
        review=draft, by=sam, **{**WITHOUT, "patient_took_part": True}, end_interventions=[on_ost]
    )
    on_ost.refresh_from_db()
    assert on_ost.ended_on == HELD
    assert not PendingDecision.objects.exists()
    episode.refresh_from_db()
    assert any("ended" in reason for reason in episode.next_review_reasons)  # the transition it is


def test_a_decision_that_can_no_longer_be_made_refuses_the_involvement_and_nothing_is_saved(
    episode, on_ost, sam
):
    review = awaiting(episode, sam, dispensing=SUPERVISED, end_interventions=[on_ost])
    record.intervention_end(intervention=on_ost, ended_on=date(2026, 4, 5), by=sam)  # ended meanwhile
    with pytest.raises(ValidationError) as error:
        strategic.review_record_patient_involvement(review=review, involved_on=TODAY, by=sam)
    message = error.value.message_dict["involved_on"][0]
    assert message.startswith(
        "The decision pending at this review, “End Methadone (oral) 60 mg daily”, cannot take effect"
    )
    assert "This intervention already ended on 5 Apr 2026." in message
    assert "The involvement is not recorded and nothing is saved." in message
    review.refresh_from_db()
    assert (review.status, review.patient_involved_on) == (ReviewStatus.AWAITING_PATIENT, None)
    assert arrangements(episode) == [2]  # the dispensing decision, applied first, was undone with the rest
    assert not review.pending_decisions.filter(applied_on__isnull=False).exists()
    assert not review.participants.filter(role="patient").exists()


def test_more_take_home_doses_are_checked_again_on_the_day_of_the_involvement(episode, on_ost, sam):
    review = awaiting(
        episode,
        sam,
        dispensing={
            "take_home_doses_per_week": 4,
            "change_reason": DispensingChange.EXTEND_TAKE_HOME,
            "reason_note": "Stable for months.",
        },
    )
    PharmacyReportFactory(episode=episode, period_start=date(2026, 4, 2), period_end=date(2026, 4, 8))
    PharmacyReport.objects.filter(episode=episode).update(safety_run=3, safety_run_from=date(2026, 4, 3))
    with pytest.raises(ValidationError) as error:
        strategic.review_record_patient_involvement(review=review, involved_on=TODAY, by=sam)
    message = error.value.message_dict["involved_on"][0]
    assert (
        "3 doses in a row were missed from 3 Apr 2026 and the prescriber is not yet recorded as told"
        in message
    )
    assert arrangements(episode) == [2]
    assert review.pending_decisions.get().applied_on is None


def test_what_would_be_refused_at_once_is_refused_at_the_review_and_nothing_is_held(
    episode, on_ost, sam, alice
):
    PharmacyReportFactory(episode=episode, period_start=date(2026, 3, 20), period_end=date(2026, 3, 30))
    PharmacyReport.objects.filter(episode=episode).update(safety_run=3, safety_run_from=date(2026, 3, 25))
    draft = strategic.review_start(episode=episode, lead=sam, by=sam, held_on=HELD)
    with pytest.raises(ValidationError) as error:
        strategic.review_complete(
            review=draft,
            by=sam,
            **WITHOUT,
            dispensing={
                "take_home_doses_per_week": 4,
                "change_reason": DispensingChange.EXTEND_TAKE_HOME,
                "reason_note": "Stable.",
            },
        )
    assert "dispensing__take_home_doses_per_week" in error.value.message_dict
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.DRAFT
    assert not PendingDecision.objects.exists()


def test_once_treatment_has_ended_pending_decisions_refuse_the_involvement(episode, on_ost, sam):
    review = awaiting(episode, sam, dispensing=SUPERVISED)
    TreatmentEpisode.objects.filter(pk=episode.pk).update(  # say the patient transferred out meanwhile
        exit_date=date(2026, 4, 8), exit_reason=ExitReason.TRANSFERRED
    )
    with pytest.raises(ValidationError) as error:
        strategic.review_record_patient_involvement(review=review, involved_on=TODAY, by=sam)
    message = error.value.message_dict["involved_on"][0]
    assert message.startswith(
        "Treatment ended on 8 Apr 2026, so the decisions pending at this review (Dispensing:"
    )
    assert "can no longer take effect: discard the review" in message
    assert arrangements(episode) == [2]
    review.refresh_from_db()
    assert review.status == ReviewStatus.AWAITING_PATIENT


def test_the_involvement_is_recorded_by_whom_the_decisions_allow(episode, on_ost, sam, alice):
    """A keyworker cannot make the pending end of OST take effect by recording the involvement (§2.5)."""
    review = awaiting(episode, sam, end_interventions=[on_ost])
    with pytest.raises(ValidationError):
        strategic.review_record_patient_involvement(review=review, involved_on=TODAY, by=alice)
    on_ost.refresh_from_db()
    assert on_ost.ended_on is None


def test_a_review_discarded_while_awaiting_the_patient_leaves_its_decisions_unapplied(episode, on_ost, sam):
    review = awaiting(episode, sam, dispensing=SUPERVISED, end_interventions=[on_ost])
    unapplied = strategic.review_discard(review=review, by=sam)
    assert unapplied == [
        "Dispensing: every dose supervised (Missed doses: back to supervised consumption)",
        "End Methadone (oral) 60 mg daily",
    ]
    on_ost.refresh_from_db()
    assert on_ost.ended_on is None
    assert arrangements(episode) == [2]
    assert not PendingDecision.objects.exists()


# --- through the pages -------------------------------------------------------------------------------------------


SHOWN_PENDING = 'End Methadone (oral) 60 mg daily <span class="badge status-awaiting_patient">pending the patient\'s involvement'


def completion_post(client, draft, **fields):
    data = page_data(client.get(draft.get_absolute_url()))
    data.pop("patient_took_part", None)
    data.update(overview="Held with the prescriber; the patient did not come.", **fields)
    row = next(i for i in range(20) if f"participants-{i}-name" not in data)  # the first empty row
    data.update({f"participants-{row}-name": "Priya Shah", f"participants-{row}-role": "pharmacist"})
    return client.post(draft.get_absolute_url(), data, follow=True)


def test_the_exact_route_through_the_pages_ending_ost_is_pending_and_shown_as_such(
    client, episode, on_ost, sam
):
    client.force_login(sam)
    draft = strategic.review_start(episode=episode, lead=sam, by=sam, held_on=HELD)
    page = html.unescape(completion_post(client, draft, end_interventions=[str(on_ost.pk)]).content.decode())
    assert "Its dispensing and intervention changes are pending the patient's involvement" in page
    on_ost.refresh_from_db()
    assert on_ost.ended_on is None
    record_page = html.unescape(
        client.get(reverse("patients:detail", args=[episode.patient_id])).content.decode()
    )
    pending = record_page.split('data-testid="pending-decisions"')[1][:900]
    assert SHOWN_PENDING in pending
    review_page = html.unescape(client.get(draft.get_absolute_url()).content.decode())
    pending = review_page.split('data-testid="pending-decisions"')[1][:900]
    assert SHOWN_PENDING in pending


def test_recording_the_involvement_on_the_page_makes_them_take_effect(client, episode, on_ost, sam):
    review = awaiting(episode, sam, end_interventions=[on_ost])
    client.force_login(sam)
    url = reverse("reviews:review_involvement", args=[review.pk])
    assert "End Methadone (oral) 60 mg daily" in html.unescape(client.get(url).content.decode())
    page = html.unescape(client.post(url, {"involved_on": "2026-04-10"}, follow=True).content.decode())
    assert "Taking effect from 10 Apr 2026: End Methadone (oral) 60 mg daily." in page
    on_ost.refresh_from_db()
    assert on_ost.ended_on == TODAY
    review_page = html.unescape(client.get(review.get_absolute_url()).content.decode())
    assert (
        'End Methadone (oral) 60 mg daily <span class="text-success-emphasis">took effect 10 Apr 2026'
        in review_page
    )


def test_the_page_refuses_the_involvement_beside_its_date_with_the_reason(client, episode, on_ost, sam):
    review = awaiting(episode, sam, end_interventions=[on_ost])
    record.intervention_end(intervention=on_ost, ended_on=date(2026, 4, 5), by=sam)
    client.force_login(sam)
    url = reverse("reviews:review_involvement", args=[review.pk])
    page = html.unescape(client.post(url, {"involved_on": "2026-04-10"}).content.decode())
    assert (
        "This intervention already ended on 5 Apr 2026." in page.split('id="error_1_id_involved_on"')[1][:600]
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.AWAITING_PATIENT


def test_discarding_on_the_page_says_the_decisions_were_not_applied(client, episode, on_ost, sam):
    review = awaiting(episode, sam, end_interventions=[on_ost])
    client.force_login(sam)
    assert (
        reverse("reviews:review_discard", args=[review.pk])
        in client.get(review.get_absolute_url()).content.decode()
    )
    page = html.unescape(
        client.post(reverse("reviews:review_discard", args=[review.pk]), follow=True).content.decode()
    )
    assert (
        "Its pending decisions were not applied and never will be: End Methadone (oral) 60 mg daily." in page
    )
    on_ost.refresh_from_db()
    assert on_ost.ended_on is None
