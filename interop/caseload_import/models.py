"""An upload of a caseload file and what became of it (docs/design.md, Interoperability): the file itself (kept
until it is committed, so that the commit checks again exactly what the dry run checked), its SHA-256, who, when,
the team, the counts and the problems. The row stays after the commit, without the file, as the record of the
import; the audit log has an entry for it and for every record it created."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from recovery_reviews import formatting


class ImportStatus(models.TextChoices):
    READY = "ready", "Checked: ready to import"
    PROBLEMS = "problems", "Has problems: nothing imported"
    COMMITTED = "committed", "Imported"
    EXPIRED = "expired", "Not imported in time: upload again"


class ImportSource(models.TextChoices):
    PAGE = "page", "The import page"
    COMMAND = "command", "The import_caseload command"


class CaseloadImport(models.Model):
    team = models.ForeignKey("recovery_reviews.Team", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    content = models.BinaryField(blank=True, default=b"", editable=False)
    sha256 = models.CharField("SHA-256 of the file", max_length=64, db_index=True)
    size = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=16, choices=ImportSource.choices, default=ImportSource.PAGE)
    status = models.CharField(max_length=16, choices=ImportStatus.choices)
    rows = models.PositiveIntegerField(default=0)
    new_patients = models.PositiveIntegerField(default=0)
    already_imported = models.PositiveIntegerField(default=0)
    rows_with_problems = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="caseload_import_committed_with_who_and_when",
                condition=~Q(status="committed") | Q(committed_by__isnull=False, committed_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"Caseload import {self.filename} into {self.team} ({formatting.day(self.uploaded_at.date())})"

    def get_absolute_url(self):
        return reverse("caseload_import:result", args=[self.pk])

    @property
    def problem_count(self) -> int:
        return len(self.problems)
