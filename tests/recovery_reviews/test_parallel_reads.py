"""Independent reads at once, each on its own connection, and writes beside a computation, only where that changes nothing
(recovery_reviews.parallel_reads; docs/design.md, Review scheduling policy)."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from recovery_reviews.models import Team
from recovery_reviews.parallel_reads import parallel_reads_apply, reads_at_once, written_beside


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 1")
        return cursor.fetchone()[0]


def _where() -> tuple[int, int]:
    return threading.get_ident(), _backend_pid()


def _open_backends(pids) -> int:
    """How many of these server processes are still there, given a moment to end (a backend leaves
    pg_stat_activity just after its client has closed the connection)."""
    for _ in range(50):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)])
            count = cursor.fetchone()[0]
        if count == 0:
            break
        time.sleep(0.05)
    return count


@pytest.mark.django_db
def test_inside_a_transaction_the_reads_run_in_turn_on_this_connection_and_see_what_it_wrote():
    Team.objects.create(name="Written in this transaction, not committed")
    order = []

    def read(name):
        order.append(name)
        return _where(), Team.objects.filter(name__startswith="Written").count()

    assert not parallel_reads_apply()
    results = reads_at_once({name: (lambda name=name: read(name)) for name in ("a", "b", "c")})
    assert order == ["a", "b", "c"]
    assert {where for where, _ in results.values()} == {_where()}
    assert [seen for _, seen in results.values()] == [1, 1, 1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_read_runs_on_a_connection_of_its_own_closed_afterwards():
    Team.objects.create(name="Committed")
    assert parallel_reads_apply()
    started = threading.Barrier(3, timeout=10)

    def read():
        started.wait()  # all three running at the same time, or the barrier breaks and the test fails
        return _where(), list(Team.objects.values_list("name", flat=True))

    results = reads_at_once(dict.fromkeys(("a", "b", "c"), read), readers=3)
    main = _where()
    threads = {where[0] for where, _ in results.values()}
    pids = {where[1] for where, _ in results.values()}
    assert len(threads) == 3 and main[0] not in threads
    assert len(pids) == 3 and main[1] not in pids
    assert [names for _, names in results.values()] == [["Committed"]] * 3
    assert _open_backends(pids) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_read_that_fails_fails_the_whole_after_every_other_read_has_stopped():
    finished, pids = [], []

    def slow():
        pids.append(_backend_pid())
        time.sleep(0.3)
        finished.append("slow")
        return "slow"

    def broken():
        pids.append(_backend_pid())
        raise ValueError("the read failed")

    with pytest.raises(ValueError, match="the read failed"):
        reads_at_once({"broken": broken, "slow": slow})
    assert finished == ["slow"]
    assert len(pids) == 2 and _open_backends(pids) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_queries_of_the_readers_are_counted_in_the_callers_log():
    def read():
        return Team.objects.count()

    with CaptureQueriesContext(connection) as queries:
        reads_at_once({"a": read, "b": read, "c": read, "d": read, "e": read}, readers=2)
    assert len(queries) == 5  # each once, though each of the two threads ran several reads
    assert all("recovery_reviews_team" in query["sql"] for query in queries)

    with transaction.atomic(), CaptureQueriesContext(connection) as in_turn:
        reads_at_once({"a": read, "b": read, "c": read})
    assert len(in_turn) == 3


def _teams_written(names, seen: list):
    """A writer for written_beside: each name a team, in one transaction; where it ran and what it was given."""
    with transaction.atomic():
        for name in names:
            seen.append((name, _where()))
            Team.objects.create(name=name)
    return len(seen)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_writes_run_beside_the_computing_on_a_connection_of_their_own():
    seen, computed = [], []
    first_written = threading.Event()

    def computed_names():
        for name in ("a", "b", "c"):
            computed.append(name)
            yield name
            if name == "a":  # the writer takes "a" while "b" is still to be computed
                assert first_written.wait(timeout=10)

    def write(names):
        done = 0
        for name in names:
            done = _teams_written([name], seen)
            first_written.set()
        return done

    with CaptureQueriesContext(connection) as queries:
        assert written_beside(computed_names(), write) == 3
    assert [name for name, _ in seen] == ["a", "b", "c"]
    writer = {where for _, where in seen}
    assert len(writer) == 1 and next(iter(writer)) != _where()
    assert _where()[0] != next(iter(writer))[0]
    assert sorted(Team.objects.values_list("name", flat=True)) == ["a", "b", "c"]  # committed
    assert (
        sum("recovery_reviews_team" in query["sql"] for query in queries) == 3
    )  # the writer's, counted here
    assert _open_backends([next(iter(writer))[1]]) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_computation_that_fails_rolls_the_writes_back_and_its_error_is_raised():
    seen = []

    def computed_names():
        yield "written, then rolled back"
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:  # the writer has written the first
            time.sleep(0.01)
        raise ValueError("the computation failed")

    with pytest.raises(ValueError, match="the computation failed"):
        written_beside(computed_names(), lambda names: _teams_written(names, seen))
    assert [name for name, _ in seen] == ["written, then rolled back"]
    assert not Team.objects.exists()
    assert _open_backends([seen[0][1][1]]) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_writer_that_fails_stops_the_computation_and_its_error_is_raised():
    computed = []

    def computed_names():
        for i in range(10_000):
            computed.append(i)
            yield i
            time.sleep(0.001)

    def write(names):
        with transaction.atomic():
            for name in names:
                Team.objects.create(name=str(name))
                if name == 2:
                    raise RuntimeError("the write failed")

    with pytest.raises(RuntimeError, match="the write failed"):
        written_beside(computed_names(), write)
    assert len(computed) < 10_000  # stopped early, not computed to the end
    assert not Team.objects.exists()


@pytest.mark.django_db
def test_inside_a_transaction_the_writes_run_here_in_turn():
    seen = []
    assert written_beside(iter(["a", "b"]), lambda names: _teams_written(names, seen)) == 2
    assert {where for _, where in seen} == {_where()}
    assert Team.objects.filter(name__in=["a", "b"]).count() == 2
