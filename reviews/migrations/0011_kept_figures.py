"""The managers' kept figures (reviews.kept_models; docs/design.md, Figures kept between requests).

Triggers bump a generation per report and team (reviews_keptgeneration) in the transaction of every change a kept
figure depends on, whichever code path makes it; reviews.dashboards.kept trusts a figure only while the generation
it was computed at is still current. What each report depends on:

- timeliness: episodes added or removed, or changed in team, entry date, exit date or first review completed;
- unmet: unmet needs added, changed or removed; episodes moved between teams or removed;
- outcomes: TOPs added, changed or removed; episodes moved between teams, ended or reopened, or removed.

An episode moved bumps its old team and its new one. On PostgreSQL the triggers run once per statement over its
transition tables, each team bumped once, in (report, team) order; on SQLite once per row. A TRUNCATE of any of
these tables (PostgreSQL) bumps every team. A new generation row starts at 1: a reader that found none read 0.
The figures are empty until first read: the first page that reads them, or `manage.py rebuild_kept_figures`.
"""

from django.db import migrations, models

GENERATION = "reviews_keptgeneration"

# PostgreSQL: `pairs` is a query of (report, team_id) rows, duplicates allowed.
_PG_BUMP = f"""
    INSERT INTO {GENERATION} (report, team_id, generation)
    SELECT report, team_id, 1 FROM ({{pairs}}) AS bumped WHERE team_id IS NOT NULL
    GROUP BY report, team_id ORDER BY report, team_id
    ON CONFLICT (report, team_id) DO UPDATE SET generation = {GENERATION}.generation + 1;
"""


def _pg_function(name: str, pairs: str) -> str:
    return f"""
CREATE FUNCTION reviews_kept_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_PG_BUMP.format(pairs=pairs)}
    RETURN NULL;
END $$;
"""


_EPISODE_CHANGED = """
    WITH changed AS (
        SELECT o.team_id AS old_team, n.team_id AS new_team,
               o.team_id IS DISTINCT FROM n.team_id AS moved,
               (o.entry_date, o.exit_date, o.first_review_completed_on)
                   IS DISTINCT FROM (n.entry_date, n.exit_date, n.first_review_completed_on) AS timely,
               o.exit_date IS DISTINCT FROM n.exit_date AS ended
        FROM before_rows o JOIN after_rows n ON n.id = o.id
    )
    SELECT 'timeliness' AS report, old_team AS team_id FROM changed WHERE moved OR timely
    UNION ALL SELECT 'timeliness', new_team FROM changed WHERE moved OR timely
    UNION ALL SELECT 'unmet', old_team FROM changed WHERE moved
    UNION ALL SELECT 'unmet', new_team FROM changed WHERE moved
    UNION ALL SELECT 'outcomes', old_team FROM changed WHERE moved OR ended
    UNION ALL SELECT 'outcomes', new_team FROM changed WHERE moved OR ended
"""


def _pg_through_episode(report: str, rows: str) -> str:
    return f"SELECT '{report}' AS report, e.team_id FROM {rows} r JOIN patients_treatmentepisode e ON e.id = r.episode_id"


POSTGRESQL = (
    _pg_function("episode_added", "SELECT 'timeliness' AS report, team_id FROM added")
    + _pg_function(
        "episode_removed",
        "SELECT r.report, team_id FROM removed CROSS JOIN (VALUES ('timeliness'), ('unmet'), ('outcomes')) "
        "AS r(report)",
    )
    + _pg_function("episode_changed", _EPISODE_CHANGED)
    + _pg_function("need_added", _pg_through_episode("unmet", "added"))
    + _pg_function("need_removed", _pg_through_episode("unmet", "removed"))
    + _pg_function(
        "need_changed",
        f"{_pg_through_episode('unmet', 'before_rows')} UNION ALL {_pg_through_episode('unmet', 'after_rows')}",
    )
    + _pg_function("top_added", _pg_through_episode("outcomes", "added"))
    + _pg_function("top_removed", _pg_through_episode("outcomes", "removed"))
    + _pg_function(
        "top_changed",
        f"{_pg_through_episode('outcomes', 'before_rows')} UNION ALL "
        f"{_pg_through_episode('outcomes', 'after_rows')}",
    )
    + f"""
CREATE FUNCTION reviews_kept_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {GENERATION} SET generation = generation + 1;
    INSERT INTO {GENERATION} (report, team_id, generation)
    SELECT r.report, t.id, 1 FROM recovery_reviews_team t
    CROSS JOIN (VALUES ('timeliness'), ('unmet'), ('outcomes')) AS r(report)
    ON CONFLICT (report, team_id) DO NOTHING;
    RETURN NULL;
END $$;
"""
)

# (trigger name, table, event, transition tables, function)
_PG_TRIGGERS = [
    ("episode_insert", "patients_treatmentepisode", "INSERT", "NEW TABLE AS added", "episode_added"),
    ("episode_delete", "patients_treatmentepisode", "DELETE", "OLD TABLE AS removed", "episode_removed"),
    (
        "episode_update",
        "patients_treatmentepisode",
        "UPDATE",
        "OLD TABLE AS before_rows NEW TABLE AS after_rows",
        "episode_changed",
    ),
    ("need_insert", "reviews_unmetneed", "INSERT", "NEW TABLE AS added", "need_added"),
    ("need_delete", "reviews_unmetneed", "DELETE", "OLD TABLE AS removed", "need_removed"),
    (
        "need_update",
        "reviews_unmetneed",
        "UPDATE",
        "OLD TABLE AS before_rows NEW TABLE AS after_rows",
        "need_changed",
    ),
    ("top_insert", "patients_topassessment", "INSERT", "NEW TABLE AS added", "top_added"),
    ("top_delete", "patients_topassessment", "DELETE", "OLD TABLE AS removed", "top_removed"),
    (
        "top_update",
        "patients_topassessment",
        "UPDATE",
        "OLD TABLE AS before_rows NEW TABLE AS after_rows",
        "top_changed",
    ),
]
_TRUNCATED = ["patients_treatmentepisode", "reviews_unmetneed", "patients_topassessment"]

POSTGRESQL_TRIGGERS = [
    f"CREATE TRIGGER kept_{name} AFTER {event} ON {table} REFERENCING {transition} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION reviews_kept_{function}()"
    for name, table, event, transition, function in _PG_TRIGGERS
] + [
    f"CREATE TRIGGER kept_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT "
    "EXECUTE FUNCTION reviews_kept_truncated()"
    for table in _TRUNCATED
]
POSTGRESQL_DROP = [
    *(f"DROP TRIGGER IF EXISTS kept_{name} ON {table}" for name, table, *_ in _PG_TRIGGERS),
    *(f"DROP TRIGGER IF EXISTS kept_truncate ON {table}" for table in _TRUNCATED),
    *(f"DROP FUNCTION IF EXISTS reviews_kept_{function}()" for *_, function in _PG_TRIGGERS),
    "DROP FUNCTION IF EXISTS reviews_kept_truncated()",
]


def _sqlite_bump(report: str, team: str) -> str:
    return (
        f"INSERT INTO {GENERATION} (report, team_id, generation) SELECT '{report}', {team}, 1 "
        f"WHERE {team} IS NOT NULL "
        f"ON CONFLICT (report, team_id) DO UPDATE SET generation = generation + 1;"
    )


def _sqlite_team(row: str) -> str:
    return f"(SELECT team_id FROM patients_treatmentepisode WHERE id = {row}.episode_id)"


def _sqlite_bumps(*pairs) -> str:
    return " ".join(_sqlite_bump(report, team) for report, team in pairs)


_ALL = ("timeliness", "unmet", "outcomes")
SQLITE_TRIGGERS = [
    "CREATE TRIGGER kept_episode_insert AFTER INSERT ON patients_treatmentepisode "
    f"BEGIN {_sqlite_bumps(('timeliness', 'NEW.team_id'))} END",
    "CREATE TRIGGER kept_episode_delete AFTER DELETE ON patients_treatmentepisode "
    f"BEGIN {_sqlite_bumps(*((r, 'OLD.team_id') for r in _ALL))} END",
    "CREATE TRIGGER kept_episode_move AFTER UPDATE OF team_id ON patients_treatmentepisode "
    "WHEN OLD.team_id IS NOT NEW.team_id "
    f"BEGIN {_sqlite_bumps(*((r, t) for r in _ALL for t in ('OLD.team_id', 'NEW.team_id')))} END",
    "CREATE TRIGGER kept_episode_timely AFTER UPDATE OF entry_date, exit_date, first_review_completed_on "
    "ON patients_treatmentepisode WHEN OLD.entry_date IS NOT NEW.entry_date OR OLD.exit_date IS NOT NEW.exit_date "
    "OR OLD.first_review_completed_on IS NOT NEW.first_review_completed_on "
    f"BEGIN {_sqlite_bumps(('timeliness', 'OLD.team_id'), ('timeliness', 'NEW.team_id'))} END",
    "CREATE TRIGGER kept_episode_end AFTER UPDATE OF exit_date ON patients_treatmentepisode "
    "WHEN OLD.exit_date IS NOT NEW.exit_date "
    f"BEGIN {_sqlite_bumps(('outcomes', 'OLD.team_id'), ('outcomes', 'NEW.team_id'))} END",
]
for _report, _table, _short in (
    ("unmet", "reviews_unmetneed", "need"),
    ("outcomes", "patients_topassessment", "top"),
):
    SQLITE_TRIGGERS += [
        f"CREATE TRIGGER kept_{_short}_insert AFTER INSERT ON {_table} "
        f"BEGIN {_sqlite_bumps((_report, _sqlite_team('NEW')))} END",
        f"CREATE TRIGGER kept_{_short}_delete AFTER DELETE ON {_table} "
        f"BEGIN {_sqlite_bumps((_report, _sqlite_team('OLD')))} END",
        f"CREATE TRIGGER kept_{_short}_update AFTER UPDATE ON {_table} "
        f"BEGIN {_sqlite_bumps((_report, _sqlite_team('OLD')), (_report, _sqlite_team('NEW')))} END",
    ]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {statement.split()[2]}" for statement in SQLITE_TRIGGERS]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [POSTGRESQL, *POSTGRESQL_TRIGGERS]
    elif vendor == "sqlite":
        statements = SQLITE_TRIGGERS
    else:
        raise NotImplementedError(f"No kept-figure triggers written for {vendor}.")
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in POSTGRESQL_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("reviews", "0010_owed_tally"), ("patients", "0014_patient_search_indexes")]

    operations = [
        migrations.CreateModel(
            name="KeptGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("report", models.CharField(max_length=16)),
                ("team_id", models.IntegerField()),
                ("generation", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("report", "team_id"), name="kept_generation_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="KeptFigure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("report", models.CharField(max_length=16)),
                ("team_id", models.IntegerField()),
                ("key", models.CharField(blank=True, max_length=24)),
                ("generation", models.BigIntegerField()),
                ("as_of", models.DateField(blank=True, null=True)),
                ("figures", models.JSONField(blank=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("report", "team_id", "key"), name="kept_figure_once")
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
