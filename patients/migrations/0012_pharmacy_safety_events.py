"""Safety events read across pharmacy reports (docs/design.md rule 4b): each report stores the run of three or more
missed doses it owns (the one whose third missed day it holds), with the run's first day and when the prescriber was
told of it, and the partial index pharmacy_safety_events covers those reports instead of each report's own run.
The stored events of the reports already recorded are derived here, with the same reading the services use
(patients/missed_doses.py)."""

from collections import defaultdict

from django.db import migrations, models

from patients.missed_doses import missed_dose_runs, owned_safety_events


def store_safety_events(apps, schema_editor):
    MissedDose = apps.get_model("patients", "MissedDose")
    PharmacyReport = apps.get_model("patients", "PharmacyReport")
    missed, told = defaultdict(list), {}
    for episode_id, report_id, missed_on, told_on in (
        MissedDose.objects.filter(report__entered_in_error_at__isnull=True)
        .values_list("report__episode_id", "report_id", "missed_on", "report__prescriber_informed_on")
        .iterator(chunk_size=5000)
    ):
        missed[episode_id].append((missed_on, report_id))
        told[report_id] = told_on
    owners = []
    for days in missed.values():
        for report_id, event in owned_safety_events(missed_dose_runs(days), told).items():
            owners.append(
                PharmacyReport(
                    pk=report_id,
                    safety_run=event.length,
                    safety_run_from=event.first,
                    safety_run_told_on=event.told_on,
                )
            )
    PharmacyReport._base_manager.bulk_update(
        owners, ["safety_run", "safety_run_from", "safety_run_told_on"], batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0011_exit_safety_check"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="pharmacyreport",
            name="pharmacy_safety_events",
        ),
        migrations.AddField(
            model_name="pharmacyreport",
            name="safety_run",
            field=models.PositiveSmallIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddField(
            model_name="pharmacyreport",
            name="safety_run_from",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="pharmacyreport",
            name="safety_run_told_on",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(store_safety_events, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="pharmacyreport",
            index=models.Index(
                condition=models.Q(("safety_run__gte", 3)),
                fields=["period_end"],
                name="pharmacy_safety_events",
            ),
        ),
        migrations.AddConstraint(
            model_name="pharmacyreport",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("safety_run", 0),
                        ("safety_run_from__isnull", True),
                        ("safety_run_told_on__isnull", True),
                    ),
                    models.Q(("safety_run__gte", 3), ("safety_run_from__isnull", False)),
                    _connector="OR",
                ),
                name="pharmacy_safety_run_owned",
            ),
        ),
    ]
