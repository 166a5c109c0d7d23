"""Every item an episode owes, one row each (reviews.models.OwedItem), and check-ups after an element of treatment
(ElementCheckUp, docs/design.md rule 7b). A reminder's identity gains its kind: one episode can owe a strategic
review and a check-up after an element on the same day.

An owed item carries its episode's team and keyworker, kept equal by triggers as the episode's own are kept equal to
its patient's (patients 0004): copied from the episode whenever an item is inserted or its episode, team or
keyworker columns are written, and followed when the episode's change (which follows the patient's). The rows are
filled from each episode's stored next review; the nightly recompute adds any further item.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRESQL_TRIGGERS = """
CREATE FUNCTION reviews_owed_care_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT team_id, keyworker_id INTO NEW.team_id, NEW.keyworker_id
    FROM patients_treatmentepisode WHERE id = NEW.episode_id;
    RETURN NEW;
END $$;
CREATE TRIGGER owed_care_team
    BEFORE INSERT OR UPDATE OF episode_id, team_id, keyworker_id ON reviews_oweditem
    FOR EACH ROW EXECUTE FUNCTION reviews_owed_care_team();

CREATE FUNCTION reviews_episode_owed_care_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reviews_oweditem SET team_id = NEW.team_id, keyworker_id = NEW.keyworker_id
    WHERE episode_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER episode_owed_care_team
    AFTER UPDATE OF team_id, keyworker_id ON patients_treatmentepisode
    FOR EACH ROW
    WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.keyworker_id IS DISTINCT FROM NEW.keyworker_id)
    EXECUTE FUNCTION reviews_episode_owed_care_team();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS episode_owed_care_team ON patients_treatmentepisode;
DROP FUNCTION IF EXISTS reviews_episode_owed_care_team();
DROP TRIGGER IF EXISTS owed_care_team ON reviews_oweditem;
DROP FUNCTION IF EXISTS reviews_owed_care_team();
"""

_SQLITE_COPY = """
    UPDATE reviews_oweditem
    SET team_id = (SELECT team_id FROM patients_treatmentepisode WHERE id = NEW.episode_id),
        keyworker_id = (SELECT keyworker_id FROM patients_treatmentepisode WHERE id = NEW.episode_id)
    WHERE id = NEW.id;
"""
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER owed_care_team_insert AFTER INSERT ON reviews_oweditem BEGIN {_SQLITE_COPY} END",
    "CREATE TRIGGER owed_care_team_update AFTER UPDATE OF episode_id, team_id, keyworker_id "
    f"ON reviews_oweditem BEGIN {_SQLITE_COPY} END",
    """CREATE TRIGGER episode_owed_care_team AFTER UPDATE OF team_id, keyworker_id ON patients_treatmentepisode
    WHEN OLD.team_id IS NOT NEW.team_id OR OLD.keyworker_id IS NOT NEW.keyworker_id
    BEGIN
        UPDATE reviews_oweditem SET team_id = NEW.team_id, keyworker_id = NEW.keyworker_id
        WHERE episode_id = NEW.id;
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS episode_owed_care_team",
    "DROP TRIGGER IF EXISTS owed_care_team_update",
    "DROP TRIGGER IF EXISTS owed_care_team_insert",
]

FILL = """
INSERT INTO reviews_oweditem (episode_id, kind, target, deadline, reasons, element_end, team_id, keyworker_id)
SELECT id, next_review_kind, next_review_target, next_review_deadline, next_review_reasons, NULL, team_id,
       keyworker_id
FROM patients_treatmentepisode
WHERE next_review_target IS NOT NULL AND next_review_deadline IS NOT NULL
      AND next_review_kind <> 'element_check_up'
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [POSTGRESQL_TRIGGERS, FILL]
    elif vendor == "sqlite":
        statements = [*SQLITE_TRIGGERS, FILL]
    else:
        raise NotImplementedError(f"No owed-item triggers written for {vendor}.")
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in [POSTGRESQL_DROP] if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0012_pharmacy_safety_events"),
        ("recovery_reviews", "0002_audit_log_append_only"),
        ("reviews", "0006_check_up_attempts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ElementCheckUp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("element_end", models.DateField(help_text="The day the element of treatment ended.")),
                ("held_on", models.DateField()),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("stable", "Recovery stable"),
                            ("support_increased", "Recovery support maintained or increased"),
                            ("relapse_risk", "Early signs of relapse risk"),
                            ("returned_to_treatment", "Rapid access back into treatment arranged"),
                            ("not_reached", "Could not be reached"),
                        ],
                        max_length=24,
                    ),
                ),
                ("notes", models.TextField(blank=True, default="")),
            ],
            options={
                "ordering": ["element_end", "held_on", "pk"],
            },
        ),
        migrations.CreateModel(
            name="OwedItem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=24)),
                ("target", models.DateField()),
                ("deadline", models.DateField()),
                ("reasons", models.JSONField(default=list)),
                ("element_end", models.DateField(blank=True, null=True)),
            ],
            options={
                "ordering": ["target", "deadline", "pk"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="reminder",
            name="reminder_sent_once",
        ),
        migrations.AlterField(
            model_name="reminder",
            name="kind",
            field=models.CharField(
                choices=[
                    ("strategic_review", "Strategic review"),
                    ("recovery_check_up", "Recovery check-up"),
                    ("element_check_up", "Check-up after an element of treatment"),
                    ("safety_event", "Safety event"),
                ],
                max_length=24,
            ),
        ),
        migrations.AddConstraint(
            model_name="reminder",
            constraint=models.UniqueConstraint(
                fields=("episode", "kind", "target", "stage", "recipient"), name="reminder_sent_once"
            ),
        ),
        migrations.AddField(
            model_name="elementcheckup",
            name="episode",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="element_check_ups",
                to="patients.treatmentepisode",
            ),
        ),
        migrations.AddField(
            model_name="elementcheckup",
            name="held_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="oweditem",
            name="episode",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="owed_items",
                to="patients.treatmentepisode",
            ),
        ),
        migrations.AddField(
            model_name="oweditem",
            name="keyworker",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="oweditem",
            name="team",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="recovery_reviews.team",
            ),
        ),
        migrations.AddConstraint(
            model_name="elementcheckup",
            constraint=models.UniqueConstraint(
                condition=models.Q(("outcome", "not_reached"), _negated=True),
                fields=("episode", "element_end"),
                name="one_held_element_check_up",
                violation_error_message="The check-up after this element of treatment has been held already.",
            ),
        ),
        migrations.AddConstraint(
            model_name="elementcheckup",
            constraint=models.CheckConstraint(
                condition=models.Q(("held_on__gte", models.F("element_end"))),
                name="element_check_up_after_its_end",
            ),
        ),
        migrations.AddConstraint(
            model_name="elementcheckup",
            constraint=models.CheckConstraint(
                condition=models.Q(("outcome", "returned_to_treatment"), _negated=True),
                name="element_check_up_not_back_in_treatment",
                violation_error_message="The patient is still in treatment: record early signs of relapse instead, and raise it at the next strategic review.",
            ),
        ),
        migrations.AddIndex(
            model_name="oweditem",
            index=models.Index(fields=["team", "target", "deadline", "kind"], name="owed_team_schedule"),
        ),
        migrations.AddIndex(
            model_name="oweditem",
            index=models.Index(fields=["keyworker", "target"], name="owed_keyworker_target"),
        ),
        migrations.AddIndex(
            model_name="oweditem",
            index=models.Index(fields=["target"], name="owed_target"),
        ),
        migrations.AddIndex(
            model_name="oweditem",
            index=models.Index(fields=["deadline"], name="owed_deadline"),
        ),
        migrations.AddIndex(
            model_name="oweditem",
            index=models.Index(fields=["episode", "target"], name="owed_episode"),
        ),
        migrations.AddConstraint(
            model_name="oweditem",
            constraint=models.CheckConstraint(
                condition=models.Q(("target__lte", models.F("deadline"))),
                name="owed_target_not_after_deadline",
            ),
        ),
        migrations.AddConstraint(
            model_name="oweditem",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("element_end__isnull", False), ("kind", "element_check_up")),
                    models.Q(
                        models.Q(("kind", "element_check_up"), _negated=True), ("element_end__isnull", True)
                    ),
                    _connector="OR",
                ),
                name="owed_element_end_with_element_check_up",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
