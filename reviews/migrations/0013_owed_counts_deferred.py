"""The owed items' change rows may be deferred by a bulk write (reviews.dashboards.owed_counts.writes_counted;
docs/design.md, Figures kept between requests).

On PostgreSQL the statement triggers of migration reviews 0010 write no OwedCountChange row while the transaction
has set rr.owed_counts_deferred to 'on' (SET LOCAL, so never past the transaction); the writer rebuilds the counts
before it commits. Otherwise they are 0010's. The setting is read with current_setting(..., true): unset, it is
NULL and the change rows are written. The truncate trigger is unchanged. On SQLite nothing changes: its row
triggers always write the change rows (the embedded default has no bulk write worth deferring).
"""

from django.db import migrations

CHANGE = "INSERT INTO reviews_owedcountchange (team_id, keyworker_id, kind, target, deadline, sign)"
COLUMNS = "team_id, keyworker_id, kind, target, deadline"
DEFERRED = "IF current_setting('rr.owed_counts_deferred', true) = 'on' THEN RETURN NULL; END IF;"


def _functions(guard: str) -> str:
    """0010's three trigger functions, each starting with `guard`."""
    return f"""
CREATE OR REPLACE FUNCTION reviews_owed_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {guard}
    {CHANGE} SELECT {COLUMNS}, 1 FROM added;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION reviews_owed_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {guard}
    {CHANGE} SELECT {COLUMNS}, -1 FROM removed;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION reviews_owed_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {guard}
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
"""


def defer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_functions(DEFERRED))


def undefer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_functions(""))


class Migration(migrations.Migration):
    dependencies = [("reviews", "0012_awaiting_patient_episodes")]

    operations = [migrations.RunPython(defer, undefer)]
