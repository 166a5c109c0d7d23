"""The episodes awaiting the patient (reviews.owed_count_models.AwaitingPatientEpisode): one row for each episode
that owes a review while a strategic review of it waits for the patient's involvement (§2.4), with its team and
keyworker, kept by triggers in the transaction that changes a review's status or episode, or the episode's next
review, team or keyworker (which follow the patient's: patients 0004). The dashboard counts these few rows.
"""

from django.db import migrations, models

ROWS = "reviews_awaitingpatientepisode"


def _refresh(episode: str) -> str:
    """The statements that make the row of one episode (an SQL expression) right."""
    return f"""
    DELETE FROM {ROWS} WHERE episode_id = {episode};
    INSERT INTO {ROWS} (episode_id, team_id, keyworker_id)
    SELECT e.id, e.team_id, e.keyworker_id FROM patients_treatmentepisode e
    WHERE e.id = {episode} AND e.next_review_target IS NOT NULL
      AND EXISTS (SELECT 1 FROM reviews_strategicreview r
                  WHERE r.episode_id = e.id AND r.status = 'awaiting_patient');"""


EPISODE_CHANGED = """(OLD.next_review_target IS NULL) <> (NEW.next_review_target IS NULL)
    OR OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.keyworker_id IS DISTINCT FROM NEW.keyworker_id"""

POSTGRESQL = f"""
CREATE FUNCTION reviews_awaiting_refresh(episode bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN {_refresh("episode")}
END $$;

CREATE FUNCTION reviews_awaiting_review() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN PERFORM reviews_awaiting_refresh(NEW.episode_id); END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.episode_id <> NEW.episode_id) THEN
        PERFORM reviews_awaiting_refresh(OLD.episode_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER awaiting_review AFTER INSERT OR DELETE OR UPDATE OF status, episode_id ON reviews_strategicreview
    FOR EACH ROW EXECUTE FUNCTION reviews_awaiting_review();

CREATE FUNCTION reviews_awaiting_episode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM reviews_awaiting_refresh(NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER awaiting_episode AFTER UPDATE OF next_review_target, team_id, keyworker_id
    ON patients_treatmentepisode FOR EACH ROW WHEN ({EPISODE_CHANGED})
    EXECUTE FUNCTION reviews_awaiting_episode();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS awaiting_episode ON patients_treatmentepisode;
DROP TRIGGER IF EXISTS awaiting_review ON reviews_strategicreview;
DROP FUNCTION IF EXISTS reviews_awaiting_episode();
DROP FUNCTION IF EXISTS reviews_awaiting_review();
DROP FUNCTION IF EXISTS reviews_awaiting_refresh(bigint);
"""

SQLITE = [
    f"CREATE TRIGGER awaiting_review_insert AFTER INSERT ON reviews_strategicreview BEGIN {_refresh('NEW.episode_id')} END",
    f"CREATE TRIGGER awaiting_review_delete AFTER DELETE ON reviews_strategicreview BEGIN {_refresh('OLD.episode_id')} END",
    f"""CREATE TRIGGER awaiting_review_update AFTER UPDATE OF status, episode_id ON reviews_strategicreview
    BEGIN {_refresh("OLD.episode_id")} {_refresh("NEW.episode_id")} END""",
    f"""CREATE TRIGGER awaiting_episode AFTER UPDATE OF next_review_target, team_id, keyworker_id
    ON patients_treatmentepisode WHEN {EPISODE_CHANGED.replace("IS DISTINCT FROM", "IS NOT")}
    BEGIN {_refresh("NEW.id")} END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "awaiting_episode",
        "awaiting_review_update",
        "awaiting_review_delete",
        "awaiting_review_insert",
    )
]

FILL = f"""
INSERT INTO {ROWS} (episode_id, team_id, keyworker_id)
SELECT e.id, e.team_id, e.keyworker_id FROM patients_treatmentepisode e
WHERE e.next_review_target IS NOT NULL
  AND EXISTS (SELECT 1 FROM reviews_strategicreview r WHERE r.episode_id = e.id AND r.status = 'awaiting_patient')
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [POSTGRESQL, FILL]
    elif vendor == "sqlite":
        statements = [*SQLITE, FILL]
    else:
        raise NotImplementedError(f"No awaiting-patient triggers written for {vendor}.")
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in [POSTGRESQL_DROP] if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("reviews", "0011_kept_figures")]

    operations = [
        migrations.CreateModel(
            name="AwaitingPatientEpisode",
            fields=[
                ("episode_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("team_id", models.IntegerField(null=True, blank=True)),
                ("keyworker_id", models.IntegerField(null=True, blank=True)),
            ],
            options={
                "indexes": [models.Index(fields=["team_id", "keyworker_id"], name="awaiting_episode_team")],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
