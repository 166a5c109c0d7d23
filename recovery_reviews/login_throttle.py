"""Who is signing in from where, and when to stop them trying (docs/design.md, Access and audit).

django-axes counts failed sign-ins. Two limits hold, within AXES_COOLOFF_MINUTES:

- a username's failures from any address (AXES_FAILURE_LIMIT, 5): guessing one person's password from many
  addresses is stopped;
- an address's failures for any usernames (AXES_ADDRESS_FAILURE_LIMIT, 20): trying one password against many
  accounts is stopped. It is higher because a team's office signs in from one address, and one colleague's
  typos must not lock out the rest of the team.

The address is the client's: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the address the
outermost of them saw, read from the right of X-Forwarded-For (what a client writes there itself, on the left,
is never believed). The audit log records the same address.
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: each trusted proxy appends the address it received the request from, so the
    client is the TRUSTED_PROXY_COUNT-th entry from the right."""
    proxies = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR")
    if not proxies:
        return remote
    forwarded = [
        hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()
    ]
    if not forwarded:
        return remote
    return forwarded[max(len(forwarded) - proxies, 0)]


class LoginThrottle(AxesDatabaseHandler):
    """axes' database handler with a limit for the username and another for the address.

    axes compares one count, get_failures, with one limit, AXES_FAILURE_LIMIT, both when a sign-in fails and
    before one is tried. This count reaches that limit exactly when the username's failures reach
    AXES_FAILURE_LIMIT or the address's reach AXES_ADDRESS_FAILURE_LIMIT (AXES_LOCKOUT_PARAMETERS is
    ["username", "ip_address"], in that order).
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        by_username, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        limit = settings.AXES_FAILURE_LIMIT
        return max(by_username, by_address * limit // settings.AXES_ADDRESS_FAILURE_LIMIT)
