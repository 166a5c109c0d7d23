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

The same holds for a long computation that writes as it goes (written_beside): its results are written on a
thread and connection of their own while the next ones are computed, so that the server's writing and Python's
computing overlap instead of taking turns.

Queries run on the readers' and the writer's connections are added to the caller's query log when it logs queries
(DEBUG, or a CaptureQueriesContext), so that counts of queries stay whole.
"""

import queue
from collections.abc import Callable, Iterable, Iterator
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


class _Abandoned(Exception):
    """Raised inside the writer when the computation feeding it failed: its transaction rolls back."""


_END = object()


def written_beside(items: Iterable, write: Callable[[Iterator], object]) -> object:
    """write(items), its result returned: where parallel_reads_apply, `items` (a generator, say, computing each
    item) is iterated on this thread while write() consumes them on a thread and connection of its own, in the
    order made; else write(items) runs here.

    write() should make its own transaction (it is the only thing on its connection). If the computation raises,
    write() sees _Abandoned raised by the iterator it was given (so that its transaction rolls back), and the
    computation's error is raised once the writer has stopped. If write() raises, the computation stops at its
    next item and write()'s error is raised."""
    if not parallel_reads_apply():
        return write(items)
    fed: queue.SimpleQueue = queue.SimpleQueue()

    def consumed() -> Iterator:
        while (item := fed.get()) is not _END:
            if item is _Abandoned:
                raise _Abandoned
            yield item

    logged = connection.queries_logged
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer") as pool:
        future = pool.submit(_on_own_connection, lambda: write(consumed()), logged)
        try:
            for item in items:
                if future.done():  # the writer failed: its error is raised below
                    break
                fed.put(item)
        except BaseException:
            fed.put(_Abandoned)
            future.exception()  # wait for the rollback; the computation's error is the one to raise
            raise
        fed.put(_END)
        result, queries = future.result()
    if logged:
        connection.queries_log.extend(queries)
    return result
