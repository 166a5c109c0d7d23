"""The caseload import's pages, for managers (docs/design.md, Interoperability): upload a file and see its dry
run, read every problem (on the page, or as CSV), import it, and download the template. An upload of a team the
manager does not manage is a 404, as any record outside one's scope is."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from interop.caseload_import import services
from interop.caseload_import.columns import COLUMNS
from interop.caseload_import.forms import CaseloadUploadForm
from interop.caseload_import.models import CaseloadImport, ImportStatus
from patients.models import Medicine, Substance
from recovery_reviews.access import team_ids_for_user
from recovery_reviews.audit import record_export
from recovery_reviews.csv_export import csv_writer
from recovery_reviews.models import Role

PROBLEMS_SHOWN = 500


def managers_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.role != Role.MANAGER:
            raise PermissionDenied("A manager imports a caseload, into the teams they manage.")
        return view(request, *args, **kwargs)

    return wrapper


def _upload_for(user, pk) -> CaseloadImport:
    return get_object_or_404(
        CaseloadImport.objects.select_related("team", "uploaded_by", "committed_by"),
        pk=pk,
        team_id__in=team_ids_for_user(user),
    )


@managers_only
def upload(request):
    form = CaseloadUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        filename, content = form.cleaned_data["file"]
        checked = services.caseload_import_upload(
            content=content, filename=filename, team=form.cleaned_data["team"], by=request.user
        )
        unreadable = [p for p in checked.problems if p["line"] is None or p["line"] == 1]
        if not unreadable:
            return redirect(checked)
        for problem in unreadable:
            form.add_error("file", f"{problem['what']} {problem['fix']}")
    recent = CaseloadImport.objects.filter(team_id__in=team_ids_for_user(request.user)).select_related(
        "team", "uploaded_by"
    )[:10]
    return render(
        request,
        "interop/caseload_import/upload.html",
        {
            "form": form,
            "columns": COLUMNS,
            "substances": Substance.choices,
            "medicines": Medicine.choices,
            "recent": recent,
        },
    )


@managers_only
def result(request, pk):
    checked = _upload_for(request.user, pk)
    return render(
        request,
        "interop/caseload_import/result.html",
        {
            "upload": checked,
            "problems": checked.problems[:PROBLEMS_SHOWN],
            "more_problems": max(len(checked.problems) - PROBLEMS_SHOWN, 0),
            "ready": checked.status == ImportStatus.READY,
        },
    )


@managers_only
@require_POST
def commit(request, pk):
    checked = _upload_for(request.user, pk)
    try:
        checked = services.caseload_import_commit(upload=checked, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(checked)
    if checked.status == ImportStatus.COMMITTED:
        messages.success(
            request,
            f"Imported {checked.new_patients} new patient{'s' if checked.new_patients != 1 else ''} into "
            f"{checked.team}, each with their open episode and next review; {checked.already_imported} already "
            "imported were left as they are.",
        )
    else:
        messages.error(request, "The file was checked again and has problems now: nothing was imported.")
    return redirect(checked)


@managers_only
def problems_csv(request, pk):
    checked = _upload_for(request.user, pk)
    record_export(request, f"problems of caseload import {checked.pk} ({checked.filename})")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="caseload-import-{checked.pk}-problems.csv"'
    response.write("\ufeff")  # so that Excel opens it as UTF-8
    writer = csv_writer(response)
    writer.writerow(["Line", "Column", "What is wrong", "How to fix it"])
    for problem in checked.problems:
        writer.writerow([problem["line"] or "", problem["column"], problem["what"], problem["fix"]])
    return response


@managers_only
def template_csv(request):
    """The header and one example row, so that a service sees the format (the example is no one)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="caseload-import-template.csv"'
    response.write("\ufeff")
    writer = csv_writer(response)
    writer.writerow([c.name for c in COLUMNS])
    writer.writerow([c.example for c in COLUMNS])
    return response
