"""Leaving treatment as a safety check: the relapse risk and the discussion of the risk of death after leaving
treatment, stored on the episode with its exit; a dispensing arrangement closed on the exit date.

SQLite cannot add a column with a default or a CHECK constraint in place: Django rebuilds the table, and the
rebuild of patients_treatmentepisode fails on (and would drop) the care-team triggers of migration 0004. On SQLite
they are dropped before the rebuild and created again after it; PostgreSQL alters the table in place and keeps
them.
"""

import importlib

from django.conf import settings
from django.db import migrations, models

care_team = importlib.import_module("patients.migrations.0004_episode_team_keyworker")


def sqlite_drop_care_team_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        care_team.drop_triggers(apps, schema_editor)


def sqlite_create_care_team_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        care_team.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0010_appointment_booked_index'),
        ('recovery_reviews', '0002_audit_log_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(sqlite_drop_care_team_triggers, sqlite_create_care_team_triggers),
        migrations.AddField(
            model_name='dispensingarrangement',
            name='ended_on',
            field=models.DateField(blank=True, help_text='Closed on this date because the episode ended.', null=True),
        ),
        migrations.AddField(
            model_name='treatmentepisode',
            name='exit_discussion_note',
            field=models.TextField(blank=True, db_default='', default='', verbose_name='about the discussion at exit'),
        ),
        migrations.AddField(
            model_name='treatmentepisode',
            name='exit_harm_reduction_discussed',
            field=models.BooleanField(blank=True, null=True, verbose_name='skills to reduce the risk of death discussed'),
        ),
        migrations.AddField(
            model_name='treatmentepisode',
            name='exit_relapse_risk',
            field=models.CharField(blank=True, choices=[('low', 'Low'), ('moderate', 'Moderate'), ('high', 'High')], db_default='', default='', max_length=16, verbose_name='relapse risk at exit'),
        ),
        migrations.AddField(
            model_name='treatmentepisode',
            name='exit_risk_of_death_discussed',
            field=models.BooleanField(blank=True, null=True, verbose_name='risk of death after leaving treatment discussed'),
        ),
        migrations.AddConstraint(
            model_name='dispensingarrangement',
            constraint=models.CheckConstraint(condition=models.Q(('ended_on__isnull', True), ('ended_on__gte', models.F('effective_from')), _connector='OR'), name='dispensing_end_not_before_start'),
        ),
        migrations.AddConstraint(
            model_name='treatmentepisode',
            constraint=models.CheckConstraint(condition=models.Q(('exit_date__isnull', False), models.Q(('exit_discussion_note', ''), ('exit_harm_reduction_discussed__isnull', True), ('exit_relapse_risk', ''), ('exit_risk_of_death_discussed__isnull', True)), _connector='OR'), name='episode_exit_check_only_with_exit'),
        ),
        migrations.AddConstraint(
            model_name='treatmentepisode',
            constraint=models.CheckConstraint(condition=models.Q(('exit_relapse_risk', ''), ('exit_relapse_risk__in', ['low', 'moderate', 'high']), _connector='OR'), name='episode_exit_relapse_risk_known'),
        ),
        migrations.AddConstraint(
            model_name='treatmentepisode',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('exit_discussion_note', ''), _negated=True), models.Q(models.Q(('exit_risk_of_death_discussed__isnull', True), ('exit_risk_of_death_discussed', True), _connector='OR'), models.Q(('exit_harm_reduction_discussed__isnull', True), ('exit_harm_reduction_discussed', True), _connector='OR')), _connector='OR'), name='episode_exit_no_discussion_says_why'),
        ),
        migrations.RunPython(sqlite_create_care_team_triggers, sqlite_drop_care_team_triggers),
    ]
