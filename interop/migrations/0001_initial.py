"""The caseload import's record (interop/caseload_import/models.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("recovery_reviews", "0003_information_governance_role"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CaseloadImport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("filename", models.CharField(max_length=255)),
                ("content", models.BinaryField(blank=True, default=b"")),
                ("sha256", models.CharField(db_index=True, max_length=64, verbose_name="SHA-256 of the file")),
                ("size", models.PositiveIntegerField(default=0)),
                (
                    "source",
                    models.CharField(
                        choices=[("page", "The import page"), ("command", "The import_caseload command")],
                        default="page",
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("ready", "Checked: ready to import"),
                            ("problems", "Has problems: nothing imported"),
                            ("committed", "Imported"),
                            ("expired", "Not imported in time: upload again"),
                        ],
                        max_length=16,
                    ),
                ),
                ("rows", models.PositiveIntegerField(default=0)),
                ("new_patients", models.PositiveIntegerField(default=0)),
                ("already_imported", models.PositiveIntegerField(default=0)),
                ("rows_with_problems", models.PositiveIntegerField(default=0)),
                ("problems", models.JSONField(blank=True, default=list)),
                ("uploaded_at", models.DateTimeField(auto_now_add=True)),
                ("committed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "committed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="recovery_reviews.team"
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["-uploaded_at", "-pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "committed"), _negated=True),
                            models.Q(("committed_at__isnull", False), ("committed_by__isnull", False)),
                            _connector="OR",
                        ),
                        name="caseload_import_committed_with_who_and_when",
                    )
                ],
            },
        ),
    ]
