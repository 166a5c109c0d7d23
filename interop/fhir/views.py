"""GET /fhir/Patient/<pk>/: a patient's record as a FHIR R4 Bundle (docs/design.md, Interoperability), for whoever
may see the patient's page and no one else (patients/access.py: 404 outside their scope), audited as the pages
are: the read on the patient's access log, and the export on the exporter's. `?download=1` makes it a file."""

import json

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from interop.fhir.bundle import patient_bundle
from interop.fhir.selectors import patient_record
from recovery_reviews.audit import record_access, record_export

FHIR_JSON = "application/fhir+json; fhirVersion=4.0"


def export_description(patient) -> str:
    return f"FHIR R4 record of patient {patient.pk}"


def bundle_json(bundle: dict) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=2)


@require_GET
def patient_bundle_view(request, pk):
    record = patient_record(request.user, pk)
    record_access(request, record.patient)
    record_export(request, export_description(record.patient))
    bundle = patient_bundle(record, today=timezone.localdate(), generated_at=timezone.now())
    response = HttpResponse(bundle_json(bundle), content_type=f"{FHIR_JSON}; charset=utf-8")
    if request.GET.get("download") == "1":
        response["Content-Disposition"] = f'attachment; filename="{download_name(record.patient)}"'
    return response


def download_name(patient) -> str:
    """The file's name says whose record it is by our number, not by anything that identifies them."""
    return f"patient-{patient.pk}-fhir.json"
