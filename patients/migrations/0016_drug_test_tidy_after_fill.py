"""After patients 0015 filled every drug test's copy of its episode's team and keyworker (PostgreSQL): the fill's
UPDATE left a dead row for every test and an entry for it in every index of the table, the new indexes included,
which were built in the same transaction. Until they are cleared the read the copy is for is slow: the walk by date
visits the table (the visibility map is not set) and the planner, counting the bloated index's pages, may prefer
the walk that does (7-80 ms a keyworker's caseload page instead of 2 at 300,000 patients).

So, outside a transaction, the table is vacuumed (the dead rows go and the visibility map is set) and its indexes
rebuilt without blocking reads or writes (REINDEX ... CONCURRENTLY). At 300,000 patients, a million tests: about a
minute. Nothing to do on SQLite; nothing to undo.
"""

from django.db import migrations


def tidy(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("VACUUM (ANALYZE) patients_drugtest")
    schema_editor.execute("REINDEX TABLE CONCURRENTLY patients_drugtest")


class Migration(migrations.Migration):
    atomic = False  # VACUUM and REINDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("patients", "0015_drug_test_care_team")]

    operations = [migrations.RunPython(tidy, migrations.RunPython.noop, atomic=False)]
