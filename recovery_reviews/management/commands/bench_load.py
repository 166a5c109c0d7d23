"""Load benchmark: N signed-in sessions, keyworkers and managers, each asking for pages without pause for S seconds
against a server already running on this machine; prints requests a second, the median and 95th percentile of
each page, and every error (anything but a 200, a redirect to the sign-in page included).

    DJANGO_SECRET_KEY=<the server's> DATABASE_URL=<the server's> .venv/bin/python manage.py bench_load \\
        --url http://127.0.0.1:8011 --sessions 44 --managers 4 --seconds 60

It starts no server and leaves nothing behind. The sessions are opened without passwords, straight in the
server's session store, for existing users of the database (seed_england's or seed_demo's): keyworkers with a
caseload, managers with teams, as many people as there are sessions while there are enough of them. So no
password is needed or set, and neither the sign-in throttle nor a second factor stands in the way: each session
is marked as verified by a second factor through a device made for the run that holds no codes. Each person's
audit log records that bench_load opened a session for them. The sessions and the devices are removed at the
end, after an error or Ctrl-C too. The session cookies are signed with DJANGO_SECRET_KEY: run it with the
server's key and database.

A keyworker cycles through the caseload, a patient page of their own caseload and the inbox; a manager through
the dashboard, the overdue list, the workload forecast and a caseload search by family name.
"""

import os
import time
from importlib import import_module
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

from patients.models import Patient
from recovery_reviews.audit import record_account_event
from recovery_reviews.env import env_bool
from recovery_reviews.management import load
from recovery_reviews.middleware import LAST_SEEN_AT, SIGNED_IN_AT
from recovery_reviews.models import Role, User

MODEL_BACKEND = "recovery_reviews.auth_backend.ModelBackend"
DEVICE_NAME = "bench_load session (no codes)"
PATIENT_PAGES_PER_KEYWORKER = 20
SEARCHES_PER_MANAGER = 10
BOUNDS = {"sessions": (1, 200), "seconds": (1, 600), "timeout": (1, 120)}


class Command(BaseCommand):
    help = (
        "Drive N signed-in sessions (keyworkers and managers) without pause against a server on this machine "
        "for S seconds; print requests a second, the median and p95 of each page, and every error."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="The server: 127.0.0.1 or localhost."
        )
        parser.add_argument("--sessions", type=int, default=44, help="Concurrent sessions, 1 to 200.")
        parser.add_argument(
            "--managers",
            type=int,
            default=None,
            help="How many of the sessions are managers'; by default one in eleven (4 of 44).",
        )
        parser.add_argument("--seconds", type=int, default=60, help="How long to drive them, 1 to 600.")
        parser.add_argument("--timeout", type=int, default=30, help="Seconds to wait for one page, 1 to 120.")

    def handle(self, *args, url, sessions, managers, seconds, timeout, **options):
        try:
            target = load.parse_target(url)
        except load.TargetError as error:
            raise CommandError(str(error)) from None
        for name, value in (("sessions", sessions), ("seconds", seconds), ("timeout", timeout)):
            low, high = BOUNDS[name]
            if not low <= value <= high:
                raise CommandError(f"--{name} must be between {low} and {high}; it was {value}.")
        if managers is None:
            managers = sessions // 11
        if not 0 <= managers <= sessions:
            raise CommandError(
                f"--managers must be between 0 and --sessions ({sessions}); it was {managers}."
            )
        if not os.environ.get("DJANGO_SECRET_KEY") and not env_bool("DJANGO_DEBUG", default=False):
            # Then the settings made a throwaway key for this command alone (recovery_reviews/settings.py).
            raise CommandError(
                "With DJANGO_DEBUG off, run bench_load with the server's DJANGO_SECRET_KEY: it signs the "
                "sessions' cookies, and the server accepts only those signed with its own key."
            )
        if MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS:
            raise CommandError(f"bench_load signs sessions in with {MODEL_BACKEND}, which the settings lack.")
        people = choose_people(keyworkers=sessions - managers, managers=managers)
        opened = OpenedSessions()
        try:
            visitors = [
                load.Visitor(who=f"{label} {user.username}", cookie=opened.open(user), pages=pages, start=i)
                for i, (label, user, pages) in enumerate(people)
            ]
            self._check(target, visitors, timeout)
            self.stdout.write(
                f"bench_load: {describe(people)} against {target.url} for {seconds} s, without pause"
            )
            results = load.drive(
                target, visitors, seconds=seconds, timeout=timeout, login_path=reverse(settings.LOGIN_URL)
            )
        finally:
            opened.close()
        load.report(results, visitors, self.stdout.write)
        if results.interrupted:
            raise CommandError("Interrupted: the figures above are for the time it ran.")

    def _check(self, target: load.Target, visitors: list[load.Visitor], timeout: int) -> None:
        """Every session's first page once, untimed: the server is there and accepts every session."""
        login_path = reverse(settings.LOGIN_URL)
        for visitor in visitors:
            outcome = load.check(target, visitor, timeout=timeout, login_path=login_path)
            if outcome.status is None:
                raise CommandError(
                    f"Nothing answers at {target.url} ({outcome.error}): start the server first; bench_load "
                    "does not start one."
                )
            if outcome.error is not None:
                hint = ""
                if "sign-in page" in outcome.error:
                    hint = " Run bench_load with the server's DJANGO_SECRET_KEY and DATABASE_URL."
                raise CommandError(
                    f"Before the run, {visitor.who}'s first page answered {outcome.status}: {outcome.error}.{hint}"
                )


def choose_people(*, keyworkers: int, managers: int) -> list[tuple[str, User, list[load.Page]]]:
    """Each session's person and pages: keyworkers with a caseload, lowest id first, and managers with the most
    teams first; a person has more than one session only when there are fewer people than sessions."""
    people = []
    if keyworkers:
        with_caseload = Exists(Patient.objects.filter(keyworker=OuterRef("pk")))
        chosen = list(
            User.objects.filter(with_caseload, role=Role.KEYWORKER, is_active=True).order_by("pk")[
                :keyworkers
            ]
        )
        if not chosen:
            raise CommandError("No active keyworker with a caseload: seed the database first (seed_england).")
        mixes = [keyworker_pages(user) for user in chosen]
        people += [("keyworker", chosen[i % len(chosen)], mixes[i % len(chosen)]) for i in range(keyworkers)]
    if managers:
        chosen = list(
            User.objects.filter(role=Role.MANAGER, is_active=True)
            .annotate(teams=Count("managed_teams"))
            .filter(teams__gt=0)
            .order_by("-teams", "pk")[:managers]
        )
        if not chosen:
            raise CommandError("No active manager with a team: seed the database first (seed_england).")
        mixes = [manager_pages(user) for user in chosen]
        people += [("manager", chosen[i % len(chosen)], mixes[i % len(chosen)]) for i in range(managers)]
    return people


def keyworker_pages(user: User) -> list[load.Page]:
    """The caseload, a patient page of their own caseload (a different one each time round) and the inbox."""
    patients = list(
        Patient.objects.filter(keyworker=user)
        .order_by("pk")
        .values_list("pk", flat=True)[:PATIENT_PAGES_PER_KEYWORKER]
    )
    caseload = load.Page("caseload", reverse("patients:caseload"))
    inbox = load.Page("inbox", reverse("reviews:inbox"))
    pages = []
    for pk in patients:
        pages += [caseload, load.Page("patient page", reverse("patients:detail", args=[pk])), inbox]
    return pages


def manager_pages(user: User) -> list[load.Page]:
    """The dashboard, the overdue list, the workload forecast and a caseload search for a family name of one of
    their teams' patients (a different one each time round)."""
    names = Patient.objects.filter(team__in=user.managed_teams.all()).order_by("pk")
    names = sorted(set(names.values_list("family_name", flat=True)[: SEARCHES_PER_MANAGER * 20]))
    names = names[:SEARCHES_PER_MANAGER] or ["Smith"]
    caseload = reverse("patients:caseload")
    fixed = [
        load.Page("dashboard", reverse("reviews:dashboard")),
        load.Page("overdue list", reverse("reviews:list") + "?status=overdue"),
        load.Page("forecast", reverse("reviews:forecast")),
    ]
    pages = []
    for name in names:
        pages += [*fixed, load.Page("caseload search", f"{caseload}?{urlencode({'q': name})}")]
    return pages


def describe(people) -> str:
    counts = {}
    for label, user, _ in people:
        sessions, users = counts.setdefault(label, (0, set()))
        users.add(user.pk)
        counts[label] = (sessions + 1, users)
    return ", ".join(
        f"{n} {label} session{'s' if n > 1 else ''} ({len(users)} {'person' if len(users) == 1 else 'people'})"
        for label, (n, users) in counts.items()
    )


class OpenedSessions:
    """The sessions (and the devices that mark them as having passed a second factor) made for the run, each
    noted as soon as it exists so that close() removes every one, whatever stopped the run."""

    def __init__(self):
        self.engine = import_module(settings.SESSION_ENGINE)
        self.keys: list[str] = []
        self.devices: dict[int, StaticDevice] = {}

    def open(self, user: User) -> str:
        device = self.devices.get(user.pk)
        if device is None:
            device = StaticDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
            self.devices[user.pk] = device
            record_account_event(user, by=user, event="session opened by bench_load for a load test")
        now = int(time.time())
        session = self.engine.SessionStore()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = MODEL_BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[SIGNED_IN_AT] = now
        session[LAST_SEEN_AT] = now
        session.create()
        self.keys.append(session.session_key)
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def close(self) -> None:
        for key in self.keys:
            self.engine.SessionStore(session_key=key).delete()
        StaticDevice.objects.filter(pk__in=[d.pk for d in self.devices.values()]).delete()
        self.keys, self.devices = [], {}
