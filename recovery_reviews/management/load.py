"""bench_load's client: signed-in sessions that each ask for pages one after another without pause, in threads,
over keep-alive connections (http.client), against a server on this machine; and its figures (requests a second,
the median and 95th percentile of each page, every error).

Nothing here touches the database: the command opens and closes the sessions (commands/bench_load.py).
"""

from __future__ import annotations

import http.client
import math
import re
import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOCAL_HOSTS = ("127.0.0.1", "localhost")
ERROR_TEXT_CHARS = 160
NO_ANSWER_PAUSE_SECONDS = 0.5


class TargetError(ValueError):
    """The URL is not one bench_load may drive: only a server on this machine, over plain HTTP."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def parse_target(url: str) -> Target:
    """http://127.0.0.1[:port] or http://localhost[:port], nothing else: the load driver must not be pointed at
    someone else's server."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise TargetError(f"{url!r} is not a URL ({error}): give e.g. http://127.0.0.1:8000.") from None
    if parts.scheme != "http":
        raise TargetError(
            f"{url!r}: bench_load speaks plain HTTP to a server on this machine; give http://127.0.0.1:<port>."
        )
    if parts.hostname not in LOCAL_HOSTS or parts.username or parts.password:
        raise TargetError(
            f"{url!r}: bench_load only drives a server on this machine, at 127.0.0.1 or localhost "
            f"(e.g. http://127.0.0.1:8000), never another host."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise TargetError(f"{url!r}: give the server's root only, e.g. http://127.0.0.1:8000 (no path).")
    return Target(host=parts.hostname, port=port or 80)


@dataclass(frozen=True)
class Page:
    label: str
    path: str


@dataclass
class Visitor:
    """One signed-in session: its cookie and the pages it cycles through, starting at `start`."""

    who: str
    cookie: str
    pages: list[Page]
    start: int = 0


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no answer (refused, reset, timed out)
    error: str | None  # None: a 200


@dataclass
class Results:
    """Timings of the answered requests by page; errors by page and, for the list, by (status, page, first
    line), each with the URLs it came from."""

    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    unanswered: Counter = field(default_factory=Counter)
    errors_by_page: Counter = field(default_factory=Counter)
    errors: dict[tuple[str, str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    elapsed: float = 0.0
    interrupted: bool = False

    @property
    def answered(self) -> int:
        return sum(len(t) for t in self.timings.values())

    def record(self, page: Page, milliseconds: float, outcome: Outcome) -> None:
        if outcome.status is None:
            self.unanswered[page.label] += 1
        else:
            self.timings[page.label].append(milliseconds)
        if outcome.error is not None:
            self.errors_by_page[page.label] += 1
            status = "-" if outcome.status is None else str(outcome.status)
            self.errors[(status, page.label, outcome.error)][page.path] += 1


def fetch(connection: http.client.HTTPConnection, path: str, cookie: str, login_path: str) -> Outcome:
    """GET one page on a kept-alive connection (http.client opens a new one when the server closed it) and read
    it to the end. Anything but a 200 is an error, described by its first line of text or where it redirects."""
    headers = {"Cookie": cookie, "Accept": "text/html", "User-Agent": "bench_load"}
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return Outcome(status=None, error=f"{type(error).__name__}: {error}"[:ERROR_TEXT_CHARS])
    if response.status == 200:
        return Outcome(status=200, error=None)
    location = response.getheader("Location")
    if location is not None:
        note = ""
        if urlsplit(location).path.startswith(login_path):
            note = " (the sign-in page: the server did not accept the session)"
        elif location.startswith("https://"):
            note = " (the server redirects to HTTPS: run it with DJANGO_SECURE_SSL_REDIRECT=0)"
        return Outcome(status=response.status, error=f"redirects to {location}{note}"[:ERROR_TEXT_CHARS])
    return Outcome(status=response.status, error=first_line(body))


def first_line(body: bytes) -> str:
    """The first line of text of a page (its title, usually), without the markup."""
    text = re.sub(r"<[^>]*>", "\n", body[:20_000].decode("utf-8", "replace"))
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())[:ERROR_TEXT_CHARS]
    return "(an empty page)"


def check(target: Target, visitor: Visitor, *, timeout: float, login_path: str) -> Outcome:
    """One untimed request, before the run: is the server there, and does it accept the session?"""
    connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    try:
        return fetch(
            connection, visitor.pages[visitor.start % len(visitor.pages)].path, visitor.cookie, login_path
        )
    finally:
        connection.close()


def drive(
    target: Target, visitors: list[Visitor], *, seconds: float, timeout: float, login_path: str
) -> Results:
    """Every visitor in its own thread, asking for its next page as soon as the last one is read, until `seconds`
    have passed; a request already sent then is waited for (at most `timeout`). After no answer at all (refused,
    reset, timed out) a session waits half a second before its next request. Ctrl-C stops every thread after
    its current request and returns what was measured, marked interrupted."""
    results = Results()
    lock = threading.Lock()
    stop = threading.Event()
    started = time.monotonic()
    deadline = started + seconds

    def session(visitor: Visitor) -> None:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        turn = visitor.start
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                page = visitor.pages[turn % len(visitor.pages)]
                turn += 1
                began = time.perf_counter()
                outcome = fetch(connection, page.path, visitor.cookie, login_path)
                milliseconds = (time.perf_counter() - began) * 1000
                with lock:
                    results.record(page, milliseconds, outcome)
                if outcome.status is None:
                    stop.wait(NO_ANSWER_PAUSE_SECONDS)  # the server is gone or full: do not spin
        finally:
            connection.close()

    threads = [
        threading.Thread(target=session, args=(v,), name=f"bench_load-{i}", daemon=True)
        for i, v in enumerate(visitors)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        results.interrupted = True
        for thread in threads:
            thread.join(timeout + 1)
    results.elapsed = time.monotonic() - started
    return results


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of values sorted ascending."""
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def report(results: Results, visitors: list[Visitor], write) -> None:
    """The table of pages in the order the sessions first name them (the median and p95 of the requests that
    were answered), the rate of answered requests, and every error: identical ones together, with how many and
    from which URLs."""
    write(f"{'page':18} {'requests':>9} {'errors':>7} {'median ms':>10} {'p95 ms':>8}")
    labels = dict.fromkeys(page.label for visitor in visitors for page in visitor.pages)
    everything = []
    for label in [*labels, "all pages"]:
        if label == "all pages":
            ordered, errors = sorted(everything), sum(results.errors_by_page.values())
            unanswered = sum(results.unanswered.values())
        else:
            ordered, errors = sorted(results.timings.get(label, [])), results.errors_by_page[label]
            unanswered = results.unanswered[label]
            everything += ordered
        times = (
            f"{statistics.median(ordered):10.0f} {percentile(ordered, 0.95):8.0f}"
            if ordered
            else f"{'-':>10} {'-':>8}"
        )
        write(f"{label:18} {len(ordered) + unanswered:9,} {errors:7,} {times}")
    rate = results.answered / results.elapsed if results.elapsed else 0.0
    unanswered = sum(results.unanswered.values())
    write(
        f"requests a second: {rate:.1f} ({results.answered:,} answered in {results.elapsed:.1f} s "
        f"from {len(visitors)} sessions"
        + (f"; {unanswered:,} got no answer" if unanswered else "")
        + (", interrupted" if results.interrupted else "")
        + ")"
    )
    if not results.errors:
        write("errors: none")
        return
    write(f"errors: {sum(results.errors_by_page.values()):,}")
    for (status, label, text), paths in sorted(results.errors.items(), key=lambda item: -item[1].total()):
        count, (path, _) = paths.total(), paths.most_common(1)[0]
        where = path if len(paths) == 1 else f"{path} and {len(paths) - 1} more {label} URLs"
        write(f"  {status} {where}: {text}" + (f"  (x{count:,})" if count > 1 else ""))
