"""The strategic review's pages (§2): start (the evidence pack is compiled), complete with or without the patient,
errors beside their fields with nothing saved, the preview of the policy's dates, involvement recorded later."""

from datetime import date

import pytest
from django.urls import reverse

from patients.models import TopStage
from reviews.models import ReviewStatus, StrategicReview
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import (
    DrugTestFactory,
    DrugTestResultFactory,
    StrategicReviewFactory,
    TopAssessmentFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 4, 20)


@pytest.fixture
def started(client, sam, episode):
    episode_schedule_refresh(episode)
    client.force_login(sam)
    response = client.post(
        reverse("reviews:review_new", args=[episode.pk]), {"lead": sam.pk, "held_on": "2026-04-20"}
    )
    review = StrategicReview.objects.get()
    assert response.status_code == 302 and response["Location"] == review.get_absolute_url()
    return review


# Every core domain considered (§2.10-2.11), as a completed review needs: the completion page's data has them.
ASSESSED = {
    "drug_alcohol_progress": "improved",
    "health_progress": "maintained",
    "offending_progress": "no_change",
    "social_progress": "improved",
}


def page_data(response) -> dict:
    """What the completion page would post as it stands (every field's current value, formsets included), with
    every core domain assessed (ASSESSED)."""
    data = {}

    def add(form, prefix=""):
        for name in form.fields:
            value = form[name].value()
            key = f"{prefix}{name}"
            if value is None or value is False:
                continue
            if isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif hasattr(value, "isoformat"):
                data[key] = value.isoformat()
            else:
                data[key] = str(value)

    add(response.context["form"])
    data.update(ASSESSED)
    for formset in (response.context["participants"], response.context["needs"]):
        add(formset.management_form, f"{formset.prefix}-")
        for i, form in enumerate(formset.forms):
            add(form, f"{formset.prefix}-{i}-")
    return data


def test_starting_a_review_compiles_the_evidence_pack(client, started, episode, alice):
    TopAssessmentFactory(
        episode=episode, assessed_on=date(2026, 1, 15), stage=TopStage.START, psychological_health=5
    )
    TopAssessmentFactory(
        episode=episode, assessed_on=date(2026, 4, 1), stage=TopStage.REVIEW, psychological_health=11
    )
    test = DrugTestFactory(episode=episode, taken_on=date(2026, 4, 2))
    DrugTestResultFactory(test=test, substance="heroin", result="negative")
    response = client.get(started.get_absolute_url())
    page = response.content.decode()
    assert "Evidence pack" in page and "Complete the review" in page
    pack = response.context["pack"]
    assert pack is not None
    assert 'data-testid="top-items"' in page and "Psychological health (0-20)" in page
    assert 'data-testid="pack-tests"' in page


def test_starting_again_returns_the_review_in_progress(client, started, episode):
    response = client.get(reverse("reviews:review_new", args=[episode.pk]))
    assert response.status_code == 302 and response["Location"] == started.get_absolute_url()


def test_a_review_cannot_be_dated_in_the_future_or_before_entry(client, sam, episode):
    client.force_login(sam)
    for held_on, message in (
        ("2026-05-01", "This date is in the future."),
        ("2025-12-01", "This is before the episode began on 15 Jan 2026."),
    ):
        response = client.post(
            reverse("reviews:review_new", args=[episode.pk]), {"lead": sam.pk, "held_on": held_on}
        )
        assert response.status_code == 200 and message in response.content.decode()
    assert not StrategicReview.objects.exists()


def test_completing_without_the_overview_is_refused_and_nothing_is_saved(client, started):
    data = page_data(client.get(started.get_absolute_url()))
    data.update(patient_took_part="on", overview="")
    response = client.post(started.get_absolute_url(), data)
    assert response.status_code == 200
    assert (
        "Write the step-back overview: it is what makes this a strategic review (§2.3)."
        in response.content.decode()
    )
    started.refresh_from_db()
    assert started.status == ReviewStatus.DRAFT and not started.findings.exists()


def test_completing_with_the_patient_resets_the_clock(client, started, episode):
    data = page_data(client.get(started.get_absolute_url()))
    data.update(
        patient_took_part="on", overview="Stepped back over the whole plan.", findings=["good_progress"]
    )
    response = client.post(started.get_absolute_url(), data, follow=True)
    assert "Strategic review completed. The next review is scheduled from it." in response.content.decode()
    started.refresh_from_db()
    assert started.status == ReviewStatus.COMPLETED and started.completed_on == TODAY
    episode.refresh_from_db()
    assert episode.first_review_completed_on == TODAY
    assert episode.next_review_target == date(2026, 10, 20)  # six months on (§1.3)
    detail = client.get(started.get_absolute_url()).content.decode()
    assert "Stepped back over the whole plan." in detail


def test_completing_without_the_patient_waits_for_them(client, started, episode):
    target_before = episode.next_review_target
    data = page_data(client.get(started.get_absolute_url()))
    data.update(overview="Held with the prescriber; the patient did not attend.")
    data.pop("patient_took_part", None)
    response = client.post(started.get_absolute_url(), data, follow=True)
    assert (
        "it completes, and resets the clock, once their involvement is recorded (§2.4)"
        in response.content.decode()
    )
    started.refresh_from_db()
    assert started.status == ReviewStatus.AWAITING_PATIENT
    episode.refresh_from_db()
    assert episode.next_review_target == target_before
    response = client.post(
        reverse("reviews:review_involvement", args=[started.pk]), {"involved_on": "2026-04-20"}, follow=True
    )
    assert "involvement is recorded: the review is complete." in response.content.decode()
    started.refresh_from_db()
    assert started.status == ReviewStatus.COMPLETED and started.patient_involved_on == TODAY


def test_the_preview_says_what_the_policy_makes_of_the_agreed_date(client, started, episode):
    url = reverse("reviews:review_preview", args=[episode.pk])
    response = client.get(
        url, {"held_on": "2026-04-20", "patient_took_part": "on", "agreed_next_date": "2027-01-20"}
    )
    page = response.content.decode()
    assert "will not be used" in page and "20 Oct 2026" in page
    response = client.get(url, {"held_on": "2026-04-20"})
    assert "does not reset the clock until their involvement is recorded (§2.4)" in response.content.decode()


def test_another_teams_staff_cannot_open_the_review(client, started, olga):
    client.force_login(olga)
    assert client.get(started.get_absolute_url()).status_code == 404


def test_a_draft_is_discarded_and_nothing_of_it_remains_but_the_audit_trail(client, sam, episode):
    from auditlog.models import LogEntry

    review = StrategicReviewFactory(episode=episode, lead=sam, held_on=date.today())
    client.force_login(sam)
    page = client.get(review.get_absolute_url()).content.decode()
    assert reverse("reviews:review_discard", args=[review.pk]) in page
    assert client.get(reverse("reviews:review_discard", args=[review.pk])).status_code == 405
    response = client.post(reverse("reviews:review_discard", args=[review.pk]), follow=True)
    assert "is discarded; nothing from it was recorded." in response.content.decode()
    assert not StrategicReview.objects.filter(pk=review.pk).exists()
    deleted = LogEntry.objects.get(object_pk=str(review.pk), action=LogEntry.Action.DELETE)
    assert deleted.actor == sam


def test_a_completed_review_cannot_be_discarded(client, sam, episode):
    review = StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=date.today(),
        status=ReviewStatus.COMPLETED,
        completed_on=date.today(),
        patient_took_part=True,
    )
    client.force_login(sam)
    response = client.post(reverse("reviews:review_discard", args=[review.pk]), follow=True)
    assert "Only a review in progress can be discarded: this one is completed." in response.content.decode()
    assert StrategicReview.objects.filter(pk=review.pk).exists()


def test_a_keyworker_who_does_not_lead_it_cannot_discard_a_draft(client, alice, sam, olga, episode):
    review = StrategicReviewFactory(episode=episode, lead=sam, held_on=date.today())
    client.force_login(alice)
    assert client.post(reverse("reviews:review_discard", args=[review.pk])).status_code == 403
    client.force_login(olga)
    assert client.post(reverse("reviews:review_discard", args=[review.pk])).status_code == 404
    assert StrategicReview.objects.filter(pk=review.pk).exists()


def test_ending_an_episode_with_a_draft_review_says_to_discard_it(client, sam, episode):
    StrategicReviewFactory(episode=episode, lead=sam, held_on=date.today())
    client.force_login(sam)
    response = client.post(
        reverse("patients:episode_exit", args=[episode.pk]),
        {
            "exit_date": date.today().isoformat(),
            "exit_reason": "dropped_out",
            "exit_relapse_risk": "moderate",
            "exit_risk_of_death_discussed": "yes",
            "exit_harm_reduction_discussed": "yes",
        },
        follow=True,
    )
    today = date.today()
    assert (
        f"The strategic review started on {today.day} {today:%b %Y} (lead Sam Senior) was not completed"
        in response.content.decode()
    )
