"""Who has seen this record (docs/design.md, Access and audit): the managers of the patient's team and information
governance read every view, change and export of a patient's record, with who and when, and download it; nobody
else does, and information governance never sees the record itself. Reading the log is logged on it."""

import csv
import io

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from recovery_reviews.models import Role
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ig(db):
    return UserFactory(
        username="gina",
        first_name="Gina",
        last_name="Governance",
        role=Role.INFORMATION_GOVERNANCE,
        team=None,
    )


@pytest.fixture
def episode(episode):
    episode.patient.nhs_number = "9434765919"
    episode.patient.save()
    return episode


def log_url(patient):
    return reverse("access_log", args=[patient.pk])


def test_the_teams_manager_sees_who_viewed_the_record_and_downloads_it(client, alice, mona, episode):
    client.force_login(alice)
    client.get(episode.patient.get_absolute_url())
    client.force_login(mona)
    page = client.get(log_url(episode.patient)).content.decode()
    rows = page.split('data-testid="access-log-row"')[1:]
    assert any("Alice Keyworker" in row and "(Keyworker)" in row and "Viewed patient" in row for row in rows)
    response = client.get(log_url(episode.patient), {"format": "csv"})
    lines = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert any(
        line["Who"] == "Alice Keyworker" and line["What"].startswith("Viewed patient") for line in lines
    )
    # Reading the log, and downloading it, are on the log.
    mona_entries = LogEntry.objects.filter(actor=mona, action=LogEntry.Action.ACCESS)
    assert mona_entries.filter(additional_data__patient_id=episode.patient_id).exists()
    assert mona_entries.filter(changes__has_key="export").exists()


def test_information_governance_reads_any_log_but_never_the_record(client, ig, episode):
    client.force_login(ig)
    assert client.get(log_url(episode.patient)).status_code == 200
    assert client.get(episode.patient.get_absolute_url()).status_code == 404
    assert client.get("/").url == reverse("access_log_search")
    found = client.get(
        reverse("access_log_search"), {"nhs_number": episode.patient.nhs_number}
    ).content.decode()
    assert f'href="{log_url(episode.patient)}"' in found


@pytest.mark.parametrize("who", ["alice", "sam", "olga"])
def test_clinicians_do_not_read_access_logs(client, request, who, episode):
    client.force_login(request.getfixturevalue(who))
    assert client.get(log_url(episode.patient)).status_code == 403
    assert client.get(reverse("access_log_search")).status_code == 403


def test_a_manager_of_another_team_finds_no_log(client, other_team, episode):
    manager = UserFactory(username="sol", role=Role.MANAGER, team=other_team)
    manager.managed_teams.add(other_team)
    client.force_login(manager)
    assert client.get(log_url(episode.patient)).status_code == 404
    page = client.get(
        reverse("access_log_search"), {"nhs_number": episode.patient.nhs_number}
    ).content.decode()
    assert 'data-testid="access-log-none"' in page and episode.patient.family_name not in page


def test_lists_that_show_patients_are_on_their_logs(client, alice, mona, episode):
    from reviews.services.schedule import episode_schedule_refresh

    episode_schedule_refresh(episode)
    client.force_login(alice)
    client.get(reverse("patients:caseload"))
    client.force_login(mona)
    client.get(reverse("reviews:list"))
    page = client.get(log_url(episode.patient)).content.decode()
    rows = page.split('data-testid="access-log-row"')[1:]
    assert any("Alice Keyworker" in row and "Saw them in a list (/patients/)" in row for row in rows)
    assert any("Mona" in row and "Saw them in a list (/reviews/list/)" in row for row in rows)
