"""An entry recorded by mistake is marked entered in error: kept on the record with who, when and why, never
overwritten or deleted, and no longer counted anywhere the evidence is read."""

from datetime import UTC, date, datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from patients import services
from patients.models import DrugTest, PharmacyReport, TopAssessment, TreatmentEpisode
from patients.models import TestResult as Result
from patients.selectors import recent_safety_events
from recovery_reviews.models import Role
from reviews.selectors import evidence_pack
from reviews.services.schedule import episodes_schedule_recompute
from tests.patients.conftest import report_with_run
from tests.patients.test_views_forms import error_beside
from tests.support.factories import DrugTestFactory, DrugTestResultFactory, TopAssessmentFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
TODAY = date(2026, 5, 1)


def schedule(episode):
    return TreatmentEpisode.objects.values_list("next_review_target", "next_review_deadline").get(
        pk=episode.pk
    )


def url(kind, record):
    return reverse("patients:entered_in_error", args=[kind, record.pk])


def test_a_pharmacy_report_in_error_no_longer_moves_the_review_or_counts_anywhere(
    client, alice, open_episode
):
    first_review = schedule(open_episode)
    assert first_review == (date(2026, 6, 1), date(2026, 9, 1))  # within 3 months, at most 6 (§1.3)
    report = report_with_run(open_episode, alice)
    assert schedule(open_episode) == (date(2026, 5, 20), date(2026, 5, 20))  # App. C 1: within 28 days
    assert recent_safety_events(alice, today=TODAY)

    client.force_login(alice)
    response = client.post(
        url("pharmacy-report", report), {"reason": "Another patient's report."}, follow=True
    )
    page = response.content.decode()

    assert schedule(open_episode) == first_review
    assert (
        "Pharmacy report (Boots, 10 Apr to 23 Apr 2026) is marked as entered in error: it no longer counts as"
        in page
    )
    assert "The next review moved later: target 1 Jun 2026, deadline 1 Sep 2026." in page
    assert recent_safety_events(alice, today=TODAY) == []
    assert "3 consecutive missed doses" not in page  # the pharmacy panel's safety alert is gone
    assert "<s>Entered in error: Boots, 10 Apr to 23 Apr 2026</s>" in page
    assert "Another patient&#x27;s report. (marked by Alice Keyworker on 1 May 2026; not counted" in page
    assert evidence_pack(open_episode, as_of=TODAY).pharmacy_since_entry["reports"] == 0
    kept = PharmacyReport.with_errors.get(pk=report.pk)  # kept, with what it said
    assert (kept.missed_dose_run, kept.entered_in_error_by, kept.entered_in_error_reason) == (
        3,
        alice,
        "Another patient's report.",
    )
    assert not PharmacyReport.objects.filter(pk=report.pk).exists()
    logged = LogEntry.objects.get_for_object(kept).filter(action=LogEntry.Action.UPDATE).get()
    assert logged.actor == alice and "entered_in_error_reason" in logged.changes_dict

    episodes_schedule_recompute(today=TODAY)  # the nightly safety net agrees
    assert schedule(open_episode) == first_review


def test_a_drug_test_in_error_leaves_the_safety_events_and_the_evidence_pack(client, alice, open_episode):
    test = DrugTestFactory(episode=open_episode, taken_on=date(2026, 4, 25))
    DrugTestResultFactory(test=test, substance="heroin", result=Result.POSITIVE)
    assert [e.what for e in recent_safety_events(alice, today=TODAY)]
    assert evidence_pack(open_episode, as_of=TODAY).tests_since_entry["tests"] == 1

    client.force_login(alice)
    client.post(url("drug-test", test), {"reason": "Sample mislabelled at the lab."})

    assert recent_safety_events(alice, today=TODAY) == []
    assert evidence_pack(open_episode, as_of=TODAY).tests_since_entry["tests"] == 0
    assert DrugTest.with_errors.get(pk=test.pk).results.count() == 1  # its results are kept with it


def test_a_top_in_error_leaves_the_chart(client, alice, open_episode):
    top = TopAssessmentFactory(episode=open_episode, assessed_on=date(2026, 3, 1), stage="start")
    client.force_login(alice)
    assert "1 assessment" in client.get(open_episode.get_absolute_url()).content.decode()
    client.post(url("top", top), {"reason": "Recorded twice."})
    page = client.get(open_episode.get_absolute_url()).content.decode()
    assert "No TOP recorded yet." in page
    assert "<s>Entered in error: TOP treatment start 1 Mar 2026</s>" in page
    assert TopAssessment.objects.filter(episode=open_episode).count() == 0
    assert TopAssessment.with_errors.filter(episode=open_episode).count() == 1


def test_without_a_reason_nothing_is_marked_and_the_message_says_what_to_write(client, alice, open_episode):
    report = report_with_run(open_episode, alice)
    client.force_login(alice)
    response = client.post(url("pharmacy-report", report), {"reason": "  "})
    assert error_beside(response.content.decode(), "reason").startswith("Say what was wrong")
    assert PharmacyReport.objects.filter(pk=report.pk).exists()


def test_an_entry_is_marked_once_and_the_first_reason_stands(client, alice, sam, open_episode):
    report = report_with_run(open_episode, alice)
    services.record_mark_entered_in_error(record=report, reason="Wrong patient.", by=alice)
    client.force_login(sam)
    shown = client.get(url("pharmacy-report", report)).content.decode()
    assert "Marked as entered in error by Alice Keyworker on 1 May 2026: Wrong patient." in shown
    assert 'data-testid="entered-in-error-form"' not in shown
    response = client.post(url("pharmacy-report", report), {"reason": "Something else."})
    assert (
        "Marked as entered in error by Alice Keyworker on 1 May 2026: Wrong patient."
        in response.content.decode()
    )
    with pytest.raises(ValidationError) as error:  # two people marking it at once: the second is told
        services.record_mark_entered_in_error(record=report, reason="Something else.", by=sam)
    assert error.value.messages == [
        "This was already marked as entered in error on 1 May 2026: Wrong patient."
    ]
    assert PharmacyReport.with_errors.get(pk=report.pk).entered_in_error_reason == "Wrong patient."


def test_only_those_who_can_see_the_record_can_mark_it(client, olga, open_episode, alice):
    report = report_with_run(open_episode, alice)
    client.force_login(olga)
    assert client.post(url("pharmacy-report", report), {"reason": "Wrong patient."}).status_code == 404
    client.force_login(alice)
    assert (
        client.get(reverse("patients:entered_in_error", args=["appointment", report.pk])).status_code == 404
    )
    assert PharmacyReport.objects.filter(pk=report.pk).exists()


def test_the_timeline_offers_the_correction_beside_each_piece_of_evidence(client, alice, open_episode):
    report = report_with_run(open_episode, alice)
    client.force_login(alice)
    page = client.get(open_episode.get_absolute_url()).content.decode()
    assert f'href="{url("pharmacy-report", report)}">entered in error?</a>' in page


@pytest.mark.parametrize(
    "fields",
    [
        {"entered_in_error_reason": "Wrong patient."},  # a reason without the mark
        {"entered_in_error_at": datetime(2026, 5, 1, tzinfo=UTC)},  # a mark without a reason or who
    ],
)
def test_the_database_refuses_a_half_made_mark(alice, open_episode, fields):
    report = report_with_run(open_episode, alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        PharmacyReport.with_errors.filter(pk=report.pk).update(**fields)


def test_support_still_finds_the_entry_in_the_admin_marked_as_in_error(client, alice, open_episode):
    report = report_with_run(open_episode, alice)
    services.record_mark_entered_in_error(record=report, reason="Wrong patient.", by=alice)
    support = UserFactory(username="support", role=Role.SUPPORT, team=None, is_staff=True, is_superuser=True)
    client.force_login(support)
    listing = client.get(reverse("admin:patients_pharmacyreport_changelist")).content.decode()
    assert "Boots" in listing and 'alt="True"' in listing
    assert client.get(reverse("admin:patients_pharmacyreport_change", args=[report.pk])).status_code == 200
