"""Who has seen this record (docs/design.md, Access and audit): for one patient, every view, change and export of
their record in the audit log, with who, when and from where, newest first, and as CSV. For the managers of the
patient's team and for information governance (who see the log, never the record). Reading the log is itself
logged on it."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path

from patients.models import Patient
from patients.validators import normalise_nhs_number, validate_nhs_number
from recovery_reviews.audit import patient_history, record_access, record_export
from recovery_reviews.csv_export import streaming_csv_writer
from recovery_reviews.models import Role

SHOWN = 500


def _may_read_log(user, patient: Patient) -> bool:
    if user.role == Role.INFORMATION_GOVERNANCE:
        return True
    return user.role == Role.MANAGER and user.managed_teams.filter(pk=patient.team_id).exists()


def _readers(user) -> None:
    if user.role not in (Role.INFORMATION_GOVERNANCE, Role.MANAGER):
        raise PermissionDenied(
            "Access logs are for information governance and the managers of a patient's team."
        )


def describe(entry) -> str:
    """What the entry records, in words: viewed a page, changed fields, exported, matched at registration."""
    changes = entry.changes_dict if entry.changes else {}
    if entry.action == entry.Action.ACCESS:
        if "registration_match" in changes:
            return f"Registering someone, typed details that matched this patient ({changes['registration_match'][1]})"
        if "export" in changes:
            return f"Exported {changes['export'][1]}"
        if "list" in changes:
            return f"Saw them in a list ({changes['list'][1]})"
        where = changes.get("path", [None, ""])[1]
        return f"Viewed {entry.content_type.name}" + (f" ({where})" if where else "")
    verb = {
        entry.Action.CREATE: "Recorded",
        entry.Action.UPDATE: "Changed",
        entry.Action.DELETE: "Deleted",
    }.get(entry.action, "Changed")
    fields = ", ".join(sorted(changes)) if entry.action == entry.Action.UPDATE and changes else ""
    return f"{verb} {entry.content_type.name}" + (f": {fields}" if fields else "")


def access_log(request, pk):
    _readers(request.user)
    patient = get_object_or_404(Patient.objects.select_related("team"), pk=pk)
    if not _may_read_log(request.user, patient):
        raise Http404("No such patient in the teams you manage.")
    entries = patient_history(patient.pk)
    if request.GET.get("format") == "csv":
        record_export(request, f"access log of patient {patient.pk}")
        writer = streaming_csv_writer()

        def rows():
            yield writer.writerow(["When", "Who", "Role", "What", "From"])
            for entry in entries.iterator(chunk_size=2000):
                actor = entry.actor
                yield writer.writerow(
                    [
                        entry.timestamp.isoformat(timespec="seconds"),
                        actor.get_full_name() or actor.username if actor else "the system",
                        actor.get_role_display() if actor else "",
                        describe(entry),
                        entry.remote_addr or "",
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="access-log-{patient.pk}.csv"'
        return response
    record_access(request, patient)
    shown = list(entries[:SHOWN])
    for entry in shown:
        entry.described = describe(entry)
    return render(
        request,
        "recovery_reviews/access_log.html",
        {"patient": patient, "entries": shown, "more": entries.count() > SHOWN},
    )


class AccessLogSearchForm(forms.Form):
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=20,
        validators=[validate_nhs_number],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_nhs_number(self) -> str:
        return normalise_nhs_number(self.cleaned_data["nhs_number"])


def access_log_search(request):
    """Find a patient's access log by NHS number: for information governance across the service, for a manager
    within the teams they manage. A number that cannot be one (its length, its check digit) is said so."""
    _readers(request.user)
    form = AccessLogSearchForm(request.GET or None)
    found = None
    if form.is_valid():
        candidates = Patient.objects.filter(nhs_number=form.cleaned_data["nhs_number"]).select_related("team")
        found = next((p for p in candidates if _may_read_log(request.user, p)), None)
    return render(
        request,
        "recovery_reviews/access_log_search.html",
        {"form": form, "searched": form.is_valid(), "found": found},
    )


urlpatterns = [
    path("access-logs/", access_log_search, name="access_log_search"),
    path("access-logs/patients/<int:pk>/", access_log, name="access_log"),
]
