"""Every core domain considered (§2.10-2.11): a review completes only with each of the four core domains assessed
or, left "not assessed", the reason it could not be. Tried through the service and through the page."""

import html
import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from reviews.models import ReviewParticipant, ReviewStatus
from reviews.services import strategic
from tests.reviews.test_review_views import page_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 4, 10)
DOMAINS = {
    "drug_alcohol": "Drug and alcohol use",
    "health": "Physical and psychological health",
    "offending": "Criminal involvement and offending",
    "social": "Social functioning",
}
NONE_ASSESSED = {f"{d}_progress": "not_assessed" for d in DOMAINS}


def message(domain: str) -> str:
    return (
        f"{DOMAINS[domain]} is not assessed: give its progress, or say here why it could not be assessed "
        "(§2.10-2.11)."
    )


@pytest.fixture
def draft(episode, sam):
    return strategic.review_start(episode=episode, lead=sam, by=sam)


def complete(review, by, assessments, **more):
    return strategic.review_complete(
        review=review,
        by=by,
        held_on=TODAY,
        patient_took_part=more.pop("patient_took_part", True),
        overview="Stepped back over the whole plan.",
        assessments=assessments,
        **more,
    )


@pytest.mark.parametrize("took_part", [True, False], ids=["with the patient", "awaiting the patient"])
def test_all_four_not_assessed_without_reasons_is_refused_with_a_message_per_domain(draft, sam, took_part):
    with pytest.raises(ValidationError) as error:
        complete(draft, sam, NONE_ASSESSED, patient_took_part=took_part)
    assert error.value.message_dict == {f"{d}_assessment": [message(d)] for d in DOMAINS}
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.DRAFT
    assert not ReviewParticipant.objects.filter(review=draft).exists()


def test_leaving_the_domains_out_altogether_is_the_same_as_not_assessed(draft, sam):
    with pytest.raises(ValidationError) as error:
        complete(draft, sam, {})
    assert sorted(error.value.message_dict) == sorted(f"{d}_assessment" for d in DOMAINS)


def test_only_the_domain_missing_both_is_named(draft, sam):
    assessments = {
        "drug_alcohol_progress": "improved",
        "health_progress": "deteriorated",
        "offending_progress": "no_change",
        "social_progress": "not_assessed",
        "social_assessment": "   ",  # blank is no reason
    }
    with pytest.raises(ValidationError) as error:
        complete(draft, sam, assessments)
    assert error.value.message_dict == {"social_assessment": [message("social")]}


def test_a_reason_for_each_domain_not_assessed_lets_the_review_complete(draft, sam):
    reasons = {f"{d}_assessment": f"Could not assess {d}: the patient left early." for d in DOMAINS}
    review = complete(draft, sam, {**NONE_ASSESSED, **reasons})
    assert review.status == ReviewStatus.COMPLETED
    review.refresh_from_db()
    assert review.social_progress == "not_assessed"
    assert review.social_assessment == "Could not assess social: the patient left early."


def test_the_page_refuses_four_not_assessed_with_each_message_beside_its_domain_and_listed_at_the_top(
    client, sam, draft
):
    client.force_login(sam)
    data = page_data(client.get(draft.get_absolute_url()))
    data.update(NONE_ASSESSED, patient_took_part="on", overview="Stepped back over the whole plan.")
    response = client.post(draft.get_absolute_url(), data)
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    summary = page.split('data-testid="form-errors"')[1].split("</div>")[0]
    for domain in DOMAINS:
        beside = re.search(rf'id="error_1_id_{domain}_assessment"[^>]*>\s*(?:<strong>)?(.*?)</', page, re.S)
        assert beside and beside.group(1).strip() == message(domain)
        assert (
            f'href="#id_{domain}_assessment">{DOMAINS[domain]}: assessment</a>: {message(domain)}' in summary
        )
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.DRAFT


def test_the_page_completes_once_each_domain_is_assessed_or_its_reason_given(client, sam, draft):
    client.force_login(sam)
    data = page_data(client.get(draft.get_absolute_url()))
    data.update(
        NONE_ASSESSED,
        drug_alcohol_progress="improved",
        health_assessment="Not assessed: waiting for the GP's letter.",
        offending_progress="no_change",
        social_assessment="Not assessed: the patient did not want to talk about home today.",
        patient_took_part="on",
        overview="Stepped back over the whole plan.",
    )
    assert client.post(draft.get_absolute_url(), data).status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.health_progress) == (ReviewStatus.COMPLETED, "not_assessed")
    assert draft.health_assessment == "Not assessed: waiting for the GP's letter."
