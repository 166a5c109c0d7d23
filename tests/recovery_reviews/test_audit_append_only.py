"""On PostgreSQL nothing can rewrite or remove an audit log entry, not even a raw query."""

import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, connection, transaction

from tests.support.factories import PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def entry(team, alice):
    PatientFactory(team=team, keyworker=alice)
    return LogEntry.objects.latest("timestamp")


def test_a_log_entry_cannot_be_updated_even_by_raw_sql(entry):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE auditlog_logentry SET object_repr = 'tampered' WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.object_repr != "tampered"


def test_a_log_entry_cannot_be_deleted_even_by_raw_sql(entry):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM auditlog_logentry WHERE id = %s", [entry.pk])
    assert LogEntry.objects.filter(pk=entry.pk).exists()
