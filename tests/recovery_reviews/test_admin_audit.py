"""The admin is audited as the application is, and cannot hand its own user clinical access
(docs/design.md, Access and audit): a record support staff see in /admin/, on its page or in a list, is on that patient's access log; a
change of anyone's role, team or managed teams is logged with before and after; nobody changes their own."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from recovery_reviews.models import Role, User
from tests.support.factories import PharmacyReportFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sue(db):
    return UserFactory(username="sue", role=Role.SUPPORT, team=None, is_staff=True, is_superuser=True)


def accesses_by(user, patient):
    return LogEntry.objects.filter(
        actor=user, action=LogEntry.Action.ACCESS, additional_data__patient_id=patient.pk
    ).count()


def test_a_patient_seen_in_the_admin_is_on_their_access_log(client, sue, episode):
    client.force_login(sue)
    page = client.get(reverse("admin:patients_patient_change", args=[episode.patient_id]))
    assert page.status_code == 200 and episode.patient.family_name in page.content.decode()
    assert accesses_by(sue, episode.patient) == 1


def test_every_pharmacy_report_in_an_admin_list_is_logged_for_its_patient(client, sue, episode, other_team):
    reports = [PharmacyReportFactory(episode=episode) for _ in range(3)]
    client.force_login(sue)
    page = client.get(reverse("admin:patients_pharmacyreport_changelist"))
    assert page.status_code == 200
    logged = LogEntry.objects.filter(actor=sue, action=LogEntry.Action.ACCESS)
    assert {(e.object_pk, e.additional_data["patient_id"]) for e in logged} == {
        (str(r.pk), episode.patient_id) for r in reports
    }


def test_support_cannot_give_itself_a_role_or_teams(client, sue, team):
    client.force_login(sue)
    url = reverse("admin:recovery_reviews_user_change", args=[sue.pk])
    form = client.get(url).content.decode()
    assert 'name="role"' not in form and 'name="managed_teams"' not in form  # shown, not editable
    client.post(
        url,
        {
            "username": "sue",
            "first_name": "Sue",
            "last_name": "Porter",
            "email": "sue@example.org",
            "is_active": "on",
            "role": Role.MANAGER,
            "managed_teams": [team.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    sue.refresh_from_db()
    assert sue.role == Role.SUPPORT and not sue.managed_teams.exists()


def test_a_role_or_team_change_is_logged_with_before_and_after(client, sue, mona, team, other_team):
    client.force_login(sue)
    url = reverse("admin:recovery_reviews_user_change", args=[mona.pk])
    response = client.post(
        url,
        {
            "username": mona.username,
            "first_name": mona.first_name,
            "last_name": mona.last_name,
            "email": mona.email,
            "is_active": "on",
            "role": Role.SENIOR_PRACTITIONER,
            "team": other_team.pk,
            "managed_teams": [],
            "email_reminders": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_pk=str(mona.pk), actor=sue
    )
    changes = {}
    for entry in entries:
        changes.update(entry.changes_dict)
    assert changes["role"] == [Role.MANAGER.value, Role.SENIOR_PRACTITIONER.value]
    assert changes["team"] == ["None", str(other_team.pk)]
    assert changes["managed_teams"] == {"type": "m2m", "operation": "delete", "objects": [team.name]}


def test_a_non_superuser_on_the_admin_cannot_change_roles(client, team):
    staff = UserFactory(username="desk", role=Role.SUPPORT, team=None, is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_user", "view_user"]))
    other = UserFactory(username="kim", role=Role.KEYWORKER, team=team)
    client.force_login(staff)
    form = client.get(reverse("admin:recovery_reviews_user_change", args=[other.pk])).content.decode()
    assert 'name="role"' not in form and 'name="is_superuser"' not in form
