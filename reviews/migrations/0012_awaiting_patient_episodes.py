"""The episodes awaiting the patient (reviews.owed_count_models.AwaitingPatientEpisode): one row for each episode
that owes a review while a strategic review of it waits for the patient's involvement (§2.4), with its team and
keyworker, kept by triggers in the transaction that changes a review's status or episode, or the episode's next
review, team or keyworker (which follow the patient's: patients 0004). The dashboard counts these few rows.
"""

from django.db import migrations, models

ROWS = "reviews_awaitingpatientepisode"


def _refresh(episode: str) -> str:
    """SQLite: the statements that make the row of one episode (an SQL expression) right, run once a row."""
    return f"""
    DELETE FROM {ROWS} WHERE episode_id = {episode};
    INSERT INTO {ROWS} (episode_id, team_id, keyworker_id)
    SELECT e.id, e.team_id, e.keyworker_id FROM patients_treatmentepisode e
    WHERE e.id = {episode} AND e.next_review_target IS NOT NULL
      AND EXISTS (SELECT 1 FROM reviews_strategicreview r
                  WHERE r.episode_id = e.id AND r.status = 'awaiting_patient');"""


# On PostgreSQL the triggers run once per statement over its transition tables: a recompute that gives 300,000
# episodes their first next review, or a load of 800,000 reviews, is one set operation, not a function call a row.
# The episodes' trigger needs nothing but the transition tables (no read of the episodes table at all); the
# reviews' triggers read the episodes they touch through a materialised step, so that no predicate of theirs can
# steer the planner to a partial index of the episodes (a cached plan made while the table looked empty once
# scanned all 300,000 rows for each episode).
_AWAITING = "EXISTS (SELECT 1 FROM reviews_strategicreview r WHERE r.episode_id = {id} AND r.status = 'awaiting_patient')"

_EPISODE_CHANGED = """(o.next_review_target IS NULL) <> (n.next_review_target IS NULL)
              OR o.team_id IS DISTINCT FROM n.team_id OR o.keyworker_id IS DISTINCT FROM n.keyworker_id"""


def _reviews_function(name: str, episode_ids: str) -> str:
    """A statement trigger's function refreshing the rows of the episodes whose reviews the statement touched."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {ROWS} WHERE episode_id IN ({episode_ids});
    WITH touched AS MATERIALIZED (
        SELECT e.id, e.team_id, e.keyworker_id, e.next_review_target FROM patients_treatmentepisode e
        WHERE e.id IN ({episode_ids})
    )
    INSERT INTO {ROWS} (episode_id, team_id, keyworker_id)
    SELECT t.id, t.team_id, t.keyworker_id FROM touched t
    WHERE t.next_review_target IS NOT NULL AND {_AWAITING.format(id="t.id")};
    RETURN NULL;
END $$;"""


POSTGRESQL = f"""
{_reviews_function("reviews_awaiting_reviews_added", "SELECT episode_id FROM added")}
CREATE TRIGGER awaiting_review_insert AFTER INSERT ON reviews_strategicreview
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reviews_awaiting_reviews_added();
{_reviews_function("reviews_awaiting_reviews_removed", "SELECT episode_id FROM removed")}
CREATE TRIGGER awaiting_review_delete AFTER DELETE ON reviews_strategicreview
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION reviews_awaiting_reviews_removed();
{
    _reviews_function(
        "reviews_awaiting_reviews_changed",
        "SELECT episode_id FROM before_rows UNION SELECT episode_id FROM after_rows",
    )
}
CREATE TRIGGER awaiting_review_update AFTER UPDATE ON reviews_strategicreview
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reviews_awaiting_reviews_changed();

CREATE FUNCTION reviews_awaiting_episodes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {ROWS} WHERE episode_id IN (
        SELECT n.id FROM before_rows o JOIN after_rows n ON n.id = o.id WHERE {_EPISODE_CHANGED}
    );
    INSERT INTO {ROWS} (episode_id, team_id, keyworker_id)
    SELECT n.id, n.team_id, n.keyworker_id FROM before_rows o JOIN after_rows n ON n.id = o.id
    WHERE ({_EPISODE_CHANGED}) AND n.next_review_target IS NOT NULL AND {_AWAITING.format(id="n.id")};
    RETURN NULL;
END $$;
CREATE TRIGGER awaiting_episode AFTER UPDATE ON patients_treatmentepisode
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reviews_awaiting_episodes_changed();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS awaiting_episode ON patients_treatmentepisode;
DROP TRIGGER IF EXISTS awaiting_review_update ON reviews_strategicreview;
DROP TRIGGER IF EXISTS awaiting_review_delete ON reviews_strategicreview;
DROP TRIGGER IF EXISTS awaiting_review_insert ON reviews_strategicreview;
DROP FUNCTION IF EXISTS reviews_awaiting_episodes_changed();
DROP FUNCTION IF EXISTS reviews_awaiting_reviews_changed();
DROP FUNCTION IF EXISTS reviews_awaiting_reviews_removed();
DROP FUNCTION IF EXISTS reviews_awaiting_reviews_added();
"""

EPISODE_CHANGED = """(OLD.next_review_target IS NULL) <> (NEW.next_review_target IS NULL)
    OR OLD.team_id IS NOT NEW.team_id OR OLD.keyworker_id IS NOT NEW.keyworker_id"""

SQLITE = [
    f"CREATE TRIGGER awaiting_review_insert AFTER INSERT ON reviews_strategicreview BEGIN {_refresh('NEW.episode_id')} END",
    f"CREATE TRIGGER awaiting_review_delete AFTER DELETE ON reviews_strategicreview BEGIN {_refresh('OLD.episode_id')} END",
    f"""CREATE TRIGGER awaiting_review_update AFTER UPDATE OF status, episode_id ON reviews_strategicreview
    BEGIN {_refresh("OLD.episode_id")} {_refresh("NEW.episode_id")} END""",
    f"""CREATE TRIGGER awaiting_episode AFTER UPDATE OF next_review_target, team_id, keyworker_id
    ON patients_treatmentepisode WHEN {EPISODE_CHANGED}
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
