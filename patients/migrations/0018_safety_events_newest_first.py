"""The caseload's safety events (patients.selectors.recent_safety_events) read newest first from indexes whose key
ends with the row's id, so the walk stops at the twentieth event however many fall on one day.

Both lists order by date, newest first, then by record. Keyed by date alone, an index gives the rows of one day in
no particular order, and PostgreSQL must read the whole of the newest day before it can return twenty of them: at
300,000 patients some 13,000 drug tests fall on one day, and a manager of every team read all of them (and their
episodes and patients) on every caseload page, searched or not: 117 ms for the drug tests, 6 ms for the pharmacy
reports. Keyed by date and id, the index gives the order itself: 0.4 ms.

- `pharmacy_safety_events`, the reports owning a run of missed doses: (period_end, id), on PostgreSQL and SQLite.
- `drug_test_recent_order`, the tests that stand: (taken_on, id) with the columns the walk filters and joins on
  (INCLUDE, PostgreSQL only, as patients 0015's `drug_test_recent_scope`, which it replaces); the results are
  ordered by their test's date, then their test, then themselves. `drug_test_recent` (patients 0014, taken_on
  alone) is dropped: the new index serves whatever it served.
"""

from django.db import migrations, models
from django.db.models import Q

DRUG_TEST_ORDER = """
CREATE INDEX IF NOT EXISTS drug_test_recent_order ON patients_drugtest (taken_on, id)
    INCLUDE (team_id, keyworker_id, episode_id) WHERE entered_in_error_at IS NULL;
DROP INDEX IF EXISTS drug_test_recent_scope;
DROP INDEX IF EXISTS drug_test_recent;
"""
DRUG_TEST_ORDER_UNDONE = """
CREATE INDEX IF NOT EXISTS drug_test_recent ON patients_drugtest (taken_on) WHERE entered_in_error_at IS NULL;
CREATE INDEX IF NOT EXISTS drug_test_recent_scope ON patients_drugtest (taken_on)
    INCLUDE (team_id, keyworker_id, episode_id, id) WHERE entered_in_error_at IS NULL;
DROP INDEX IF EXISTS drug_test_recent_order;
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("patients", "0017_drop_episode_open_review_deadline")]

    operations = [
        migrations.RemoveIndex(model_name="pharmacyreport", name="pharmacy_safety_events"),
        migrations.AddIndex(
            model_name="pharmacyreport",
            index=models.Index(
                condition=Q(safety_run__gte=3), fields=["period_end", "id"], name="pharmacy_safety_events"
            ),
        ),
        migrations.RunPython(_on_postgresql(DRUG_TEST_ORDER), _on_postgresql(DRUG_TEST_ORDER_UNDONE)),
    ]
