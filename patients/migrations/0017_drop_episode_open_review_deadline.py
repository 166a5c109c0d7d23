"""The episodes lose `episode_open_review_deadline`, their index on next_review_deadline alone.

No page's plan used it (bench_pages on the 300,000-patient database: no scan of it; the lists and counts read
`episode_team_schedule`, `episode_keyworker_target`, `episode_patient_with_target` or the owed items), and the nightly
recompute rewrites next_review_deadline on every episode whose dates move, so every index on it is one more entry
written for each of them (300,000 at England scale; reviews.services.schedule_writes)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("patients", "0016_drug_test_tidy_after_fill")]

    operations = [  # reversed, the index is made again as 0002 made it
        migrations.RemoveIndex(model_name="treatmentepisode", name="episode_open_review_deadline"),
    ]
