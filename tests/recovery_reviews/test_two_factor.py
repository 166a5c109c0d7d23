"""Two-factor sign-in and passwords (docs/design.md, Access and audit): with OTP_REQUIRED (production's default) a
password alone reaches nothing but enrolment; enrolling an authenticator needs a code from it and gives ten
single-use recovery codes; a later sign-in needs a code, a wrong one is refused; the admin is behind it too. Every
person changes their own password; a manager (for their teams) or support makes a one-time reset link, and each of
these is in the audit log."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from recovery_reviews.models import Role
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def required(settings):
    settings.OTP_REQUIRED = True


def sign_in(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


def code_for(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def account_events(user):
    return [
        e.changes_dict["account"][1]
        for e in LogEntry.objects.filter(object_pk=str(user.pk))
        if "account" in (e.changes or {})
    ]


def test_a_password_alone_reaches_only_enrolment(client, required, alice):
    sign_in(client, alice)
    response = client.get(reverse("patients:caseload"))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_enrol"))
    assert client.get("/admin/").url.startswith(reverse("two_factor_enrol"))
    page = client.get(reverse("two_factor_enrol")).content.decode()
    assert 'data-testid="qr-code"' in page and "<svg" in page and 'data-testid="totp-key"' in page


def test_enrolling_needs_a_code_from_the_app_and_gives_recovery_codes(client, required, alice):
    sign_in(client, alice)
    client.get(reverse("two_factor_enrol"))
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    wrong = client.post(
        reverse("two_factor_enrol"), {"code": "000000" if code_for(device) != "000000" else "111111"}
    )
    assert "That code does not match" in wrong.content.decode()
    assert "<title>Error: " in wrong.content.decode()
    at_once = client.post(reverse("two_factor_enrol"), {"code": code_for(device)}).content.decode()
    assert "Too many wrong codes in a row" in at_once  # django-otp's throttle: each failure doubles the wait
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3)):
        page = client.post(reverse("two_factor_enrol"), {"code": code_for(device)}).content.decode()
        codes = page.split('data-testid="recovery-codes">')[1].split("</ul>")[0].count("<li>")
        assert codes == 10 and StaticToken.objects.filter(device__user=alice).count() == 10
        assert TOTPDevice.objects.get(pk=device.pk).confirmed
        assert client.get(reverse("patients:caseload")).status_code == 200
    assert account_events(alice) == ["second factor enrolled"]


@pytest.fixture
def enrolled(alice):
    return TOTPDevice.objects.create(user=alice, name="Authenticator app", confirmed=True)


def test_a_later_sign_in_needs_a_code_and_a_wrong_one_is_refused(client, required, alice, enrolled):
    sign_in(client, alice)
    assert client.get(reverse("patients:caseload")).url.startswith(reverse("two_factor_verify"))
    refused = client.post(reverse("two_factor_verify"), {"code": "12345a"})
    assert "That code is not right" in refused.content.decode()
    assert client.get(reverse("patients:caseload")).status_code == 302
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3)):
        response = client.post(
            f"{reverse('two_factor_verify')}?next=/patients/", {"code": code_for(enrolled)}
        )
        assert response.status_code == 302 and response.url == "/patients/"
        assert client.get(reverse("patients:caseload")).status_code == 200


def test_the_device_that_verified_the_session_is_read_again_on_every_request(
    client, required, alice, olga, enrolled
):
    """The session names its device (django-otp); each request reads it (recovery_reviews/two_factor.py,
    through compiled SQL): once it is removed, unconfirmed or given to someone else, the session is not verified
    and the next page asks for a code again."""
    sign_in(client, alice)
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3)):
        client.post(reverse("two_factor_verify"), {"code": code_for(enrolled)})
    caseload = reverse("patients:caseload")
    assert client.get(caseload).status_code == 200
    TOTPDevice.objects.filter(pk=enrolled.pk).update(user=olga)
    assert client.get(caseload).url.startswith(reverse("two_factor_enrol"))  # hers no longer: enrol one
    TOTPDevice.objects.filter(pk=enrolled.pk).update(user=alice)
    assert client.get(caseload).url.startswith(reverse("two_factor_verify"))  # the session forgot it: a code
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=35)):  # the next code: one is used once
        client.post(reverse("two_factor_verify"), {"code": code_for(enrolled)})
    assert client.get(caseload).status_code == 200
    TOTPDevice.objects.filter(pk=enrolled.pk).update(confirmed=False)
    assert client.get(caseload).status_code == 302
    TOTPDevice.objects.filter(pk=enrolled.pk).update(confirmed=True)
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=67)):
        client.post(reverse("two_factor_verify"), {"code": code_for(enrolled)})
    assert client.get(caseload).status_code == 200
    enrolled.delete()
    assert client.get(caseload).status_code == 302


def test_a_recovery_code_signs_in_once(client, required, alice, enrolled):
    from django_otp.plugins.otp_static.models import StaticDevice

    device = StaticDevice.objects.create(user=alice, name="Recovery codes")
    device.token_set.create(token="abcd2345")
    sign_in(client, alice)
    client.post(reverse("two_factor_verify"), {"code": "abcd2345"})
    assert client.get(reverse("patients:caseload")).status_code == 200
    client.post(reverse("logout"))
    sign_in(client, alice)
    assert (
        "That code is not right"
        in client.post(reverse("two_factor_verify"), {"code": "abcd2345"}).content.decode()
    )


def test_a_next_that_leaves_the_site_is_not_followed(client, required, alice, enrolled):
    sign_in(client, alice)
    response = client.post(
        f"{reverse('two_factor_verify')}?next=//evil.example/", {"code": code_for(enrolled)}
    )
    assert response.url == "/"


def test_without_otp_required_the_demo_signs_in_with_a_password(client, settings, alice):
    settings.OTP_REQUIRED = False
    sign_in(client, alice)
    assert client.get(reverse("patients:caseload")).status_code == 200


def test_everyone_changes_their_own_password_and_it_is_logged(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a new long passphrase 42",
            "new_password2": "a new long passphrase 42",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a new long passphrase 42")
    assert account_events(alice) == ["password changed"]
    refused = client.post(
        reverse("password_change"), {"old_password": "wrong", "new_password1": "x", "new_password2": "y"}
    )
    assert "Error: " in refused.content.decode()


def test_a_manager_makes_a_one_time_reset_link_for_their_teams_people(client, mona, alice, olga):
    client.force_login(mona)
    people = client.get(reverse("account_people")).content.decode()
    assert "Alice Keyworker" in people and "Olga" not in people
    assert client.post(reverse("account_reset_link", args=[olga.pk])).status_code == 404
    page = client.post(reverse("account_reset_link", args=[alice.pk])).content.decode()
    link = page.split('data-testid="reset-link">')[1].split("<")[0]
    assert account_events(alice) == ["password reset link made"]
    client.logout()
    form = client.get(link, follow=True)
    assert 'data-testid="password-reset"' in form.content.decode()
    set_url = form.redirect_chain[-1][0] if form.redirect_chain else link
    client.post(
        set_url, {"new_password1": "reset passphrase 2026!", "new_password2": "reset passphrase 2026!"}
    )
    alice.refresh_from_db()
    assert alice.check_password("reset passphrase 2026!")
    assert "password set with a reset link" in account_events(alice)
    again = client.get(link, follow=True).content.decode()
    assert 'data-testid="reset-link-invalid"' in again  # it works once


def test_keyworkers_make_no_reset_links(client, alice, sam):
    client.force_login(alice)
    assert client.get(reverse("account_people")).status_code == 403
    assert client.post(reverse("account_reset_link", args=[sam.pk])).status_code == 404


def test_support_resets_anyone_but_themselves(client, alice):
    sue = UserFactory(username="sue", role=Role.SUPPORT, team=None)
    client.force_login(sue)
    assert client.post(reverse("account_reset_link", args=[sue.pk])).status_code == 404
    assert client.post(reverse("account_reset_link", args=[alice.pk])).status_code == 200
