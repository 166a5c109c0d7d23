from django.db import migrations, models
from django.db.models import Min, OuterRef, Subquery


def fill_first_review(apps, schema_editor):
    """Existing episodes: the earliest completed review, as reviews.services.schedule stores it from now on."""
    episode_model = apps.get_model("patients", "TreatmentEpisode")
    review_model = apps.get_model("reviews", "StrategicReview")
    first = (
        review_model.objects.filter(episode=OuterRef("pk"), status="completed")
        .values("episode")
        .annotate(first=Min("completed_on"))
        .values("first")
    )
    episode_model.objects.update(first_review_completed_on=Subquery(first))


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_initial"),
        ("reviews", "0002_reminder_lease"),
    ]

    operations = [
        migrations.AddField(
            model_name="treatmentepisode",
            name="first_review_completed_on",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_first_review, migrations.RunPython.noop, elidable=True),
    ]
