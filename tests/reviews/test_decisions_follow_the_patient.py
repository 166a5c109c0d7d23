"""Decisions follow the patient (§1.5, §2.4): the patient's agreement to an interval longer than six months is
recorded only at a review they took part in. Tried through the service and through the page."""

import html
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from reviews.models import ReviewStatus
from reviews.services import strategic
from tests.reviews.test_review_views import ASSESSED, page_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 4, 10)
LONGER = {
    "agreed_next_date": date(2027, 1, 10),
    "clear_continuing_benefit": True,
    "no_significant_change_envisaged": True,
    "patient_agrees_interval": True,
}
REFUSED = (
    "The patient did not take part in this review, so their agreement to a longer interval cannot be recorded"
)


def test_the_patients_agreement_to_a_longer_interval_is_refused_at_a_review_without_them(episode, sam):
    draft = strategic.review_start(episode=episode, lead=sam, by=sam)
    with pytest.raises(ValidationError) as error:
        strategic.review_complete(
            review=draft,
            by=sam,
            held_on=TODAY,
            patient_took_part=False,
            overview="Held with the prescriber; the patient did not come.",
            assessments=ASSESSED,
            **LONGER,
        )
    assert REFUSED in error.value.message_dict["patient_agrees_interval"][0]
    draft.refresh_from_db()
    assert (draft.status, draft.patient_agrees_interval, draft.agreed_next_date) == (
        ReviewStatus.DRAFT,
        False,
        None,
    )


def test_the_page_refuses_it_beside_the_tick_and_saves_nothing(client, episode, sam):
    draft = strategic.review_start(episode=episode, lead=sam, by=sam)
    client.force_login(sam)
    data = page_data(client.get(draft.get_absolute_url()))
    data.pop("patient_took_part", None)
    data.update(
        overview="Held with the prescriber; the patient did not come.",
        agreed_next_date="2027-01-10",
        clear_continuing_benefit="on",
        no_significant_change_envisaged="on",
        patient_agrees_interval="on",
    )
    page = html.unescape(client.post(draft.get_absolute_url(), data).content.decode())
    assert REFUSED in page.split('id="error_1_id_patient_agrees_interval"')[1][:400]
    assert 'href="#id_patient_agrees_interval"' in page
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.DRAFT


def test_with_the_patient_taking_part_the_same_agreement_is_recorded(episode, sam):
    draft = strategic.review_start(episode=episode, lead=sam, by=sam)
    review = strategic.review_complete(
        review=draft,
        by=sam,
        held_on=TODAY,
        patient_took_part=True,
        overview="Stepped back over the whole plan with the patient.",
        assessments=ASSESSED,
        **LONGER,
    )
    assert (review.status, review.extension_justified) == (ReviewStatus.COMPLETED, True)
