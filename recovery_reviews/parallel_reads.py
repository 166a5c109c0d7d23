"""Independent reads run at once, each on a database connection of its own, for the nightly recompute of
docs/design.md, Review scheduling policy.

A bulk read is two kinds of work taking turns: the database's (planning, scanning, sending rows) and Python's
(turning the rows into objects). One after another on one connection, each waits for the other. On a thread of
its own with its own connection, one read's rows are turned into objects while the server works on another's;
Python's share stays one at a time (the GIL), the server's runs beside it.

Only where that changes nothing: on PostgreSQL, outside any transaction. Outside a transaction every statement is
its own snapshot anyway, so reads on other connections see what they would have seen on this one; inside one they
would not see what it has written (tests run in one), so there, and on SQLite, the reads run in turn on the
caller's connection, in the order given. A read that fails fails the whole: the first error is raised once every
read has stopped, and every connection opened here is closed.

Queries run on the readers' connections are added to the caller's query log when it logs queries (DEBUG, or a
CaptureQueriesContext), so that counts of queries stay whole.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, connections

READERS = 4  # threads; the longest reads should come first in the dict given


def parallel_reads_apply() -> bool:
    """Whether reads_at_once would run the reads on connections of their own (see the module's docstring)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def reads_at_once(reads: dict[str, Callable[[], object]], *, readers: int = READERS) -> dict[str, object]:
    """Each read called with no argument, its result under its name; at once where parallel_reads_apply, else in
    turn in the order given."""
    if not parallel_reads_apply() or readers < 2 or len(reads) < 2:
        return {name: read() for name, read in reads.items()}
    logged = connection.queries_logged
    with ThreadPoolExecutor(max_workers=min(readers, len(reads)), thread_name_prefix="reader") as pool:
        futures = {name: pool.submit(_on_own_connection, read, logged) for name, read in reads.items()}
    # Leaving the `with` waited for every read: none is still running on its connection when an error is raised.
    results = {}
    for name, future in futures.items():
        results[name], queries = future.result()
        if logged:
            connection.queries_log.extend(queries)
    return results


def _on_own_connection(read: Callable[[], object], logged: bool) -> tuple[object, list]:
    """In a reader thread: `read` on this thread's own connections, closed afterwards whatever happens."""
    try:
        connection.force_debug_cursor = logged
        connection.queries_log.clear()  # a thread runs several reads in turn: only this one's queries
        result = read()
        return result, list(connection.queries_log) if logged else []
    finally:
        connections.close_all()
