"""The kept counts of owed items (reviews.owed_count_models; docs/design.md, Figures kept between requests).

Triggers on reviews_oweditem write one OwedCountChange row for every item added (+1) or taken away (-1), and for a
change of any column the counts group by (team, keyworker, kind, target, deadline) one row of each, in the
transaction that changes the item: the changes and the items can never disagree, whichever code path wrote them.
On PostgreSQL they run once per statement over its transition tables (a bulk write is one INSERT ... SELECT); on
SQLite once per row. An owed item's team and keyworker are set by triggers of their own (reviews 0007); on SQLite
that is an UPDATE after the INSERT, which the update trigger follows with a -1 and a +1, so the sum stays right.
A TRUNCATE (PostgreSQL only) forgets the counts, so that the next read rebuilds them.

The counts are empty until the first rebuild: the first page that reads them, the nightly task or
`manage.py rebuild_owed_counts`.
"""

from django.db import migrations, models

CHANGE = "INSERT INTO reviews_owedcountchange (team_id, keyworker_id, kind, target, deadline, sign)"
COLUMNS = "team_id, keyworker_id, kind, target, deadline"

POSTGRESQL = f"""
CREATE FUNCTION reviews_owed_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {CHANGE} SELECT {COLUMNS}, 1 FROM added;
    RETURN NULL;
END $$;
CREATE TRIGGER owed_count_insert AFTER INSERT ON reviews_oweditem
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reviews_owed_count_added();

CREATE FUNCTION reviews_owed_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {CHANGE} SELECT {COLUMNS}, -1 FROM removed;
    RETURN NULL;
END $$;
CREATE TRIGGER owed_count_delete AFTER DELETE ON reviews_oweditem
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION reviews_owed_count_removed();

CREATE FUNCTION reviews_owed_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moved AS (
        SELECT o.team_id AS old_team, o.keyworker_id AS old_keyworker, o.kind AS old_kind,
               o.target AS old_target, o.deadline AS old_deadline,
               n.team_id, n.keyworker_id, n.kind, n.target, n.deadline
        FROM before_rows o JOIN after_rows n ON n.id = o.id
        WHERE (o.team_id, o.keyworker_id, o.kind, o.target, o.deadline)
              IS DISTINCT FROM (n.team_id, n.keyworker_id, n.kind, n.target, n.deadline)
    )
    {CHANGE}
    SELECT old_team, old_keyworker, old_kind, old_target, old_deadline, -1 FROM moved
    UNION ALL SELECT {COLUMNS}, 1 FROM moved;
    RETURN NULL;
END $$;
CREATE TRIGGER owed_count_update AFTER UPDATE ON reviews_oweditem
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reviews_owed_count_changed();

CREATE FUNCTION reviews_owed_count_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reviews_owedcountrebuild;
    DELETE FROM reviews_owedcountchange;
    DELETE FROM reviews_owedcount;
    DELETE FROM reviews_owedcountbykeyworker;
    RETURN NULL;
END $$;
CREATE TRIGGER owed_count_truncate AFTER TRUNCATE ON reviews_oweditem
    FOR EACH STATEMENT EXECUTE FUNCTION reviews_owed_count_forget();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS owed_count_truncate ON reviews_oweditem;
DROP TRIGGER IF EXISTS owed_count_update ON reviews_oweditem;
DROP TRIGGER IF EXISTS owed_count_delete ON reviews_oweditem;
DROP TRIGGER IF EXISTS owed_count_insert ON reviews_oweditem;
DROP FUNCTION IF EXISTS reviews_owed_count_forget();
DROP FUNCTION IF EXISTS reviews_owed_count_changed();
DROP FUNCTION IF EXISTS reviews_owed_count_removed();
DROP FUNCTION IF EXISTS reviews_owed_count_added();
"""


def _values(row: str, sign: int) -> str:
    return f"VALUES ({row}.team_id, {row}.keyworker_id, {row}.kind, {row}.target, {row}.deadline, {sign})"


SQLITE = [
    f"CREATE TRIGGER owed_count_insert AFTER INSERT ON reviews_oweditem BEGIN {CHANGE} {_values('NEW', 1)}; END",
    f"CREATE TRIGGER owed_count_delete AFTER DELETE ON reviews_oweditem BEGIN {CHANGE} {_values('OLD', -1)}; END",
    f"""CREATE TRIGGER owed_count_update AFTER UPDATE OF {COLUMNS} ON reviews_oweditem
    WHEN OLD.team_id IS NOT NEW.team_id OR OLD.keyworker_id IS NOT NEW.keyworker_id OR OLD.kind IS NOT NEW.kind
         OR OLD.target IS NOT NEW.target OR OLD.deadline IS NOT NEW.deadline
    BEGIN {CHANGE} {_values("OLD", -1)}; {CHANGE} {_values("NEW", 1)}; END""",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS owed_count_{name}" for name in ("update", "delete", "insert")]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [POSTGRESQL]
    elif vendor == "sqlite":
        statements = SQLITE
    else:
        raise NotImplementedError(f"No owed-count triggers written for {vendor}.")
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in [POSTGRESQL_DROP] if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0009_risk_disengagement"),
    ]

    operations = [
        migrations.CreateModel(
            name="OwedCountRebuild",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("as_of", models.DateField()),
                ("rebuilt_at", models.DateTimeField()),
                ("items", models.IntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="OwedCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("as_of", models.DateField()),
                ("team_id", models.IntegerField(null=True, blank=True)),
                ("kind", models.CharField(max_length=24)),
                ("status", models.CharField(max_length=16)),
                ("week", models.SmallIntegerField()),
                ("n", models.IntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["team_id"], name="owed_count_team")],
            },
        ),
        migrations.CreateModel(
            name="OwedCountByKeyworker",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("as_of", models.DateField()),
                ("team_id", models.IntegerField(null=True, blank=True)),
                ("keyworker_id", models.IntegerField(null=True, blank=True)),
                ("status", models.CharField(max_length=16)),
                ("n", models.IntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["team_id"], name="owed_count_keyworker_team")],
            },
        ),
        migrations.CreateModel(
            name="OwedCountChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("team_id", models.IntegerField(null=True, blank=True)),
                ("keyworker_id", models.IntegerField(null=True, blank=True)),
                ("kind", models.CharField(max_length=24)),
                ("target", models.DateField()),
                ("deadline", models.DateField()),
                ("sign", models.SmallIntegerField()),
            ],
            options={
                "indexes": [
                    models.Index(fields=["team_id"], name="owed_change_team"),
                    models.Index(fields=["keyworker_id"], name="owed_change_keyworker"),
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
