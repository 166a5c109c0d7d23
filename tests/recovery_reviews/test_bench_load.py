"""bench_load, the load driver: against the live test server it drives a keyworker's and a manager's pages and
prints the rate, a line per page and no errors; it drives only a server on this machine, within its bounds; and
it leaves no session or device behind, whether the run ends or fails."""

import io
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from auditlog.models import LogEntry
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_static.models import StaticDevice

from recovery_reviews.management import load
from tests.support.factories import EpisodeFactory, PatientFactory

KEYWORKER_PAGES = ("caseload", "patient page", "inbox")
MANAGER_PAGES = ("dashboard", "overdue list", "forecast", "caseload search")


@pytest.fixture
def caseload(team, alice, mona):
    """Alice's patients, each in treatment, in North, which Mona manages."""
    return [
        EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice, family_name=name))
        for name in ("Hollis", "Rowe", "Lister")
    ]


def bench(**options) -> str:
    out = io.StringIO()
    try:
        call_command("bench_load", stdout=out, **options)
    finally:
        print(out.getvalue())  # shown when a test fails
    return out.getvalue()


def assert_nothing_left():
    assert not Session.objects.exists()
    assert not StaticDevice.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_drives_each_page_and_reports_the_rate_without_errors(live_server, caseload, alice, mona):
    assert_nothing_left()
    # Long enough for the manager's one session to reach its four pages on a busy machine (the first dashboard
    # also counts the kept figures afresh); two seconds failed now and then.
    out = bench(url=live_server.url, sessions=2, managers=1, seconds=5)

    assert "1 keyworker session (1 person), 1 manager session (1 person)" in out
    rate = re.search(r"^requests a second: (\d+\.\d) \(([\d,]+) answered in ([\d.]+) s", out, re.M)
    assert rate, out
    assert float(rate.group(1)) > 0
    assert 5 <= float(rate.group(3)) < 5 + 30
    for page in KEYWORKER_PAGES + MANAGER_PAGES:
        row = re.search(rf"^{page} +(\d+) +0 +(\d+) +(\d+)$", out, re.M)
        assert row, f"no error-free line for {page}:\n{out}"
        assert int(row.group(1)) >= 1
        assert int(row.group(2)) <= int(row.group(3))  # median within p95
    total = re.search(r"^all pages +(\d+) +0 ", out, re.M)
    assert total and total.group(1) == rate.group(2)
    assert "errors: none" in out
    assert_nothing_left()
    opened = LogEntry.objects.filter(changes__icontains="session opened by bench_load")
    assert sorted(opened.values_list("object_pk", flat=True)) == sorted([str(alice.pk), str(mona.pk)])


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org:8000",
        "http://10.0.0.1:8000",
        "http://127.0.0.1.example.org:8000",
        "https://127.0.0.1:8000",
        "http://user:secret@127.0.0.1:8000",
        "http://127.0.0.1:8000/patients/",
        "127.0.0.1:8000",
    ],
)
def test_drives_only_a_server_on_this_machine(url):
    with pytest.raises(CommandError, match="127.0.0.1"):
        bench(url=url, seconds=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sessions": 0}, "--sessions must be between 1 and 200; it was 0"),
        ({"sessions": 201}, "--sessions must be between 1 and 200; it was 201"),
        ({"seconds": 0}, "--seconds must be between 1 and 600; it was 0"),
        ({"seconds": 601}, "--seconds must be between 1 and 600; it was 601"),
        ({"timeout": 121}, "--timeout must be between 1 and 120; it was 121"),
        ({"sessions": 2, "managers": 3}, r"--managers must be between 0 and --sessions \(2\); it was 3"),
        ({"managers": -1}, "--managers must be between 0 and --sessions"),
    ],
)
def test_bounds(options, message):
    with pytest.raises(CommandError, match=message):
        bench(url="http://127.0.0.1:8000", **options)


def test_no_server_is_an_error_and_leaves_nothing_behind(caseload):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(CommandError, match=f"Nothing answers at http://127.0.0.1:{port}.*start the server"):
        bench(url=f"http://127.0.0.1:{port}", sessions=2, managers=1, seconds=1)
    assert_nothing_left()


def test_an_empty_database_is_an_error(db):
    with pytest.raises(CommandError, match="No active keyworker with a caseload: seed the database"):
        bench(url="http://127.0.0.1:8000", sessions=1, managers=0, seconds=1)


class Failing(BaseHTTPRequestHandler):
    """A server whose pages fail as a broken or misconfigured one would."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/broken/":
            body = (
                b"<!DOCTYPE html>\n<html><head><title>Server Error (500)</title></head><body>x</body></html>"
            )
            self.send_response(500)
        else:
            body = b""
            self.send_response(302)
            self.send_header("Location", f"/login/?next={self.path}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_every_error_is_reported_with_its_status_url_and_first_line():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = load.parse_target(f"http://127.0.0.1:{server.server_address[1]}")
        pages = [load.Page("broken", "/broken/"), load.Page("caseload", "/patients/")]
        visitor = load.Visitor(who="keyworker", cookie="sessionid=x", pages=pages)
        results = load.drive(target, [visitor], seconds=1, timeout=5, login_path="/login/")
    finally:
        server.shutdown()
        server.server_close()
    lines = []
    load.report(results, [visitor], lines.append)

    out = "\n".join(lines)
    broken, redirected = results.errors_by_page["broken"], results.errors_by_page["caseload"]
    assert broken >= 1 and redirected >= 1
    assert re.search(rf"^broken +{broken} +{broken} ", out, re.M), out
    assert f"errors: {broken + redirected}" in out
    assert re.search(r"^  500 /broken/: Server Error \(500\)", out, re.M), out
    assert re.search(
        r"^  302 /patients/: redirects to /login/\?next=/patients/ \(the sign-in page: the server did not "
        r"accept the session\)",
        out,
        re.M,
    ), out
