"""Every view and change of a patient's record is written to the audit log, which nobody can edit."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.sites import site
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse

from patients import services
from recovery_reviews.audit import AuditLogImmutable, patient_history

pytestmark = pytest.mark.django_db


def test_viewing_a_patient_writes_an_access_entry_with_who_and_which_patient(client, alice, patient):
    client.force_login(alice)
    client.get(reverse("patients:detail", args=[patient.pk]))
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).get()
    assert entry.actor == alice
    assert entry.additional_data == {"patient_id": patient.pk}
    assert entry.object_pk == str(patient.pk)


def test_a_refused_view_writes_no_access_entry(client, olga, patient):
    client.force_login(olga)
    client.get(reverse("patients:detail", args=[patient.pk]))
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_changes_to_the_record_are_logged_against_the_patient(episode, alice):
    services.pharmacy_report_record(
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
    episode.patient.family_name = "Renamed"
    episode.patient.save()
    history = list(patient_history(episode.patient_id))
    models = {(e.content_type.model, e.action) for e in history}
    assert ("pharmacyreport", LogEntry.Action.CREATE) in models
    assert ("patient", LogEntry.Action.UPDATE) in models


def test_schedule_recomputation_is_not_logged_as_a_change(episode):
    from reviews.services.schedule import episode_schedule_refresh

    before = LogEntry.objects.count()
    episode_schedule_refresh(episode)
    assert LogEntry.objects.count() == before


def test_the_admin_offers_no_way_to_add_change_or_delete_log_entries(team):
    admin = site._registry[LogEntry]
    request = RequestFactory().get("/admin/auditlog/logentry/")
    request.user = type(
        "Superuser",
        (),
        {"is_active": True, "is_staff": True, "is_superuser": True, "has_perm": lambda *a: True},
    )()
    request.resolver_match = None
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)


def test_deleting_a_log_entry_is_refused(patient):
    entry = LogEntry.objects.first()
    with pytest.raises(AuditLogImmutable), transaction.atomic():
        entry.delete()
    assert LogEntry.objects.filter(pk=entry.pk).exists()
