"""At the review of a high-risk patient (§2.2) the multidisciplinary team takes part, or the review says why not
(§2.6): through the service and through the page. docs/design.md, Risk level and disengagement."""

import html
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from reviews.models import ParticipantRole, ReviewParticipant, ReviewStatus
from reviews.services import strategic
from tests.reviews.test_review_views import page_data
from tests.support.factories import PharmacyReportFactory, TopAssessmentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 4, 10)
ASSESSED = {f"{d}_progress": "no_change" for d in ("drug_alcohol", "health", "offending", "social")}
NURSE = {"name": "Nina Nurse", "role": ParticipantRole.NURSE}


@pytest.fixture
def draft(episode, sam):
    return strategic.review_start(episode=episode, lead=sam, by=sam)


@pytest.fixture
def shared_needle(episode):
    """The latest TOP says Pat Example injected with a needle used by someone else: high risk on its own."""
    return TopAssessmentFactory(
        episode=episode, assessed_on=date(2026, 3, 30), stage="review", shared_needle=True
    )


def complete(review, by, **more):
    return strategic.review_complete(
        review=review,
        by=by,
        held_on=TODAY,
        patient_took_part=more.pop("patient_took_part", True),
        overview="Stepped back over the whole plan.",
        assessments=ASSESSED,
        **more,
    )


@pytest.mark.parametrize("took_part", [True, False], ids=["with the patient", "awaiting the patient"])
def test_a_high_risk_review_without_the_team_or_a_reason_is_refused_and_nothing_saved(
    shared_needle, draft, sam, took_part
):
    with pytest.raises(ValidationError) as error:
        complete(draft, sam, patient_took_part=took_part)
    [message] = error.value.message_dict["multidisciplinary_reason"]
    assert message.startswith(
        "The patient's risk is high (injected with a needle or syringe used by someone else (TOP of 30 Mar 2026)): "
        "add a participant from the multidisciplinary team or another agency"
    )
    assert message.endswith("or say here why none was involved (§2.2, §2.6).")
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.DRAFT and not ReviewParticipant.objects.filter(review=draft).exists()


@pytest.mark.parametrize(
    "role", [ParticipantRole.KEYWORKER, ParticipantRole.SENIOR_PRACTITIONER, ParticipantRole.FAMILY]
)
def test_the_lead_keyworker_or_family_are_not_the_multidisciplinary_team(shared_needle, draft, sam, role):
    with pytest.raises(ValidationError) as error:
        complete(draft, sam, participants=[{"name": "Someone", "role": role}])
    assert list(error.value.message_dict) == ["multidisciplinary_reason"]


def test_a_nurse_taking_part_lets_it_complete(shared_needle, draft, sam):
    complete(draft, sam, participants=[NURSE])
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.COMPLETED
    assert draft.participants.filter(role=ParticipantRole.NURSE).exists()


def test_the_reason_none_was_involved_lets_it_complete_and_is_kept(shared_needle, draft, sam):
    complete(draft, sam, multidisciplinary_reason="  The prescriber was off sick; booked for next week.  ")
    draft.refresh_from_db()
    assert (draft.status, draft.multidisciplinary_reason) == (
        ReviewStatus.COMPLETED,
        "The prescriber was off sick; booked for next week.",
    )


def test_a_blank_reason_is_no_reason(shared_needle, draft, sam):
    with pytest.raises(ValidationError):
        complete(draft, sam, multidisciplinary_reason="   ")


def test_a_patient_at_standard_or_raised_risk_is_not_asked(episode, draft, sam):
    TopAssessmentFactory(episode=episode, assessed_on=date(2026, 3, 30), stage="review", shared_needle=False)
    complete(draft, sam)
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.COMPLETED and draft.multidisciplinary_reason == ""


def test_a_safety_event_in_the_last_28_days_makes_it_high(episode, draft, sam):
    PharmacyReportFactory(  # the run as the record's services store it (rule 4b)
        episode=episode,
        period_start=date(2026, 3, 20),
        period_end=date(2026, 4, 2),
        supervised_doses_taken=10,
        safety_run=4,
        safety_run_from=date(2026, 3, 29),
    )
    with pytest.raises(ValidationError) as error:
        complete(draft, sam)
    assert "4 missed doses in a row in the pharmacy report to 2 Apr 2026" in str(error.value)


# --- The page ---------------------------------------------------------------------------------------------------


def test_the_page_asks_for_the_team_with_the_reasons_and_refuses_without_it(
    client, sam, draft, shared_needle
):
    client.force_login(sam)
    response = client.get(draft.get_absolute_url())
    page = html.unescape(response.content.decode())
    assert 'data-testid="multidisciplinary"' in page
    assert "High risk: involve the multidisciplinary team (§2.2)." in page
    assert "Injected with a needle or syringe used by someone else (TOP of 30 Mar 2026)." in page
    data = page_data(response)
    data.update(patient_took_part="on", overview="Stepped back over the whole plan.")
    refused = client.post(draft.get_absolute_url(), data)
    assert refused.status_code == 200
    assert (
        refused.context["form"].errors["multidisciplinary_reason"][0].startswith("The patient's risk is high")
    )
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.DRAFT
    data["participants-2-name"], data["participants-2-role"] = "Dr Prescriber", "doctor"
    assert client.post(draft.get_absolute_url(), data).status_code == 302
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.COMPLETED
    assert draft.participants.filter(name="Dr Prescriber", role=ParticipantRole.DOCTOR).exists()


def test_the_page_does_not_ask_at_standard_risk(client, sam, draft):
    client.force_login(sam)
    page = client.get(draft.get_absolute_url()).content.decode()
    assert 'data-testid="multidisciplinary"' not in page
