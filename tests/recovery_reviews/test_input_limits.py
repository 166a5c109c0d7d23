"""Input is bounded (docs/design.md, Access and audit): a field longer than FREE_TEXT_MAX_CHARS or a body larger than
DATA_UPLOAD_MAX_MEMORY_SIZE is refused with a page that says the limit, and nothing is saved; the one file the
product takes, a caseload CSV, is held to the same limit."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from careplans.models import Goal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 5, 1)


def goal(description):
    return {"domain": "drug_alcohol_use", "description": description, "progress": "not_started"}


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def test_a_field_past_the_limit_is_refused_saying_the_limit(signed_in, episode):
    response = signed_in.post(reverse("careplans:goal_new", args=[episode.pk]), goal("x" * 20_001))
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "The text in \u201cdescription\u201d is 20,001 characters long: the limit is 20,000 characters for any one "
        "field." in page
    )
    assert "Nothing was saved." in page
    assert not Goal.objects.exists()


def test_a_field_at_the_limit_is_saved(signed_in, episode):
    response = signed_in.post(reverse("careplans:goal_new", args=[episode.pk]), goal("x" * 20_000))
    assert response.status_code == 302
    assert len(Goal.objects.get().description) == 20_000


def test_a_note_of_megabytes_is_refused_as_too_large(signed_in, episode):
    response = signed_in.post(reverse("careplans:goal_new", args=[episode.pk]), goal("x" * 2_400_000))
    assert response.status_code == 413
    assert (
        "The form sent 2.3\xa0MB; the most the service accepts is 1.0\xa0MB; a caseload file larger than that is imported with manage.py import_caseload."
        in (response.content.decode())
    )
    assert not Goal.objects.exists()


def test_a_five_megabyte_upload_to_a_form_is_refused(signed_in, episode):
    upload = SimpleUploadedFile(
        "scan.pdf", b"%PDF" + b"0" * (5 * 1024 * 1024), content_type="application/pdf"
    )
    response = signed_in.post(
        reverse("careplans:goal_new", args=[episode.pk]), {**goal("A home of my own"), "file": upload}
    )
    assert response.status_code == 413
    assert (
        "the most the service accepts is 1.0\xa0MB; a caseload file larger than that is imported with manage.py import_caseload."
        in response.content.decode()
    )
    assert not Goal.objects.exists()
