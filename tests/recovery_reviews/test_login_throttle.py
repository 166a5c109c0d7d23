"""Sign-in throttling (docs/design.md, Access and audit): a username is locked after AXES_FAILURE_LIMIT failures
from any addresses; an address after AXES_ADDRESS_FAILURE_LIMIT failures for any usernames; the address is the
client's, read behind TRUSTED_PROXY_COUNT reverse proxies, and the audit log records the same one."""

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse

from recovery_reviews.login_throttle import client_ip

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.support.factories.UserFactory
LOCKED_OUT_MESSAGE = "Too many failed sign-in attempts"


def sign_in(client, username, password, address="198.51.100.7", **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def test_the_limits_are_five_for_a_username_and_twenty_for_an_address():
    assert (settings.AXES_FAILURE_LIMIT, settings.AXES_ADDRESS_FAILURE_LIMIT) == (5, 20)
    assert settings.TRUSTED_PROXY_COUNT == 0


def test_one_username_tried_from_many_addresses_is_locked_everywhere(client, alice):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong", address=f"203.0.113.{n + 1}")
    response = sign_in(client, "alice", PASSWORD, address="192.0.2.99")
    assert response.status_code == 429
    assert LOCKED_OUT_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_one_password_tried_against_many_accounts_locks_the_address(client, alice):
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        sign_in(client, f"someone{n}", "Summer2026!")
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert LOCKED_OUT_MESSAGE in response.content.decode()
    assert sign_in(client, "alice", PASSWORD, address="192.0.2.99").status_code == 302  # alice elsewhere


def test_a_colleagues_typos_at_the_same_address_do_not_lock_the_team_out(client, alice, sam):
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        sign_in(client, f"typo{n}", "wrong")
    assert sign_in(client, "sam", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        (0, "", "10.0.0.2"),
        (0, "203.0.113.5", "10.0.0.2"),  # no proxy trusted: the header is the client's own claim
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # what the client wrote itself, on the left, is ignored
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (2, "203.0.113.5", "203.0.113.5"),
        (1, "", "10.0.0.2"),
    ],
)
def test_the_clients_address_is_read_behind_the_trusted_proxies(settings, proxies, forwarded, address):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **headers)
    assert client_ip(request) == address


def test_behind_a_proxy_each_client_is_throttled_by_its_own_address(client, settings, alice):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        sign_in(client, f"someone{n}", "wrong", address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")
    locked = sign_in(client, "alice", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    other = sign_in(client, "alice", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert other.status_code == 302


def test_the_audit_log_records_the_clients_address_not_a_forged_header(client, settings, alice, patient):
    settings.TRUSTED_PROXY_COUNT = 1
    client.force_login(alice)
    response = client.get(
        reverse("patients:detail", args=[patient.pk]),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5",
    )
    assert response.status_code == 200
    addresses = set(LogEntry.objects.filter(actor=alice).values_list("remote_addr", flat=True))
    assert addresses == {"203.0.113.5"}
