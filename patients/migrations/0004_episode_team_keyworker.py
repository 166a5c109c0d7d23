"""The episode carries its patient's team and keyworker (see TreatmentEpisode.team), kept equal by triggers:

- an episode's team and keyworker are read from its patient whenever the episode is inserted or its patient,
  team or keyworker columns are written (so a stale in-memory episode saved later cannot write an old team back);
- when a patient's team or keyworker changes, by any path (a service, the admin, a bulk update, a shell), their
  episodes follow in the same statement.

Access scoping reads these columns (recovery_reviews.access), so they must never drift from the patient's.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRESQL_TRIGGERS = """
CREATE FUNCTION patients_episode_care_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT team_id, keyworker_id INTO NEW.team_id, NEW.keyworker_id
    FROM patients_patient WHERE id = NEW.patient_id;
    RETURN NEW;
END $$;
CREATE TRIGGER episode_care_team
    BEFORE INSERT OR UPDATE OF patient_id, team_id, keyworker_id ON patients_treatmentepisode
    FOR EACH ROW EXECUTE FUNCTION patients_episode_care_team();

CREATE FUNCTION patients_patient_care_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE patients_treatmentepisode SET team_id = NEW.team_id, keyworker_id = NEW.keyworker_id
    WHERE patient_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER patient_care_team
    AFTER UPDATE OF team_id, keyworker_id ON patients_patient
    FOR EACH ROW
    WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.keyworker_id IS DISTINCT FROM NEW.keyworker_id)
    EXECUTE FUNCTION patients_patient_care_team();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS patient_care_team ON patients_patient;
DROP FUNCTION IF EXISTS patients_patient_care_team();
DROP TRIGGER IF EXISTS episode_care_team ON patients_treatmentepisode;
DROP FUNCTION IF EXISTS patients_episode_care_team();
"""

# SQLite cannot change NEW in a trigger: it writes the row again after the insert or update (recursive triggers
# are off, so that write does not fire the trigger again).
_SQLITE_COPY = """
    UPDATE patients_treatmentepisode
    SET team_id = (SELECT team_id FROM patients_patient WHERE id = NEW.patient_id),
        keyworker_id = (SELECT keyworker_id FROM patients_patient WHERE id = NEW.patient_id)
    WHERE id = NEW.id;
"""
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER episode_care_team_insert AFTER INSERT ON patients_treatmentepisode BEGIN {_SQLITE_COPY} END",
    "CREATE TRIGGER episode_care_team_update AFTER UPDATE OF patient_id, team_id, keyworker_id "
    f"ON patients_treatmentepisode BEGIN {_SQLITE_COPY} END",
    """CREATE TRIGGER patient_care_team AFTER UPDATE OF team_id, keyworker_id ON patients_patient
    WHEN OLD.team_id IS NOT NEW.team_id OR OLD.keyworker_id IS NOT NEW.keyworker_id
    BEGIN
        UPDATE patients_treatmentepisode SET team_id = NEW.team_id, keyworker_id = NEW.keyworker_id
        WHERE patient_id = NEW.id;
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS patient_care_team",
    "DROP TRIGGER IF EXISTS episode_care_team_update",
    "DROP TRIGGER IF EXISTS episode_care_team_insert",
]

FILL = """
UPDATE patients_treatmentepisode
SET team_id = (SELECT team_id FROM patients_patient WHERE patients_patient.id = patients_treatmentepisode.patient_id),
    keyworker_id = (
        SELECT keyworker_id FROM patients_patient WHERE patients_patient.id = patients_treatmentepisode.patient_id
    )
"""


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [POSTGRESQL_TRIGGERS, FILL])
    elif vendor == "sqlite":
        _run(schema_editor, [*SQLITE_TRIGGERS, FILL])
    else:
        raise NotImplementedError(f"No care-team triggers written for {vendor}.")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _run(schema_editor, [POSTGRESQL_DROP] if vendor == "postgresql" else SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_episode_first_review_completed_on"),
        ("recovery_reviews", "0002_audit_log_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="treatmentepisode",
            name="keyworker",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="treatmentepisode",
            name="team",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="recovery_reviews.team",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.AddIndex(
            model_name="treatmentepisode",
            index=models.Index(
                condition=models.Q(("next_review_target__isnull", False)),
                fields=["team", "next_review_target", "next_review_deadline", "next_review_kind"],
                name="episode_team_schedule",
            ),
        ),
        migrations.AddIndex(
            model_name="treatmentepisode",
            index=models.Index(
                fields=["team", "entry_date", "exit_date", "first_review_completed_on"],
                name="episode_team_entry",
            ),
        ),
        migrations.AddIndex(
            model_name="treatmentepisode",
            index=models.Index(fields=["keyworker", "next_review_target"], name="episode_keyworker_target"),
        ),
    ]
