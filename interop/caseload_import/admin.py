"""The caseload imports in the admin, read only: who imported which file (its name and SHA-256) into which team,
when, and with what counts and problems. The file itself is not shown (docs/design.md, Interoperability)."""

from django.contrib import admin

from interop.caseload_import.models import CaseloadImport
from recovery_reviews.admin import ReadMostlyAdmin


@admin.register(CaseloadImport)
class CaseloadImportAdmin(ReadMostlyAdmin):
    list_display = (
        "uploaded_at",
        "team",
        "filename",
        "uploaded_by",
        "status",
        "new_patients",
        "already_imported",
    )
    list_filter = ("status", "source", "team")
    list_select_related = ("team", "uploaded_by")
    exclude = ("content",)
    readonly_fields = (
        "team",
        "filename",
        "sha256",
        "size",
        "source",
        "status",
        "rows",
        "new_patients",
        "already_imported",
        "rows_with_problems",
        "problems",
        "uploaded_by",
        "uploaded_at",
        "committed_by",
        "committed_at",
    )
