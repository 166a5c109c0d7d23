"""An owed item follows its episode to another patient too (hazard H-050's gap, closed for drug tests by patients
0015, closed here for owed items).

The trigger of reviews 0007 that copies an episode's team and keyworker onto its items fired on `UPDATE OF team_id,
keyworker_id`. On PostgreSQL a column list names the columns the statement sets, not those a BEFORE trigger
changes: a statement that sets only an episode's patient_id moves the episode's team (patients 0004) without naming
it, and the items kept the old team, so the dashboard's counts, the review list and the reminders would have
placed them with a team no longer caring for the patient. Nothing in the application sets an episode's patient
alone (an episode's patient is set once, when it is opened); a shell or a future path could. On SQLite the
episode's team is written again by a second statement (patients 0004), which names team_id and fires the trigger.
"""

from django.db import migrations

POSTGRESQL_TRIGGER = """
DROP TRIGGER IF EXISTS episode_owed_care_team ON patients_treatmentepisode;
CREATE TRIGGER episode_owed_care_team
    AFTER UPDATE OF {columns} ON patients_treatmentepisode
    FOR EACH ROW
    WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.keyworker_id IS DISTINCT FROM NEW.keyworker_id)
    EXECUTE FUNCTION reviews_episode_owed_care_team();
"""


def _trigger(columns: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(POSTGRESQL_TRIGGER.format(columns=columns))

    return run


class Migration(migrations.Migration):
    dependencies = [("reviews", "0014_owed_items_bulk_insert")]

    operations = [
        migrations.RunPython(
            _trigger("patient_id, team_id, keyworker_id"), _trigger("team_id, keyworker_id")
        ),
    ]
