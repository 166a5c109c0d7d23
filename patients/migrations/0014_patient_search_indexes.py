"""The caseload's search at England scale, for a manager of every team (docs/design.md, The keyworker's home):
a part of a name, given and family name parts, an NHS number or its first digits (patients.selectors.search_filter),
read from indexes on PostgreSQL instead of the whole patients table.

- Django's `icontains` is `UPPER(col::text) LIKE UPPER('%word%')` on PostgreSQL, so the trigram indexes (pg_trgm,
  GIN) are on exactly that expression, one for each name: a word of three letters or more is a bitmap index scan.
  A shorter word has no trigram of its own; in "jo smi" the index finds the "smi"s and "jo" filters them.
- `startswith` is `nhs_number::text LIKE '943%'`, which the unique index cannot serve unless the database's
  collation is C: an index with `varchar_pattern_ops` compares byte by byte, so a prefix is a range scan.
- The episodes with something due, by patient, with their team (`episode_patient_with_target`): the caseload's
  count of what a search found and the patients it found with nothing due join the patients found to their
  episodes from this index alone, without visiting 300,000 episode rows.
- The recent drug tests by date (`drug_test_recent`): the caseload's safety events (patients.selectors
  .recent_safety_events) read the latest twenty unexpected results backwards from today instead of sorting every
  test of the last four weeks, which a manager of every team otherwise pays on every caseload page, searched or not.

SQLite keeps its plain tables (it has neither pg_trgm nor operator classes) and the same queries, so the indexes
are created by SQL on PostgreSQL only and are not in the models' state. `CREATE EXTENSION IF NOT EXISTS pg_trgm`
needs the right to create in the database (pg_trgm is a trusted extension). Reversed, the indexes go and the
extension stays (something else may use it); Django's TrigramExtension is not used because its reverse queries
pg_extension on SQLite too.
"""

from django.db import migrations

INDEXES = {
    "patient_family_name_trgm": "patients_patient USING gin ((UPPER(family_name::text)) gin_trgm_ops)",
    "patient_given_name_trgm": "patients_patient USING gin ((UPPER(given_name::text)) gin_trgm_ops)",
    "patient_nhs_number_prefix": "patients_patient (nhs_number varchar_pattern_ops)",
    "episode_patient_with_target": (
        "patients_treatmentepisode (patient_id) INCLUDE (team_id) WHERE next_review_target IS NOT NULL"
    ),
    "drug_test_recent": "patients_drugtest (taken_on) WHERE entered_in_error_at IS NULL",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("patients", "0013_safety_event_acknowledgement")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
