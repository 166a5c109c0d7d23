"""The strategic review: completes only with the patient, §2.5 lead rule, App. C suggestions, and the policy's
verdict on the agreed next date shown before saving."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from patients.models import TreatmentEpisode
from reviews.findings import suggested_responses
from reviews.models import ReviewStatus, StrategicReview
from reviews.services.schedule import episode_schedule_refresh
from tests.factories import InterventionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(date(2026, 4, 10), tick=False):
        yield


def form(**overrides):
    data = {
        "held_on": "2026-04-10",
        "patient_took_part": "on",
        "overview": "Stepped back over the whole plan.",
        "drug_alcohol_progress": "improved",
        "health_progress": "maintained",
        "offending_progress": "improved",
        "social_progress": "no_change",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def stored(episode):
    episode = TreatmentEpisode.objects.get(pk=episode.pk)
    return episode.next_review_target, episode.next_review_deadline


def test_a_review_with_the_patient_completes_and_resets_the_clock(client, sam, episode):
    client.force_login(sam)
    response = client.post(
        reverse("reviews:review_new", args=[episode.pk]),
        form(findings=["good_progress"], responses=["step_up_recovery_support"]),
    )
    assert response.status_code == 302
    review = StrategicReview.objects.get()
    assert (review.status, review.completed_on) == (ReviewStatus.COMPLETED, date(2026, 4, 10))
    assert list(review.findings.values_list("code", flat=True)) == ["good_progress"]
    assert stored(episode) == (date(2026, 10, 10), date(2026, 10, 10))


def test_a_review_without_the_patient_waits_and_then_completes_on_involvement(client, sam, episode):
    episode_schedule_refresh(episode)
    client.force_login(sam)
    client.post(reverse("reviews:review_new", args=[episode.pk]), form(patient_took_part=None))
    review = StrategicReview.objects.get()
    assert review.status == ReviewStatus.AWAITING_PATIENT
    assert stored(episode) == (date(2026, 4, 15), date(2026, 7, 15))  # the clock did not reset
    page = client.get(reverse("patients:detail", args=[episode.patient_id])).content.decode()
    assert "awaiting their involvement" in page

    client.post(reverse("reviews:review_involvement", args=[review.pk]), {"involved_on": "2026-04-20"})
    review.refresh_from_db()
    assert (review.status, review.completed_on) == (ReviewStatus.COMPLETED, date(2026, 4, 20))
    assert stored(episode) == (date(2026, 10, 20), date(2026, 10, 20))


def test_only_a_senior_practitioner_can_lead_where_treatment_includes_prescribing(client, alice, episode):
    InterventionFactory(episode=episode)
    client.force_login(alice)
    response = client.post(reverse("reviews:review_new", args=[episode.pk]), form())
    assert response.status_code == 200
    assert "a senior practitioner must lead this review (§2.5)" in response.content.decode()
    assert not StrategicReview.objects.exists()


def test_deteriorating_adherence_suggests_supervision_and_an_earlier_re_review():
    assert suggested_responses(["deteriorating_adherence"]) == ["reinstate_supervision", "earlier_re_review"]
    assert suggested_responses(["good_progress", "good_progress"]) == ["step_up_recovery_support"]


def test_the_form_carries_the_app_c_suggestions_for_the_page_script(client, sam, episode):
    client.force_login(sam)
    page = client.get(reverse("reviews:review_new", args=[episode.pk])).content.decode()
    assert '"deteriorating_adherence": {"responses": ["reinstate_supervision", "earlier_re_review"]' in page


def test_the_preview_says_why_an_unjustified_longer_date_will_not_be_used(client, sam, episode):
    client.force_login(sam)
    preview = client.get(
        reverse("reviews:review_preview", args=[episode.pk]), form(agreed_next_date="2027-01-10")
    ).content.decode()
    assert "The agreed date of 10 Jan 2027 will not be used" in preview
    assert "(§1.5)" in preview and "10 Oct 2026" in preview


def test_the_preview_accepts_a_justified_longer_date(client, sam, episode):
    client.force_login(sam)
    data = form(
        agreed_next_date="2027-01-10",
        clear_continuing_benefit="on",
        no_significant_change_envisaged="on",
        patient_agrees_interval="on",
    )
    preview = client.get(reverse("reviews:review_preview", args=[episode.pk]), data).content.decode()
    assert "will not be used" not in preview
    assert "10 Jan 2027" in preview


def test_bad_review_input_is_answered_beside_the_field(client, sam, episode):
    client.force_login(sam)
    response = client.post(
        reverse("reviews:review_new", args=[episode.pk]), form(agreed_next_date="2026-04-01", overview="")
    )
    page = response.content.decode()
    assert "The next review date must be after this review." in page
    assert "This field is required." in page
    assert not StrategicReview.objects.exists()


def test_an_outsider_cannot_open_or_save_a_review(client, olga, episode):
    client.force_login(olga)
    assert client.get(reverse("reviews:review_new", args=[episode.pk])).status_code == 404
    assert client.post(reverse("reviews:review_new", args=[episode.pk]), form()).status_code == 404
