"""The patient page offers the record as FHIR, and the link gives the file (docs/design.md, Interoperability)."""

import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_patient_page_links_to_the_fhir_download_and_it_is_the_patients_bundle(client, alice, episode):
    client.force_login(alice)
    page = client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    link = f'{reverse("fhir:patient", args=[episode.patient.pk])}?download=1'
    assert f'href="{link}" data-testid="fhir-download">download the record (FHIR)</a>' in page
    response = client.get(link)
    assert response["Content-Disposition"].startswith("attachment")
    bundle = json.loads(response.content)
    assert bundle["resourceType"] == "Bundle"
    patients = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert [p["name"][0]["family"] for p in patients] == [episode.patient.family_name]
