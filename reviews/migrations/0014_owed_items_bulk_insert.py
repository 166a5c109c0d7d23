"""The owed items' bulk insert made cheaper (the nightly recompute; docs/design.md, Figures kept between requests).

- `reviews_oweditem_episode_id_...`, the index Django gives a foreign key, goes: `owed_episode` (episode, target)
  starts with the same column and serves every read and delete by episode.
- PostgreSQL: the row trigger that copies an item's team and keyworker from its episode (reviews 0007,
  `owed_care_team`) does not fire while the transaction has set rr.owed_care_team_given to 'on'. Only the bulk
  insert of reviews.services.schedule_writes sets it (set_config(..., true), for its one statement, undone with
  its savepoint on an error), and that statement reads the team and keyworker from the episode itself, whose row
  its caller holds locked: the same values, without a trigger call for each of 300,000 rows. Unset, the setting
  reads NULL and the trigger fires as before. SQLite's triggers are unchanged.
"""

from django.db import migrations, models

SETTING = "rr.owed_care_team_given"
TRIGGER = """
DROP TRIGGER owed_care_team ON reviews_oweditem;
CREATE TRIGGER owed_care_team
    BEFORE INSERT OR UPDATE OF episode_id, team_id, keyworker_id ON reviews_oweditem
    FOR EACH ROW {when}EXECUTE FUNCTION reviews_owed_care_team();
"""


def skip_when_given(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            TRIGGER.format(when=f"WHEN (current_setting('{SETTING}', true) IS DISTINCT FROM 'on') ")
        )


def always(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER.format(when=""))


def _episode_indexes(schema_editor) -> list[str]:
    """The names of the items' indexes on episode_id alone (the one Django gave the foreign key)."""
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, "reviews_oweditem")
    return [
        name
        for name, info in found.items()
        if info["index"] and not info["unique"] and info["columns"] == ["episode_id"]
    ]


def drop_episode_index(apps, schema_editor):
    # Dropped by name rather than by AlterField, which on SQLite remakes the table and loses its triggers.
    for name in _episode_indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def make_episode_index(apps, schema_editor):
    if not _episode_indexes(schema_editor):
        model = apps.get_model("reviews", "OwedItem")
        schema_editor.execute(
            schema_editor._create_index_sql(model, fields=[model._meta.get_field("episode")])
        )


class Migration(migrations.Migration):
    dependencies = [("reviews", "0013_owed_counts_deferred")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="oweditem",
                    name="episode",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="owed_items",
                        to="patients.treatmentepisode",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_episode_index, make_episode_index)],
        ),
        migrations.RunPython(skip_when_given, always),
    ]
