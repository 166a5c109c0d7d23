"""No copy of patient data kept by a browser or a proxy (docs/design.md, Access and audit): every response to
someone signed in, page or export, says Cache-Control: no-store, unless the view set its own; static files keep
their caching."""

from datetime import date

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from recovery_reviews.middleware import no_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 5, 1)


def assert_not_stored(response):
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_the_caseload_and_a_patients_record_are_not_stored(client, alice, patient):
    client.force_login(alice)
    assert_not_stored(client.get(reverse("patients:caseload")))
    assert_not_stored(client.get(reverse("patients:detail", args=[patient.pk])))


def test_csv_exports_are_not_stored(client, mona):
    client.force_login(mona)
    response = client.get(reverse("reviews:unmet_needs_csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert_not_stored(response)
    streamed = client.get(reverse("reviews:list_csv"))
    assert streamed.streaming
    assert_not_stored(streamed)


def test_a_page_for_someone_signed_out_is_left_alone(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert not response.has_header("Pragma")


def test_static_files_keep_their_caching(client, alice, settings):
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True  # as on the demo (DEBUG on)
    client.force_login(alice)
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_view_that_sets_its_own_cache_control_keeps_it(alice):
    request = RequestFactory().get("/")
    request.user = alice
    response = no_store(lambda request: HttpResponse(headers={"Cache-Control": "private, max-age=60"}))(
        request
    )
    assert response["Cache-Control"] == "private, max-age=60"
    assert not response.has_header("Pragma")
