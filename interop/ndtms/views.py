"""The manager's NDTMS return page and its download (docs/design.md, Interoperability): a period's return for one of
their teams, every record that cannot be sent listed with its reasons, the file for the records that can."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from interop.ndtms.fieldmaps import field_map
from interop.ndtms.forms import ConsentForm, ReturnForm, managers_only
from interop.ndtms.returns import NoAgencyCode, export_description, ndtms_return, record_return_export
from interop.ndtms.services import ndtms_consent_record
from patients.access import episodes_for_user, patient_for_user
from recovery_reviews.audit import record_access, record_export, record_list_access
from recovery_reviews.forms import add_service_errors

TEMPLATE = "interop/ndtms/return.html"


def _checked(request):
    """The bound, valid form and its return, or (form, None) with the form's errors."""
    form = ReturnForm(request.GET, user=request.user, today=timezone.localdate())
    if not form.is_valid():
        return form, None
    team, period = form.cleaned_data["team"], form.cleaned_data["month"]
    try:
        ret = ndtms_return(episodes=episodes_for_user(request.user), team=team, period=period)
    except NoAgencyCode as error:
        form.add_error("team", str(error))
        return form, None
    return form, ret


def _page(request, form, ret=None, status=200):
    fmap = field_map("P")
    return render(
        request,
        TEMPLATE,
        {"form": form, "ret": ret, "fmap": fmap, "query": request.GET.urlencode()},
        status=status,
    )


def return_page(request):
    managers_only(request.user)
    if not request.GET:
        return _page(request, ReturnForm(user=request.user, today=timezone.localdate()))
    form, ret = _checked(request)
    if ret is None:
        return _page(request, form, status=400)
    record_list_access(request, ret.withheld_patients.values())  # the records not sent are named on the page
    return _page(request, form, ret)


def download(request):
    managers_only(request.user)
    form, ret = _checked(request)
    if ret is None:
        return _page(request, form, status=400)
    what = export_description(ret, form.cleaned_data["team"])
    record_export(request, what)
    record_return_export(ret, what=what, actor=request.user, remote_addr=request.META.get("REMOTE_ADDR"))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ret.file_name}"'
    ret.write(response)
    return response


def consent(request, pk):
    """A patient's decisions about NDTMS sharing, and a new one recorded (by anyone who may see the patient)."""
    patient = patient_for_user(request.user, pk)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decision = ndtms_consent_record(patient=patient, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            said = "consents" if decision.consented else "does not consent"
            messages.success(request, f"Recorded: {patient} {said} to sharing their record with NDTMS.")
            return redirect("ndtms:consent", pk=patient.pk)
    record_access(request, patient)
    decisions = patient.ndtms_consents.select_related("recorded_by").order_by(
        "-decided_on", "-recorded_at", "-pk"
    )
    return render(
        request,
        "interop/ndtms/consent.html",
        {"patient": patient, "form": form, "decisions": decisions},
        status=400 if form.is_bound else 200,
    )
