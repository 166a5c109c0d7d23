"""On PostgreSQL the audit log is append-only in the database itself: a trigger refuses UPDATE and DELETE of
log entries, whatever path tries (docs/design.md, Access and audit). SQLite, the embedded default, relies on the
application's refusal (recovery_reviews.audit)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit log is append-only: %% of log entries is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_log_append_only ON auditlog_logentry;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_log_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS audit_log_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("recovery_reviews", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
