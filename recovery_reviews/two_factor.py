"""Two-factor sign-in (docs/design.md, Access and audit): a time-based one-time code (TOTP, RFC 6238) from an
authenticator app, with django-otp, for every account, the admin included. On by default in production
(settings.OTP_REQUIRED; off with DJANGO_DEBUG, so the demo signs in with a password alone).

After the password, a person without a confirmed authenticator enrols one (a QR code and the key to type, then a
code to confirm it) and is given ten single-use recovery codes, shown once; a person with one gives a code from it,
or a recovery code. Until then every page but these, signing out and the static files redirects here. django-otp
throttles wrong codes (each failure doubles the wait)."""

from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django_otp import login as otp_login
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from recovery_reviews.audit import record_account_event
from recovery_reviews.compiled_queries import CompiledQuery

RECOVERY_CODES = 10
THROTTLED = "Too many wrong codes in a row: wait a few seconds, then type the code the app shows then."
OPEN_WITHOUT_SECOND_FACTOR = ("/account/two-factor/", "/logout/", "/login/", "/static/", "/account/reset/")


# The device that verified the session, by kind: read on every request through SQL compiled once
# (recovery_reviews/compiled_queries.py).
_DEVICE_BY_ID = {
    kind: CompiledQuery(lambda device_id, kind=kind: kind.objects.filter(id=device_id).order_by("pk")[:1])
    for kind in (TOTPDevice, StaticDevice)
}


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's, reading the session's device as django-otp does (Device.from_persistent_id: its kind and id
    from the session, then the first device of that kind with that id), through compiled SQL for the two kinds
    the service has. django-otp still checks that the device is the person's and confirmed."""

    def _device_from_persistent_id(self, persistent_id: str):
        persistent_id = self._normalize_persistent_id(persistent_id)
        label, _, device_id = persistent_id.rpartition("/")
        kind = next((k for k in _DEVICE_BY_ID if k._meta.label_lower == label), None)
        if kind is None or not device_id.isdigit() or not 0 < int(device_id) < 2**63:
            return Device.from_persistent_id(persistent_id)  # anything else, as django-otp reads it
        found = _DEVICE_BY_ID[kind].run(device_id=int(device_id))
        return found[0] if found else None


def require_second_factor(get_response):
    """Middleware, after django-otp's: a signed-in person not verified with a second factor reaches only the
    enrolment and verification pages (and signing out) while settings.OTP_REQUIRED is on."""

    def middleware(request):
        user = request.user
        if (
            settings.OTP_REQUIRED
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(OPEN_WITHOUT_SECOND_FACTOR)
        ):
            enrolled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            target = reverse("two_factor_verify" if enrolled else "two_factor_enrol")
            return redirect(f"{target}?next={request.get_full_path()}")
        return get_response(request)

    return middleware


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6 digits your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _safe_next(request) -> str:
    target = request.GET.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else "/"


def enrol(request):
    """Enrol an authenticator: a new unconfirmed device each visit until one is confirmed with a code from it."""
    if (
        TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
        and not request.user.is_verified()
    ):
        return redirect("two_factor_verify")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("code", THROTTLED)
        elif device.verify_token(form.cleaned_data["code"].replace(" ", "")):
            device.confirmed = True
            device.save()
            otp_login(request, device)
            codes = _new_recovery_codes(request.user)
            record_account_event(request.user, by=request.user, event="second factor enrolled")
            return render(
                request, "registration/recovery_codes.html", {"codes": codes, "next": _safe_next(request)}
            )
        form.add_error(
            "code", "That code does not match: check the app shows Recovery Reviews, and try the new code."
        )
    uri = device.config_url
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "form": form,
            "qr": segno.make(uri, error="m").svg_inline(scale=4, title="QR code"),
            "key": _key(device),
        },
    )


def verify(request):
    """A code from the authenticator app (six digits), or a recovery code: each tried only against its own kind
    of device, so that using a recovery code does not count as a wrong app code (django-otp's throttle)."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"].replace(" ", "")
        kind = TOTPDevice if code.isdigit() else StaticDevice
        devices = list(kind.objects.filter(user=request.user, confirmed=True))
        if any(not device.verify_is_allowed()[0] for device in devices):
            form.add_error("code", THROTTLED)
        elif device := next((d for d in devices if d.verify_token(code)), None):
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = StaticToken.objects.filter(device=device).count()
                messages.warning(request, f"You signed in with a recovery code: {left} are left.")
            return redirect(_safe_next(request))
        else:
            form.add_error(
                "code", "That code is not right, or has been used. Wait for the next code and try again."
            )
    return render(request, "registration/two_factor_verify.html", {"form": form})


def _new_recovery_codes(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _key(device: TOTPDevice) -> str:
    """The device's key in base32, as authenticator apps ask for it typed, in groups of four."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


urlpatterns = [
    path("account/two-factor/enrol/", enrol, name="two_factor_enrol"),
    path("account/two-factor/verify/", verify, name="two_factor_verify"),
]
