# The NDTMS return's models (interop/ndtms/models.py): a team's agency code and a patient's consent decisions.

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0001_initial"),
        ("patients", "0001_initial"),
        ("recovery_reviews", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NdtmsAgency",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "agency_code",
                    models.CharField(
                        max_length=10,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[A-Z][A-Z0-9]{2,9}$",
                                "An NDTMS agency code is a capital letter and then 2 to 9 capital letters or digits, "
                                "such as N0852.",
                            )
                        ],
                        verbose_name="NDTMS agency code",
                    ),
                ),
                (
                    "team",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ndtms_agency",
                        to="recovery_reviews.team",
                    ),
                ),
            ],
            options={
                "verbose_name": "NDTMS agency code",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("agency_code__regex", "^[A-Z][A-Z0-9]{2,9}$")),
                        name="ndtms_agency_code_form",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="NdtmsConsent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("consented", models.BooleanField(verbose_name="consents to share with NDTMS")),
                ("decided_on", models.DateField(verbose_name="date the patient decided")),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ndtms_consents",
                        to="patients.patient",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "NDTMS consent decision",
                "ordering": ["patient", "-decided_on", "-recorded_at"],
                "indexes": [
                    models.Index(fields=["patient", "decided_on", "recorded_at"], name="ndtms_consent_latest")
                ],
            },
        ),
    ]
