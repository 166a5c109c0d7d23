# The disengagement reminder's kind and stage (choices only: no change in the database), and the reason the
# multidisciplinary team was not involved at the review of a high-risk patient (§2.2).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0008_pending_decisions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reminder",
            name="kind",
            field=models.CharField(
                choices=[
                    ("strategic_review", "Strategic review"),
                    ("recovery_check_up", "Recovery check-up"),
                    ("element_check_up", "Check-up after an element of treatment"),
                    ("safety_event", "Safety event"),
                    ("disengagement", "Disengagement"),
                ],
                max_length=24,
            ),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="stage",
            field=models.CharField(
                choices=[
                    ("due_soon", "Due soon"),
                    ("due", "Due"),
                    ("overdue", "Overdue"),
                    ("safety_event", "Safety event"),
                    ("disengagement", "Disengagement"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="strategicreview",
            name="multidisciplinary_reason",
            field=models.TextField(
                blank=True, default="", verbose_name="why the multidisciplinary team was not involved"
            ),
        ),
    ]
