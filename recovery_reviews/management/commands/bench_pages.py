"""Benchmark: the managers' pages and a keyworker's caseload, through Django's test client, against whatever
database DATABASE_URL names (the target: p95 under 300 ms on the 300,000-patient database from seed_england, and the
same number of queries there as at 3,000), and the caseload's search for a manager of every team (the target: p95 under
100 ms) by part of a name, given and family name parts, an NHS-number prefix and a whole NHS number.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_scale .venv/bin/python manage.py bench_pages

For each page: one warm-up request, then --requests timed ones; prints the median and 95th percentile in
milliseconds, the number of SQL queries of one request and the size of the page. The deep page of the overdue
list starts --deep rows in (its cursor is found once, before timing). --search-only times the searches alone.
"""

import gc
import statistics
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from recovery_reviews.models import User
from reviews.dashboards import status as dashboard

P95_TARGET_MS = 300
SEARCH_P95_TARGET_MS = 100
SEARCHES = ["smith", "jo smi", "9990"]  # and a whole NHS number that exists, found when the command runs


class Command(BaseCommand):
    help = "Time the dashboard, the overdue list (first and deep page), timeliness and a caseload."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=50)
        parser.add_argument("--manager", default="mgr.scale", help="A manager of every team.")
        parser.add_argument("--keyworker", default="kw.scale")
        parser.add_argument("--deep", type=int, default=10_000, help="Rows into the overdue list.")
        parser.add_argument("--search-only", action="store_true", help="Time only the caseload's searches.")

    def handle(self, *args, requests, manager, keyworker, deep, search_only, **options):
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        users = {name: User.objects.filter(username=name).first() for name in (manager, keyworker)}
        missing = [name for name, user in users.items() if user is None]
        if missing:
            raise CommandError(
                f"No user {', '.join(missing)}: seed the database first (manage.py seed_england)."
            )
        from patients.models import Patient

        self.stdout.write(
            f"{connection.vendor}: {Patient.objects.count():,} patients; {requests} requests a page"
        )
        pages = [
            (manager, "dashboard, all teams", "/reviews/dashboard/"),
            (manager, "overdue list, first page", "/reviews/list/?status=overdue"),
            (manager, f"overdue list, {deep:,} rows in", self._deep_page(users[manager], deep)),
            (manager, "first-review timeliness", "/reviews/timeliness/"),
            (keyworker, "keyworker's caseload", "/patients/"),
            (manager, "workload forecast", "/reviews/forecast/"),
            (manager, "unmet-need register", "/reviews/unmet-needs/"),
        ]
        team = users[keyworker].team_id
        pages += [
            (manager, "dashboard, one team", f"/reviews/dashboard/?team={team}"),
            (manager, "outcomes, one team", f"/reviews/outcomes/?team={team}"),
        ]
        searches = [
            (manager, f'caseload search "{text}"', f"/patients/?{urlencode({'q': text})}")
            for text in SEARCHES
        ]
        number = self._nhs_number()
        if number:
            searches.append((manager, "caseload search, an NHS number", f"/patients/?q={number}"))
        pages = searches if search_only else pages + searches
        clients = {}
        for name, user in users.items():
            clients[name] = Client()
            clients[name].force_login(user)
        gc.freeze()  # as recovery_reviews/wsgi.py does once the application is loaded
        self.stdout.write(f"{'page':34} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'KB':>6}")
        over, search_over = [], []
        for who, label, url in pages:
            median, p95, queries, size = self._measure(clients[who], url, requests)
            searching = (who, label, url) in searches
            flag = "" if p95 < (SEARCH_P95_TARGET_MS if searching else P95_TARGET_MS) else "  over target"
            if flag:
                (search_over if searching else over).append(label)
            self.stdout.write(f"{label:34} {median:10.1f} {p95:8.1f} {queries:8d} {size / 1024:6.0f}{flag}")
        if not search_only:
            self.stdout.write(
                f"p95 target {P95_TARGET_MS} ms: " + (f"missed by {', '.join(over)}" if over else "met")
            )
        self.stdout.write(
            f"search p95 target {SEARCH_P95_TARGET_MS} ms: "
            + (f"missed by {', '.join(search_over)}" if search_over else "met")
        )

    def _nhs_number(self) -> str:
        """A whole NHS number that exists, halfway through the patients (the same one on every run)."""
        from patients.models import Patient

        numbered = Patient.objects.exclude(nhs_number="").order_by("pk")
        last = numbered.last()
        if last is None:
            return ""
        return numbered.filter(pk__gte=last.pk // 2).values_list("nhs_number", flat=True).first()

    def _deep_page(self, user, deep: int) -> str:
        episodes = dashboard.review_list(user, today=timezone.localdate(), status="overdue")
        sort = dashboard.SORTS[dashboard.DEFAULT_SORT]
        row = episodes.order_by(*sort.order_by())[deep : deep + 1].first()
        if row is None:
            return "/reviews/list/?status=overdue"
        return f"/reviews/list/?status=overdue&after={sort.cursor_for(row)}"

    def _measure(self, client: Client, url: str, requests: int):
        response = client.get(url)  # warm-up
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        size, query_count = len(response.content), len(queries)  # read now: the next request clears the log
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        return statistics.median(timings), p95, query_count, size
