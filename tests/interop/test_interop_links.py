"""The patient page offers the record as FHIR and its NDTMS consent, and a manager finds the NDTMS return and the
caseload import in the top bar (docs/design.md, Interoperability)."""

import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_patient_page_links_to_the_fhir_download_and_it_is_the_patients_bundle(client, alice, episode):
    client.force_login(alice)
    page = client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    link = f"{reverse('fhir:patient', args=[episode.patient.pk])}?download=1"
    assert f'href="{link}" data-testid="fhir-download">download the record (FHIR)</a>' in page
    response = client.get(link)
    assert response["Content-Disposition"].startswith("attachment")
    bundle = json.loads(response.content)
    assert bundle["resourceType"] == "Bundle"
    patients = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert [p["name"][0]["family"] for p in patients] == [episode.patient.family_name]


def test_a_manager_finds_the_return_and_the_import_in_the_top_bar_and_a_keyworker_does_not(
    client, mona, alice
):
    client.force_login(mona)
    page = client.get(reverse("reviews:dashboard")).content.decode()
    assert f'href="{reverse("ndtms:return")}" data-testid="ndtms-link">NDTMS return</a>' in page
    assert (
        f'href="{reverse("caseload_import:upload")}" data-testid="caseload-import-link">Import a caseload</a>'
        in page
    )
    client.force_login(alice)
    page = client.get(reverse("patients:caseload")).content.decode()
    assert "ndtms-link" not in page and "caseload-import-link" not in page


def test_the_patient_page_links_to_the_patients_ndtms_consent(client, alice, episode):
    client.force_login(alice)
    page = client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    consent = reverse("ndtms:consent", args=[episode.patient.pk])
    assert f'href="{consent}" data-testid="ndtms-consent-link">NDTMS consent</a>' in page
    assert client.get(consent).status_code == 200
