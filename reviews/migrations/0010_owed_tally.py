"""Placeholder: the kept counts of owed items (filled in by the next commit)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reviews", "0009_risk_disengagement")]

    operations = []
