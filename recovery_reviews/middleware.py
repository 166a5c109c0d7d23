"""Headers and session rules every signed-in response carries (docs/design.md, Access and audit).

- ``no_store``: a page or export shown to someone signed in holds patient data, so no browser or proxy may keep
  a copy of it (``Cache-Control: no-store``, and ``Pragma: no-cache`` for HTTP/1.0 caches), unless the view set
  its own Cache-Control. Static files are served by WhiteNoise before this runs and keep their caching.
- ``session_limits``: a session ends after SESSION_IDLE_TIMEOUT_MINUTES without a request (sliding) and, however
  busy, SESSION_COOKIE_AGE after signing in (Django's own expiry slides whenever the session is saved, so the
  absolute limit is held here); the sign-in page then says why.
- ``input_limits``: no form takes a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (413; the one file the product
  takes, a caseload CSV, is held to it too) or a field longer than FREE_TEXT_MAX_CHARS (400), each refused with a page that says the limit and that
  nothing was saved. Every form of every app is covered in one place, before any view or service runs.
- ``AuditlogMiddleware``: django-auditlog's, with the client's address read as the sign-in throttle reads it
  (recovery_reviews/login_throttle.py), not the left of X-Forwarded-For, which any client can write.
"""

import time

from auditlog.middleware import AuditlogMiddleware as _AuditlogMiddleware
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

from recovery_reviews.login_throttle import client_ip


def no_store(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response

    return middleware


SIGNED_IN_AT, LAST_SEEN_AT = "signed_in_at", "last_seen_at"
SEEN_RESOLUTION_SECONDS = 60  # the last request's time is saved at most once a minute, not on every request


def session_started(sender, request, user, **kwargs) -> None:
    """On signing in (user_logged_in, connected in apps.py), both times start now, saved with the sign-in
    itself, so that the next requests need no write of their own."""
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now


def session_limits(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            _hold_session_limits(request)
        return get_response(request)

    return middleware


def _hold_session_limits(request: HttpRequest) -> None:
    now = int(time.time())
    session = request.session
    signed_in_at = session.setdefault(SIGNED_IN_AT, now)
    last_seen_at = session.get(LAST_SEEN_AT, now)
    idle_minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
    if now - last_seen_at > idle_minutes * 60:
        reason = f"You were signed out after {_duration(idle_minutes * 60)} without activity. Sign in again."
    elif now - signed_in_at > settings.SESSION_COOKIE_AGE:
        reason = (
            f"You were signed out {_duration(settings.SESSION_COOKIE_AGE)} after signing in. Sign in again."
        )
    else:
        if now - last_seen_at >= SEEN_RESOLUTION_SECONDS or LAST_SEEN_AT not in session:
            session[LAST_SEEN_AT] = now
        return
    logout(request)  # a new, empty session; the page asked for then sends the person to sign in
    messages.info(request, reason)


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'' if hours == 1 else 's'}"
    minutes = max(seconds // 60, 1)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def input_limits(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        if request.method in ("POST", "PUT", "PATCH"):
            refusal = _refusal(request)
            if refusal:
                return refusal
        return get_response(request)

    return middleware


def _refusal(request: HttpRequest) -> HttpResponse | None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_big = (
        f"The form sent {filesizeformat(length)}; the most the service accepts is {filesizeformat(limit)}; "
        "a caseload file larger than that is imported with manage.py import_caseload."
    )
    if length > limit:
        return _refused(request, 413, too_big)
    try:
        fields = list(request.POST.lists())
    except RequestDataTooBig:
        return _refused(request, 413, too_big)
    most = settings.FREE_TEXT_MAX_CHARS
    for name, values in fields:
        longest = max((len(value) for value in values), default=0)
        if longest > most:
            label = name.rsplit("-", 1)[-1].replace("_", " ")
            return _refused(
                request,
                400,
                f"The text in \u201c{label}\u201d is {longest:,} characters long: the limit is {most:,} characters "
                "for any one field.",
            )
    return None


def _refused(request: HttpRequest, status: int, reason: str) -> HttpResponse:
    return render(request, "input_refused.html", {"reason": reason}, status=status)


class AuditlogMiddleware(_AuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request):
        return None if settings.AUDITLOG_DISABLE_REMOTE_ADDR else client_ip(request)
