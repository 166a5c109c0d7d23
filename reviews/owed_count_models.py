"""The kept counts of owed items (docs/design.md, Figures kept between requests): the tables behind
reviews.dashboards.owed_counts. Imported by reviews.models, so that Django registers them with the reviews app.

- OwedCount: how many items were owed, by team, kind, rule 8 status and forecast week, and OwedCountByKeyworker,
  by team, keyworker and status, counted from every reviews.models.OwedItem as of one day (``as_of``) by a
  rebuild. (One grain of both would hold a row for nearly every three items: 300,000 items, 113,000 rows.)
- OwedCountChange: every item added (+1) or taken away (-1) since that rebuild, with the columns the counts group
  by. Database triggers on reviews_oweditem (migration reviews 0010) write these rows in the transaction that
  changes the item, whatever code path changed it; a rebuild empties them.

A figure is a sum over OwedCount plus the sum of the changes' signs, each change placed by the same status and
week expressions as the rebuild, as of today: so it always equals a count over the items themselves."""

from django.db import models


class OwedCount(models.Model):
    """Items owed as of ``as_of`` by team, kind, status and forecast week. Never written but by a rebuild
    (reviews.dashboards.owed_counts.rebuild)."""

    as_of = models.DateField()
    team_id = models.IntegerField(null=True, blank=True)
    kind = models.CharField(max_length=24)
    status = models.CharField(max_length=16)
    week = models.SmallIntegerField()  # -1: target already past; 0-11: the forecast's weeks; 12: later
    n = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["team_id"], name="owed_count_team")]

    def __str__(self):
        return f"{self.n} {self.kind} {self.status} week {self.week} (team {self.team_id}, {self.as_of})"


class OwedCountByKeyworker(models.Model):
    """Items owed as of ``as_of`` by team, keyworker and status: the dashboard of one team. Written with OwedCount."""

    as_of = models.DateField()
    team_id = models.IntegerField(null=True, blank=True)
    keyworker_id = models.IntegerField(null=True, blank=True)
    status = models.CharField(max_length=16)
    n = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["team_id"], name="owed_count_keyworker_team")]

    def __str__(self):
        return f"{self.n} {self.status} (keyworker {self.keyworker_id}, team {self.team_id}, {self.as_of})"


class OwedCountChange(models.Model):
    """One owed item added (sign +1) or taken away (-1) since the last rebuild. Written only by the triggers."""

    team_id = models.IntegerField(null=True, blank=True)
    keyworker_id = models.IntegerField(null=True, blank=True)
    kind = models.CharField(max_length=24)
    target = models.DateField()
    deadline = models.DateField()
    sign = models.SmallIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["team_id"], name="owed_change_team"),
            models.Index(fields=["keyworker_id"], name="owed_change_keyworker"),
        ]

    def __str__(self):
        return f"{self.sign:+d} {self.kind} {self.target} (team {self.team_id})"


class OwedCountRebuild(models.Model):
    """The last rebuild: the day its counts are as of and when it ran. One row (pk 1); none before the first."""

    as_of = models.DateField()
    rebuilt_at = models.DateTimeField()
    items = models.IntegerField()

    def __str__(self):
        return f"as of {self.as_of} ({self.items} items)"


class AwaitingPatientEpisode(models.Model):
    """An episode that owes a review (its next_review_target is set) while a strategic review of it waits for the
    patient's involvement (§2.4), with its team and keyworker: the dashboard's "awaiting patient" column, counted
    from these few rows instead of joining every episode to the reviews. Database triggers (migration reviews 0012)
    keep the rows equal to that condition, in the transaction of the change to the review or the episode."""

    episode_id = models.BigIntegerField(primary_key=True)
    team_id = models.IntegerField(null=True, blank=True)
    keyworker_id = models.IntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["team_id", "keyworker_id"], name="awaiting_episode_team")]

    def __str__(self):
        return f"episode {self.episode_id} awaits the patient (team {self.team_id})"
