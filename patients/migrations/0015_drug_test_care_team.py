"""A drug test carries its episode's team and keyworker (see DrugTest.team), kept equal by triggers as an episode's
are kept equal to its patient's (patients 0004) and an owed item's to its episode's (reviews 0007):

- a test's team and keyworker are read from its episode whenever the test is inserted (a save, bulk_create, COPY)
  or its episode, team or keyworker columns are written (so a stale in-memory test saved later cannot write an
  old team back);
- when an episode's team or keyworker changes (which follows its patient's, by any path), its tests follow in the
  same statement.

The caseload's safety events (patients.selectors.recent_safety_events) scope a result by its test's columns, so
a scope's recent tests are found from an index instead of every episode of the team one by one (2,000 index probes
on every keyworker's caseload page at 300,000 patients). Scoping reads these columns, so they must never drift from
the episode's:
docs/clinical-safety/hazard-log.md, H-050: An unexpected drug test result is missing from the caseload, or shown to a team no longer caring

Two ways in, the planner choosing by the scope's size:

- a busy scope: `drug_test_recent_scope` (PostgreSQL only, like the indexes of patients 0014: SQLite has no
  INCLUDE), the tests that stand by date with their team, keyworker, episode and id, walked backwards from today
  without visiting the table until twenty unexpected results are found (a team of 2,000 episodes: some 6,000 index
  entries);
- a quiet one (a small or new team, a keyworker's own patients elsewhere): `drug_test_team_recent` and
  `drug_test_keyworker_recent`, its recent tests and no others. The planner tells the two apart by the count of
  tests per team, so the team column keeps a statistic for up to 1,000 teams (the default keeps the commonest 100
  and takes every other team for an average one: a new team's walk would then run the whole four weeks).

On PostgreSQL the table is locked against writes before it is filled, so no test is inserted between the fill and
the triggers; the fill is one UPDATE joined to the episodes (a million rows at 300,000 patients: a minute or two;
the table's size doubles until autovacuum has been, and until then the walk visits the table: 80 ms instead of
2. Run `VACUUM (ANALYZE) patients_drugtest` after migrating not to wait for it).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRESQL_FILL = """
LOCK TABLE patients_drugtest IN SHARE ROW EXCLUSIVE MODE;
UPDATE patients_drugtest
SET team_id = patients_treatmentepisode.team_id, keyworker_id = patients_treatmentepisode.keyworker_id
FROM patients_treatmentepisode
WHERE patients_treatmentepisode.id = patients_drugtest.episode_id;
"""

POSTGRESQL_TRIGGERS = """
CREATE FUNCTION patients_drug_test_care_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT team_id, keyworker_id INTO NEW.team_id, NEW.keyworker_id
    FROM patients_treatmentepisode WHERE id = NEW.episode_id;
    RETURN NEW;
END $$;
CREATE TRIGGER drug_test_care_team
    BEFORE INSERT OR UPDATE OF episode_id, team_id, keyworker_id ON patients_drugtest
    FOR EACH ROW EXECUTE FUNCTION patients_drug_test_care_team();

CREATE FUNCTION patients_episode_drug_test_care_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE patients_drugtest SET team_id = NEW.team_id, keyworker_id = NEW.keyworker_id
    WHERE episode_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER episode_drug_test_care_team
    AFTER UPDATE OF patient_id, team_id, keyworker_id ON patients_treatmentepisode
    FOR EACH ROW
    WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.keyworker_id IS DISTINCT FROM NEW.keyworker_id)
    EXECUTE FUNCTION patients_episode_drug_test_care_team();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS episode_drug_test_care_team ON patients_treatmentepisode;
DROP FUNCTION IF EXISTS patients_episode_drug_test_care_team();
DROP TRIGGER IF EXISTS drug_test_care_team ON patients_drugtest;
DROP FUNCTION IF EXISTS patients_drug_test_care_team();
"""

# SQLite cannot change NEW in a trigger: it writes the row again after the insert or update (recursive triggers
# are off, so that write does not fire the trigger again). An episode's own team is likewise written again after
# the statement that changed it (patients 0004), so its tests read the episode's row as it then stands rather than
# NEW, which may be a stale team on its way to being corrected. On both, an episode's patient_id is in the trigger's
# columns: a statement that changes only the patient moves the episode's team without naming it.
_SQLITE_COPY = """
    UPDATE patients_drugtest
    SET team_id = (SELECT team_id FROM patients_treatmentepisode WHERE id = NEW.episode_id),
        keyworker_id = (SELECT keyworker_id FROM patients_treatmentepisode WHERE id = NEW.episode_id)
    WHERE id = NEW.id;
"""
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER drug_test_care_team_insert AFTER INSERT ON patients_drugtest BEGIN {_SQLITE_COPY} END",
    "CREATE TRIGGER drug_test_care_team_update AFTER UPDATE OF episode_id, team_id, keyworker_id "
    f"ON patients_drugtest BEGIN {_SQLITE_COPY} END",
    """CREATE TRIGGER episode_drug_test_care_team
    AFTER UPDATE OF patient_id, team_id, keyworker_id ON patients_treatmentepisode
    WHEN OLD.team_id IS NOT NEW.team_id OR OLD.keyworker_id IS NOT NEW.keyworker_id
    BEGIN
        UPDATE patients_drugtest
        SET team_id = (SELECT team_id FROM patients_treatmentepisode WHERE id = NEW.id),
            keyworker_id = (SELECT keyworker_id FROM patients_treatmentepisode WHERE id = NEW.id)
        WHERE episode_id = NEW.id;
    END""",
]
SQLITE_FILL = """
UPDATE patients_drugtest
SET team_id = (SELECT team_id FROM patients_treatmentepisode WHERE id = patients_drugtest.episode_id),
    keyworker_id = (SELECT keyworker_id FROM patients_treatmentepisode WHERE id = patients_drugtest.episode_id)
"""
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS episode_drug_test_care_team",
    "DROP TRIGGER IF EXISTS drug_test_care_team_update",
    "DROP TRIGGER IF EXISTS drug_test_care_team_insert",
]


POSTGRESQL_READ = """
CREATE INDEX drug_test_recent_scope ON patients_drugtest (taken_on) INCLUDE (team_id, keyworker_id, episode_id, id)
    WHERE entered_in_error_at IS NULL;
ALTER TABLE patients_drugtest ALTER COLUMN team_id SET STATISTICS 1000;
ANALYZE patients_drugtest;
"""
POSTGRESQL_READ_DROP = """
DROP INDEX IF EXISTS drug_test_recent_scope;
ALTER TABLE patients_drugtest ALTER COLUMN team_id SET STATISTICS -1;
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [POSTGRESQL_FILL, POSTGRESQL_TRIGGERS]
    elif vendor == "sqlite":
        statements = [SQLITE_FILL, *SQLITE_TRIGGERS]
    else:
        raise NotImplementedError(f"No drug-test care-team triggers written for {vendor}.")
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in [POSTGRESQL_DROP] if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


def create_read_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_READ)


def drop_read_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_READ_DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0014_patient_search_indexes"),
        ("recovery_reviews", "0003_information_governance_role"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="drugtest",
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
        migrations.AddField(
            model_name="drugtest",
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
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.AddIndex(
            model_name="drugtest",
            index=models.Index(
                condition=models.Q(("entered_in_error_at", None)),
                fields=["team", "taken_on"],
                name="drug_test_team_recent",
            ),
        ),
        migrations.AddIndex(
            model_name="drugtest",
            index=models.Index(
                condition=models.Q(("entered_in_error_at", None)),
                fields=["keyworker", "taken_on"],
                name="drug_test_keyworker_recent",
            ),
        ),
        migrations.RunPython(create_read_index, drop_read_index),
    ]
