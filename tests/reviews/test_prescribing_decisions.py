"""A strategic review's prescribing decisions are a senior practitioner's (§2.5): its lead must be one when OST was
current at any time in the period it reviews (since the last completed review, or entry, through its date) or is
since; its date is never in the future, before entry or before the last completed review; and the patient's
involvement on such a review is recorded by a senior practitioner or its lead (§2.4). The routes round it that
were found are tried here as a determined keyworker would, through the services and through the pages."""

import html
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients import services as record
from reviews.models import ReviewStatus, StrategicReview
from reviews.services import strategic
from reviews.services.prescribing import COMPLETE_MUST_BE_SENIOR, LEAD_MUST_BE_SENIOR
from tests.support.factories import InterventionFactory, StrategicReviewFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 4, 10)
OST_FROM = date(2026, 2, 1)  # the episode fixture entered treatment on 15 Jan 2026
ALL_DOMAINS = {
    "drug_alcohol_progress": "improved",
    "health_progress": "maintained",
    "offending_progress": "no_change",
    "social_progress": "improved",
}


def complete(review, by, held_on=TODAY, **more):
    return strategic.review_complete(
        review=review,
        by=by,
        held_on=held_on,
        patient_took_part=more.pop("patient_took_part", True),
        overview="Stepped back over the whole plan.",
        assessments=ALL_DOMAINS,
        **more,
    )


def form_errors(page: str) -> str:
    return html.unescape(page.split('data-testid="form-errors"')[1].split("</div>")[0])


@pytest.fixture
def on_ost(episode):
    return InterventionFactory(episode=episode, started_on=OST_FROM)


# --- (a) end the OST first, then complete the review ----------------------------------------------------------


def test_route_a_through_the_services_the_keyworker_can_neither_end_ost_nor_lead_after_it_ends(
    episode, on_ost, alice, sam
):
    with pytest.raises(ValidationError, match="a senior practitioner records it"):
        record.intervention_end(intervention=on_ost, ended_on=date(2026, 4, 1), by=alice)
    record.intervention_end(intervention=on_ost, ended_on=date(2026, 4, 1), by=sam)  # ended properly
    with pytest.raises(ValidationError) as error:
        strategic.review_start(episode=episode, lead=alice, by=alice)
    assert error.value.message_dict == {"lead": [LEAD_MUST_BE_SENIOR]}
    review = strategic.review_start(episode=episode, lead=sam, by=sam)
    with pytest.raises(ValidationError) as error:
        complete(review, alice)
    assert error.value.messages == [COMPLETE_MUST_BE_SENIOR]
    assert StrategicReview.objects.get().status == ReviewStatus.DRAFT


def test_route_a_a_draft_the_keyworker_led_before_ost_cannot_be_completed_once_ost_ended(episode, alice, sam):
    draft = strategic.review_start(episode=episode, lead=alice, by=alice)
    ost = InterventionFactory(episode=episode, started_on=OST_FROM)
    record.intervention_end(intervention=ost, ended_on=date(2026, 4, 1), by=sam)
    with pytest.raises(ValidationError) as error:
        complete(draft, sam)
    assert error.value.message_dict == {"lead": [LEAD_MUST_BE_SENIOR]}


def test_route_a_through_the_pages(client, episode, on_ost, alice):
    client.force_login(alice)
    page = client.post(
        reverse("patients:intervention_end", args=[on_ost.pk]), {"ended_on": "2026-04-01"}
    ).content.decode()
    assert "a senior practitioner records it (§2.5)" in page
    on_ost.refresh_from_db()
    assert on_ost.ended_on is None
    on_ost.ended_on = date(2026, 4, 1)  # say a senior practitioner ended it after all
    on_ost.save()
    page = client.post(
        reverse("reviews:review_new", args=[episode.pk]), {"lead": alice.pk, "held_on": "2026-04-10"}
    ).content.decode()
    assert LEAD_MUST_BE_SENIOR in page
    assert 'href="#id_lead"' in form_errors(page)
    assert not StrategicReview.objects.exists()


def test_route_a_completing_on_the_page_as_a_keyworker_is_refused_with_who_can(
    client, episode, on_ost, alice, sam
):
    review = strategic.review_start(episode=episode, lead=sam, by=sam)
    on_ost.ended_on = date(2026, 4, 1)
    on_ost.save()
    client.force_login(alice)
    page = client.post(
        review.get_absolute_url(),
        {
            "held_on": "2026-04-10",
            "patient_took_part": "on",
            "overview": "Stepped back.",
            **ALL_DOMAINS,
            "participants-TOTAL_FORMS": "0",
            "participants-INITIAL_FORMS": "0",
            "needs-TOTAL_FORMS": "0",
            "needs-INITIAL_FORMS": "0",
        },
    ).content.decode()
    assert COMPLETE_MUST_BE_SENIOR in form_errors(page)
    review.refresh_from_db()
    assert review.status == ReviewStatus.DRAFT


# --- (b) a review dated before the OST began -------------------------------------------------------------------


def test_route_b_through_the_services_a_review_dated_before_ost_began_is_still_a_prescribing_review(
    episode, on_ost, alice
):
    with pytest.raises(ValidationError) as error:
        strategic.review_start(episode=episode, lead=alice, by=alice, held_on=date(2026, 1, 20))
    assert error.value.message_dict == {"lead": [LEAD_MUST_BE_SENIOR]}
    draft = StrategicReviewFactory(  # a draft that got in some other way, led by the keyworker
        episode=episode, lead=alice, held_on=date(2026, 1, 20), status=ReviewStatus.DRAFT
    )
    with pytest.raises(ValidationError) as error:
        complete(draft, alice, held_on=date(2026, 1, 20))
    assert error.value.message_dict == {"lead": [LEAD_MUST_BE_SENIOR]}
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.DRAFT


def test_route_b_through_the_page(client, episode, on_ost, alice):
    client.force_login(alice)
    page = client.post(
        reverse("reviews:review_new", args=[episode.pk]), {"lead": alice.pk, "held_on": "2026-01-20"}
    ).content.decode()
    assert LEAD_MUST_BE_SENIOR in page
    assert not StrategicReview.objects.exists()


@pytest.mark.parametrize(
    ("held_on", "said"),
    [
        (date(2026, 4, 11), "this date is in the future"),
        (date(2026, 1, 14), "before the episode began on 15 Jan 2026"),
        (date(2026, 2, 27), "before the last completed review, which completed on 1 Mar 2026"),
    ],
)
def test_a_reviews_date_is_not_in_the_future_nor_before_entry_or_the_last_completed_review(
    episode, sam, held_on, said
):
    StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=date(2026, 2, 25),
        status=ReviewStatus.COMPLETED,
        patient_took_part=False,
        patient_involved_on=date(2026, 3, 1),
        completed_on=date(2026, 3, 1),
    )
    draft = StrategicReviewFactory(episode=episode, lead=sam, held_on=date(2026, 4, 1))
    with pytest.raises(ValidationError) as error:
        complete(draft, sam, held_on=held_on)
    assert said in error.value.message_dict["held_on"][0]
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.DRAFT


def test_starting_a_review_before_the_last_completed_one_is_refused(episode, sam):
    StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=date(2026, 3, 1),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=date(2026, 3, 1),
    )
    with pytest.raises(ValidationError, match="before the last completed review"):
        strategic.review_start(episode=episode, lead=sam, by=sam, held_on=date(2026, 2, 20))
    assert StrategicReview.objects.count() == 1


def test_ost_that_ended_before_the_last_completed_review_leaves_the_next_to_a_keyworker(episode, alice, sam):
    """The rule is not wider than the period: a review after OST ended and a review completed since is the
    keyworker's to lead."""
    InterventionFactory(episode=episode, started_on=OST_FROM, ended_on=date(2026, 2, 20))
    StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=date(2026, 2, 21),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=date(2026, 2, 21),
    )
    review = strategic.review_start(episode=episode, lead=alice, by=alice)
    assert complete(review, alice).status == ReviewStatus.COMPLETED


# --- (c) the patient's involvement on a prescribing review -----------------------------------------------------


@pytest.fixture
def awaiting(episode, on_ost, sam):
    # On OST since entry with no appointment attended, and OST started within 3 months: high risk (§2.2), so the
    # prescriber takes part (docs/design.md, Risk level and disengagement).
    prescriber = {"name": "Dr Prescriber", "role": "doctor"}
    return complete(
        strategic.review_start(episode=episode, lead=sam, by=sam),
        sam,
        patient_took_part=False,
        participants=[prescriber],
    )


@pytest.mark.parametrize("who", ["alice", "mona"])
def test_route_c_through_the_service_only_a_senior_practitioner_or_the_lead_records_involvement(
    request, awaiting, who
):
    with pytest.raises(ValidationError) as error:
        strategic.review_record_patient_involvement(
            review=awaiting, involved_on=TODAY, by=request.getfixturevalue(who)
        )
    assert "a senior practitioner, or the review's lead (Sam Senior), records" in error.value.messages[0]
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.completed_on) == (ReviewStatus.AWAITING_PATIENT, None)


def test_route_c_another_senior_practitioner_of_the_team_may_record_it(awaiting, team):
    other = UserFactory(username="sue", role="senior_practitioner", team=team)
    done = strategic.review_record_patient_involvement(review=awaiting, involved_on=TODAY, by=other)
    assert (done.status, done.completed_on) == (ReviewStatus.COMPLETED, TODAY)


def test_route_c_through_the_page(client, awaiting, alice, sam):
    client.force_login(alice)
    url = reverse("reviews:review_involvement", args=[awaiting.pk])
    page = client.post(url, {"involved_on": "2026-04-10"}).content.decode()
    assert "a senior practitioner, or the review's lead (Sam Senior), records" in form_errors(page)
    awaiting.refresh_from_db()
    assert awaiting.status == ReviewStatus.AWAITING_PATIENT
    client.force_login(sam)
    assert client.post(url, {"involved_on": "2026-04-10"}).status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.status == ReviewStatus.COMPLETED


def test_a_review_without_prescribing_still_takes_involvement_from_any_clinician_of_the_team(
    episode, alice, team
):
    review = complete(
        strategic.review_start(episode=episode, lead=alice, by=alice), alice, patient_took_part=False
    )
    other = UserFactory(username="kim", role="keyworker", team=team)
    done = strategic.review_record_patient_involvement(review=review, involved_on=TODAY, by=other)
    assert done.status == ReviewStatus.COMPLETED


def test_the_keyworker_who_led_a_review_before_prescribing_began_may_record_its_involvement(episode, alice):
    """ "Or that review's lead" (§2.5): a review led by a keyworker before OST began still completes with them."""
    review = complete(
        strategic.review_start(episode=episode, lead=alice, by=alice), alice, patient_took_part=False
    )
    InterventionFactory(episode=episode, started_on=TODAY)
    done = strategic.review_record_patient_involvement(review=review, involved_on=TODAY, by=alice)
    assert done.status == ReviewStatus.COMPLETED
