"""The keyworker's pages: what they say, and query counts that do not grow with rows."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from patients.models import TreatmentEpisode
from reviews.services.schedule import episode_schedule_refresh
from tests.factories import EpisodeFactory, PatientFactory, PharmacyReportFactory, TopAssessmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(date(2026, 5, 1), tick=False):
        yield


def make_episodes(count, team, keyworker):
    for i in range(count):
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=keyworker), entry_date=date(2025, 10, 1 + i % 28)
        )
        episode_schedule_refresh(episode)


def test_the_caseload_is_sorted_by_target_with_status_and_reasons(client, alice, team):
    late = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=alice, family_name="Late"), entry_date=date(2025, 9, 1)
    )
    soon = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=alice, family_name="Soon"), entry_date=date(2026, 2, 10)
    )
    for episode in (late, soon):
        episode_schedule_refresh(episode)
    client.force_login(alice)
    page = client.get(reverse("patients:caseload")).content.decode()
    assert page.index("Late") < page.index("Soon")
    assert "Overdue" in page and "Due soon" in page
    assert "First strategic review within 3 months of entry on 1 Sep 2025 (§1.3)" in page


def test_the_caseload_filters_by_status_and_searches_by_nhs_number(client, alice, team):
    overdue = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=alice, family_name="Late", nhs_number="9434765919"),
        entry_date=date(2025, 9, 1),
    )
    upcoming = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=alice, family_name="Fresh"), entry_date=date(2026, 4, 20)
    )
    for episode in (overdue, upcoming):
        episode_schedule_refresh(episode)
    client.force_login(alice)
    page = client.get(reverse("patients:caseload"), {"status": "overdue"}).content.decode()
    assert "Late" in page and "Fresh" not in page
    page = client.get(reverse("patients:caseload"), {"q": "943 476"}).content.decode()
    assert "Late" in page and "Fresh" not in page


def test_caseload_queries_do_not_grow_with_patients(client, alice, team, django_assert_num_queries):
    client.force_login(alice)
    make_episodes(2, team, alice)
    with django_assert_num_queries(9) as few:
        client.get(reverse("patients:caseload"))
    make_episodes(10, team, alice)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("patients:caseload"))


def test_the_patient_page_explains_the_next_review(client, alice, episode):
    episode_schedule_refresh(episode)
    client.force_login(alice)
    page = client.get(reverse("patients:detail", args=[episode.patient_id])).content.decode()
    assert "15 Apr 2026" in page and "15 Jul 2026" in page
    assert "(§1.3)" in page
    assert "Due" in page


def test_patient_page_queries_do_not_grow_with_evidence(client, alice, episode, django_assert_num_queries):
    client.force_login(alice)
    url = reverse("patients:detail", args=[episode.patient_id])
    TopAssessmentFactory(episode=episode)
    PharmacyReportFactory(episode=episode, period_start=date(2026, 4, 1), period_end=date(2026, 4, 14))
    with django_assert_num_queries(17) as few:
        client.get(url)
    for day in (2, 3, 4):
        TopAssessmentFactory(episode=episode, assessed_on=date(2026, 3, day), stage="review")
        PharmacyReportFactory(
            episode=episode, period_start=date(2026, 3, day), period_end=date(2026, 3, day + 13)
        )
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)


def test_recording_three_missed_doses_moves_the_review_earlier_and_warns(client, alice, episode):
    episode_schedule_refresh(episode)
    client.force_login(alice)
    response = client.post(
        reverse("patients:pharmacy_report_new", args=[episode.pk]),
        {
            "pharmacy_name": "Boots",
            "period_start": "2026-04-10",
            "period_end": "2026-04-23",
            "doses_due": 14,
            "supervised_doses_taken": 11,
            "take_home_doses_collected": 0,
            "missed_dates": "20/04/2026, 21/04/2026\n22/04/2026",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "3 consecutive missed doses: a safety event" in page
    stored = TreatmentEpisode.objects.get(pk=episode.pk)
    assert (stored.next_review_target, stored.next_review_deadline) == (date(2026, 4, 15), date(2026, 5, 20))
    assert "Adherence deteriorated on 22 Apr 2026" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("missed_dates", "20/04/2026, yesterday", "Not a date: yesterday"),
        ("missed_dates", "01/03/2026", "must fall within the report"),
        ("period_end", "2026-04-01", "cannot end before it starts"),
        ("supervised_doses_taken", "20", "cannot be more than the doses due"),
    ],
)
def test_bad_pharmacy_report_input_is_answered_beside_the_field(
    client, alice, episode, field, value, message
):
    client.force_login(alice)
    data = {
        "pharmacy_name": "Boots",
        "period_start": "2026-04-10",
        "period_end": "2026-04-23",
        "doses_due": 14,
        "supervised_doses_taken": 12,
        "take_home_doses_collected": 0,
        "missed_dates": "",
    }
    response = client.post(reverse("patients:pharmacy_report_new", args=[episode.pk]), {**data, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not episode.pharmacy_reports.exists()


def test_an_outsider_cannot_record_a_pharmacy_report(client, olga, episode):
    client.force_login(olga)
    response = client.post(reverse("patients:pharmacy_report_new", args=[episode.pk]), {"pharmacy_name": "X"})
    assert response.status_code == 404
