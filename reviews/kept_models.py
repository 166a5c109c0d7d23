"""The tables of the managers' kept figures (docs/design.md, Figures kept between requests): read and written by
reviews.dashboards.kept, which says why they are right. Imported by reviews.models, so that Django registers them
with the reviews app.

- KeptGeneration: one row per report and team, its generation bumped by database triggers (migration reviews 0011)
  in the transaction of any change a figure of that report and team depends on. Never decreases; a missing row is
  generation 0.
- KeptFigure: one figure (JSON) per report, team and key (a quarter, a period), computed at ``generation``; valid
  only while that is still the team's generation for the report.
"""

from django.db import models


class KeptGeneration(models.Model):
    report = models.CharField(max_length=16)
    team_id = models.IntegerField()
    generation = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "team_id"], name="kept_generation_once")]

    def __str__(self):
        return f"{self.report}, team {self.team_id}: generation {self.generation}"


class KeptFigure(models.Model):
    report = models.CharField(max_length=16)
    team_id = models.IntegerField()
    key = models.CharField(max_length=24, blank=True)
    generation = models.BigIntegerField()
    as_of = models.DateField(null=True, blank=True)  # the day a today-dependent figure was computed for
    figures = models.JSONField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "team_id", "key"], name="kept_figure_once")]

    def __str__(self):
        return f"{self.report}, team {self.team_id}, {self.key or 'all'} (generation {self.generation})"
