"""Every page carries a Content-Security-Policy that allows no inline script or style, and a Permissions-Policy
that turns off devices and sensors (docs/design.md, Access and audit); no template writes a script or a style
inline. The browser tests run every page under the policy."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(response) -> dict:
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))


def test_the_sign_in_page_and_a_record_carry_the_content_security_policy(client, alice, patient):
    assert directives(client.get(reverse("login"))) == POLICY
    client.force_login(alice)
    assert directives(client.get(reverse("patients:detail", args=[patient.pk]))) == POLICY


def test_pages_turn_off_devices_and_sensors(client, alice):
    client.force_login(alice)
    policy = client.get(reverse("patients:caseload"))["Permissions-Policy"]
    features = dict(item.split("=") for item in policy.split(", "))
    assert features["camera"] == features["microphone"] == features["geolocation"] == "()"
    assert features["payment"] == features["usb"] == "()"


def page_templates():
    return sorted(p for p in TEMPLATES.rglob("*.html") if "emails" not in p.parts)


@pytest.mark.parametrize("template", page_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_writes_a_script_or_a_style_inline(template):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "an inline <script>: move it to static/js/"
    assert "<style" not in text, "a <style> block: move it to static/css/app.css"
    assert not re.search(r"\sstyle=", text), "a style attribute: give it a class in static/css/app.css"
    assert not re.search(r"\son[a-z]+=", text), (
        "an inline event handler: add the listener in static/js/app.js"
    )
    assert "javascript:" not in text
