"""Signing in: the login page, a wrong password, and django-axes' lock-out after repeated failures (settings:
AXES_FAILURE_LIMIT = 5 for a username; test_login_throttle.py has the address's limit and the proxies)."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.support.factories.UserFactory
WRONG_PASSWORD_MESSAGE = "Please enter a correct username and password"
LOCKED_OUT_MESSAGE = "Too many failed sign-in attempts"


def sign_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_the_login_page_shows_the_sign_in_form(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert "Sign in" in page


def test_signing_in_takes_a_keyworker_to_their_caseload(client, alice):
    response = sign_in(client, "alice", PASSWORD, follow=True)
    assert response.redirect_chain[0] == (reverse("home"), 302)
    assert response.redirect_chain[-1][0] == reverse("patients:caseload")
    assert response.wsgi_request.user == alice


def test_signing_in_takes_a_manager_to_the_dashboard(client, mona):
    response = sign_in(client, "mona", PASSWORD, follow=True)
    assert response.redirect_chain[-1][0] == reverse("reviews:dashboard")


def test_signing_in_returns_to_the_page_that_asked_for_it(client, alice, patient):
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD, "next": f"/patients/{patient.pk}/"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/"


def test_a_wrong_password_shows_the_form_again_with_a_message(client, alice):
    response = sign_in(client, "alice", "not the password")
    assert response.status_code == 200
    assert WRONG_PASSWORD_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_limit_is_five_failures():
    assert settings.AXES_FAILURE_LIMIT == 5


def test_four_failures_still_allow_the_right_password(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert WRONG_PASSWORD_MESSAGE in sign_in(client, "alice", "wrong").content.decode()
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_five_failures_lock_the_account_out_with_the_locked_out_page(client, alice):
    responses = [sign_in(client, "alice", "wrong") for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert all(WRONG_PASSWORD_MESSAGE in r.content.decode() for r in responses[:-1])
    locked = responses[-1]
    assert locked.status_code == 429
    assert LOCKED_OUT_MESSAGE in locked.content.decode()
    assert AccessAttempt.objects.get(username="alice").failures_since_start == settings.AXES_FAILURE_LIMIT


def test_once_locked_out_even_the_right_password_is_refused(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong")
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert LOCKED_OUT_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lock_out_holds_one_username_and_not_a_colleague_at_the_same_address(client, alice, sam):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong")
    response = sign_in(client, "sam", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(sam.pk)
