"""Every view and change of a patient's record is written to the audit log (who, what, when, which record), and
the application offers no way to edit or delete it (docs/design.md, Access and audit)."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.sites import site
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import RequestFactory
from django.urls import resolve, reverse

from patients import services
from patients.models import Patient, PharmacyReport, TopAssessment
from recovery_reviews.audit import AuditLogImmutable, patient_history, record_list_access
from recovery_reviews.models import Role
from tests.support.factories import PatientFactory, PharmacyReportFactory, TopAssessmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCESS, CREATE, UPDATE = LogEntry.Action.ACCESS, LogEntry.Action.CREATE, LogEntry.Action.UPDATE


def entries_for(instance, action):
    return LogEntry.objects.get_for_object(instance).filter(action=action)


@pytest.fixture
def support(db):
    return UserFactory(username="sue", role=Role.SUPPORT, team=None, is_staff=True, is_superuser=True)


# --- Views of the record ----------------------------------------------------------------------------------------


def test_viewing_a_patient_writes_an_access_entry_with_who_and_which_patient(client, alice, patient):
    client.force_login(alice)
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    entry = LogEntry.objects.filter(action=ACCESS).get()
    assert entry.actor == alice
    assert entry.additional_data == {"patient_id": patient.pk}
    assert entry.content_type.model == "patient"
    assert entry.object_pk == str(patient.pk)
    assert entry.remote_addr == "127.0.0.1"


def test_each_view_of_a_patient_writes_its_own_access_entry(client, alice, sam, patient):
    for user in (alice, sam, alice):
        client.force_login(user)
        client.get(f"/patients/{patient.pk}/")
    actors = list(
        entries_for(patient, ACCESS).order_by("timestamp", "pk").values_list("actor__username", flat=True)
    )
    assert actors == ["alice", "sam", "alice"]


def test_opening_a_form_on_a_patients_episode_is_logged_as_a_view(client, alice, episode):
    client.force_login(alice)
    client.get(reverse("patients:pharmacy_report_new", args=[episode.pk]))
    assert entries_for(episode.patient, ACCESS).filter(actor=alice).count() == 1


def test_a_refused_view_writes_no_access_entry(client, olga, patient):
    client.force_login(olga)
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 404
    assert not LogEntry.objects.filter(action=ACCESS).exists()


# --- Changes of the record --------------------------------------------------------------------------------------


def test_creating_and_changing_a_patient_is_logged_against_the_patient(team, alice):
    patient = services.patient_create(
        given_name="Pat",
        family_name="Example",
        date_of_birth=date(1980, 1, 1),
        team=team,
        keyworker=alice,
        by=alice,
    )
    patient.family_name = "Renamed"
    patient.save()
    created = entries_for(patient, CREATE).get()
    updated = entries_for(patient, UPDATE).get()
    assert created.additional_data == {"patient_id": patient.pk}
    assert updated.additional_data == {"patient_id": patient.pk}
    assert updated.changes_dict["family_name"] == ["Example", "Renamed"]


def test_creating_and_changing_a_top_assessment_is_logged_against_its_patient(episode, alice):
    top = services.top_assessment_record(
        episode=episode,
        assessed_on=date(2026, 1, 15),
        stage="start",
        answers={"quality_of_life": 8},
        by=alice,
    )
    top.quality_of_life = 11
    top.save()
    assert entries_for(top, CREATE).get().additional_data == {"patient_id": episode.patient_id}
    update = entries_for(top, UPDATE).get()
    assert update.additional_data == {"patient_id": episode.patient_id}
    assert update.changes_dict["quality_of_life"] == ["8", "11"]


def test_creating_and_changing_a_pharmacy_report_is_logged_against_its_patient(episode, alice):
    report = services.pharmacy_report_record(
        episode=episode,
        pharmacy_name="Boots",
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 14),
        doses_due=14,
        supervised_doses_taken=14,
        take_home_doses_collected=0,
        missed_dates=[],
        by=alice,
    )
    report.concerns = "Seemed drowsy on collection."
    report.save()
    assert entries_for(report, CREATE).get().additional_data == {"patient_id": episode.patient_id}
    assert entries_for(report, UPDATE).get().additional_data == {"patient_id": episode.patient_id}


def test_a_change_made_through_a_page_records_who_made_it(client, alice, episode):
    client.force_login(alice)
    response = client.post(
        reverse("patients:pharmacy_report_new", args=[episode.pk]),
        {
            "pharmacy_name": "Boots",
            "period_start": "2026-02-01",
            "period_end": "2026-02-14",
            "doses_due": 14,
            "supervised_doses_taken": 14,
            "take_home_doses_collected": 0,
        },
    )
    assert response.status_code == 302
    report = PharmacyReport.objects.get()
    entry = entries_for(report, CREATE).get()
    assert entry.actor == alice
    assert entry.additional_data == {"patient_id": episode.patient_id}


def test_a_patients_history_gathers_every_entry_about_them_and_no_one_elses(client, alice, episode, olga):
    other = PatientFactory(team=olga.team, keyworker=olga)
    TopAssessmentFactory(episode=episode)
    PharmacyReportFactory(episode=episode)
    client.force_login(alice)
    client.get(f"/patients/{episode.patient_id}/")
    history = list(patient_history(episode.patient_id))
    kinds = {(e.content_type.model, e.action) for e in history}
    assert {
        ("patient", CREATE),
        ("patient", ACCESS),
        ("topassessment", CREATE),
        ("pharmacyreport", CREATE),
    } <= kinds
    assert all(e.additional_data["patient_id"] == episode.patient_id for e in history)
    assert other.pk not in {e.additional_data["patient_id"] for e in history}
    assert [e.timestamp for e in history] == sorted((e.timestamp for e in history), reverse=True)


def test_schedule_recomputation_is_not_logged_as_a_change(episode):
    from reviews.services.schedule import episode_schedule_refresh

    before = LogEntry.objects.count()
    episode_schedule_refresh(episode)
    episode.refresh_from_db()
    assert episode.next_review_target is not None
    assert LogEntry.objects.count() == before


# --- Nobody can edit or delete the log --------------------------------------------------------------------------


def _admin_request(method, url, user):
    request = getattr(RequestFactory(), method)(url)
    request.resolver_match = resolve(url)
    request.user = user
    return request


def test_the_admin_offers_a_superuser_no_way_to_add_change_or_delete_log_entries(support, patient):
    admin = site._registry[LogEntry]
    entry = LogEntry.objects.get_for_object(patient).first()
    changelist = _admin_request("get", reverse("admin:auditlog_logentry_changelist"), support)
    delete = _admin_request("post", reverse("admin:auditlog_logentry_delete", args=[entry.pk]), support)
    assert admin.has_view_permission(changelist, entry)
    assert not admin.has_add_permission(changelist)
    assert not admin.has_change_permission(changelist, entry)
    assert not admin.has_delete_permission(changelist, entry)
    assert not admin.has_delete_permission(delete, entry)
    assert "delete_selected" not in admin.get_actions(changelist)


def test_a_superuser_posting_to_the_admins_delete_page_deletes_nothing(client, support, patient):
    entry = LogEntry.objects.get_for_object(patient).get()
    client.force_login(support)
    response = client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_a_superuser_posting_the_bulk_delete_action_deletes_nothing(client, support, patient):
    entry = LogEntry.objects.get_for_object(patient).get()
    client.force_login(support)
    client.post(
        reverse("admin:auditlog_logentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_a_superuser_can_read_the_log_in_the_admin(client, support, patient):
    client.force_login(support)
    response = client.get(reverse("admin:auditlog_logentry_changelist"))
    assert response.status_code == 200
    assert str(patient) in response.content.decode()


def test_deleting_a_log_entry_through_the_orm_raises(patient):
    entry = LogEntry.objects.get_for_object(patient).get()
    with pytest.raises(AuditLogImmutable), transaction.atomic():
        entry.delete()
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_deleting_log_entries_in_bulk_through_the_orm_raises(patient):
    with pytest.raises(AuditLogImmutable), transaction.atomic():
        LogEntry.objects.all().delete()
    assert LogEntry.objects.get_for_object(patient).exists()


def test_every_clinical_model_with_a_patient_is_registered_for_the_change_log():
    from auditlog.registry import auditlog

    registered = {model._meta.label for model in auditlog.get_models()}
    assert {
        "patients.Patient",
        "patients.TreatmentEpisode",
        "patients.TopAssessment",
        "patients.PharmacyReport",
        "patients.DrugTest",
        "patients.Appointment",
        "patients.Intervention",
        "reviews.StrategicReview",
        "careplans.Goal",
    } <= registered
    assert Patient in auditlog.get_models()
    assert TopAssessment in auditlog.get_models()


def test_a_list_logs_one_access_per_patient_with_the_same_columns_bulk_create_writes(alice, team):
    """record_list_access writes its entries with one INSERT ... SELECT on PostgreSQL (recovery_reviews/audit.py):
    every column as Django's bulk_create writes it, for each patient shown, once each."""
    patients = [
        PatientFactory(team=team, given_name=name, family_name="O'Neil <b>") for name in ("Ann", "Bo", "Cy")
    ]
    request = RequestFactory().get("/patients/?q=o%27neil&status=due", REMOTE_ADDR="10.1.2.3")
    request.user = alice
    before = set(LogEntry.objects.values_list("pk", flat=True))
    record_list_access(request, [*patients, patients[0]])  # a patient twice in the list is logged once
    written = list(LogEntry.objects.exclude(pk__in=before).order_by("object_id"))
    moment = written[0].timestamp
    expected = LogEntry.objects.bulk_create(
        LogEntry(
            content_type=ContentType.objects.get_for_model(Patient),
            object_pk=str(patient.pk),
            object_id=patient.pk,
            object_repr=str(patient),
            action=LogEntry.Action.ACCESS,
            actor=alice,
            remote_addr="10.1.2.3",
            timestamp=moment,
            changes={"list": [None, "/patients/?q=o%27neil&status=due"]},
            additional_data={"patient_id": patient.pk},
        )
        for patient in patients
    )
    columns = [f.attname for f in LogEntry._meta.concrete_fields if not f.primary_key]
    got = [tuple(getattr(entry, column) for column in columns) for entry in written]
    want = [
        tuple(getattr(entry, column) for column in columns)
        for entry in LogEntry.objects.filter(pk__in=[e.pk for e in expected]).order_by("object_id")
    ]
    assert len(got) == 3 and got == want
    assert written[0].changes == {"list": [None, "/patients/?q=o%27neil&status=due"]}
    assert written[0].additional_data == {"patient_id": patients[0].pk}
    assert [entry.object_id for entry in written] == [patient.pk for patient in patients]


def test_an_empty_list_logs_nothing(alice):
    request = RequestFactory().get("/patients/")
    request.user = alice
    count = LogEntry.objects.count()
    record_list_access(request, [])
    assert LogEntry.objects.count() == count
