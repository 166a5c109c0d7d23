"""Sessions end (docs/design.md, Access and audit): after SESSION_IDLE_TIMEOUT_MINUTES (30) without a request,
the time sliding with each request, and SESSION_COOKIE_AGE (8 hours) after signing in however busy; the sign-in
page then says why."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

pytestmark = pytest.mark.django_db

SIGNED_IN = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
IDLE_MESSAGE = "You were signed out after 30 minutes without activity. Sign in again."


def test_the_defaults_are_thirty_minutes_idle_inside_eight_hours(settings):
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60


def test_each_request_within_thirty_minutes_keeps_the_session(client, alice):
    with time_machine.travel(SIGNED_IN, tick=False) as clock:
        client.force_login(alice)
        for _ in range(4):  # two hours in all, never more than 29 minutes apart
            response = client.get(reverse("patients:caseload"))
            assert response.status_code == 200
            clock.shift(timedelta(minutes=29))
        assert client.get(reverse("patients:caseload")).status_code == 200


def test_thirty_one_minutes_without_a_request_signs_out_and_the_sign_in_page_says_why(client, alice):
    with time_machine.travel(SIGNED_IN, tick=False) as clock:
        client.force_login(alice)
        assert client.get(reverse("patients:caseload")).status_code == 200
        clock.shift(timedelta(minutes=31))
        response = client.get(reverse("patients:caseload"), follow=True)
    assert response.redirect_chain == [(f"{reverse('login')}?next={reverse('patients:caseload')}", 302)]
    assert IDLE_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_busy_session_still_ends_at_the_absolute_limit(client, alice, settings):
    settings.SESSION_COOKIE_AGE = 60 * 60
    with time_machine.travel(SIGNED_IN, tick=False) as clock:
        client.force_login(alice)
        for _ in range(3):  # 0, 20 and 40 minutes
            assert client.get(reverse("patients:caseload")).status_code == 200
            clock.shift(timedelta(minutes=20))
        assert client.get(reverse("patients:caseload")).status_code == 200  # at 60 minutes
        clock.shift(timedelta(minutes=2))
        response = client.get(reverse("patients:caseload"), follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "You were signed out 1 hour after signing in. Sign in again." in response.content.decode()


def test_the_idle_time_is_a_setting(client, alice, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 10
    with time_machine.travel(SIGNED_IN, tick=False) as clock:
        client.force_login(alice)
        assert client.get(reverse("patients:caseload")).status_code == 200
        clock.shift(timedelta(minutes=11))
        response = client.get(reverse("patients:caseload"), follow=True)
    assert "You were signed out after 10 minutes without activity." in response.content.decode()


def test_the_session_store_loads_a_live_session_and_no_expired_or_unknown_one(client, alice):
    """recovery_reviews/sessions.py reads the session through compiled SQL: a session past its expiry date, or a key
    the store does not hold, is no session (the person is signed out), as Django's own store reads it."""
    from django.contrib.sessions.models import Session

    from recovery_reviews.sessions import SessionStore

    client.force_login(alice)
    key = client.cookies["sessionid"].value
    assert SessionStore(key).load()["_auth_user_id"] == str(alice.pk)
    assert client.get(reverse("patients:caseload")).status_code == 200
    Session.objects.filter(session_key=key).update(expire_date=datetime.now(UTC) - timedelta(seconds=1))
    store = SessionStore(key)
    assert store.load() == {} and store.session_key is None
    assert client.get(reverse("patients:caseload")).status_code == 302
    assert SessionStore("no-such-session-key-0123456789abcdef").load() == {}
