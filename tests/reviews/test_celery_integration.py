"""A real Celery worker on a real Redis, against the test PostgreSQL database (docs/reminders.md).

The sweep is sent through the broker and the worker delivers emails and inbox items. Then the worker is
killed (SIGKILL) while it is sending, and later Redis is shut down without saving while deliveries are queued;
each comes back, the next sweep (as beat would run it) sends what was missed, and every reminder has arrived
exactly once: one inbox item and one email each, counted by the reminder id each email carries in a header.

The test starts its own redis-server on a free port, so stopping it never touches the machine's Redis, and
stops whatever it started, whatever happens. The worker runs with tests/reviews/worker_settings.py: a slow
mail server (so a kill lands mid-send), and short leases and broker timeouts (so that well under a minute
is enough to see a lease lapse and Redis redeliver the killed worker's unacknowledged message).
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from recovery_reviews.celery import app as celery_app
from reviews.models import InboxItem, Reminder
from reviews.tasks import sweep_reminders
from tests.reviews import worker_settings
from tests.support.factories import EpisodeFactory, PatientFactory
from tests.support.schedule import store_schedule

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

HEADER = re.compile(rb"^X-Recovery-Reviews-Reminder: (\d+)$", re.MULTILINE)


def wait_for(condition, timeout=30, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    """The test's own redis-server and Celery worker, started and stopped by the test."""

    def __init__(self, tmp: Path):
        self.tmp, self.port = tmp, free_port()
        self.broker = f"redis://127.0.0.1:{self.port}/0"
        self.mail, self.sending, self.log = tmp / "mail", tmp / "sending", tmp / "worker.log"
        self.redis = self.worker = None
        self.starts = 0

    def redis_cli(self, *args) -> str:
        command = ["redis-cli", "-p", str(self.port), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()

    def start_redis(self):
        self.redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]
            + ["--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: self.redis_cli("ping") == "PONG", what="redis-server")

    def stop_redis(self):
        """SHUTDOWN NOSAVE: Redis goes, and every message queued in it with it."""
        self.redis_cli("shutdown", "nosave")
        self.redis.wait(timeout=10)

    def start_worker(self):
        db = connection.settings_dict
        password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.reviews.worker_settings",
            "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": self.broker,
            "EMAIL_FILE_PATH": str(self.mail),
        }
        command = [sys.executable, "-m", "celery", "-A", "recovery_reviews", "worker", "--pool", "solo"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
        with self.log.open("a") as log:
            self.worker = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
            )
        wait_for(
            lambda: self.log.exists() and self.log.read_text().count(" ready.") > self.starts,
            60,
            "the worker",
        )
        self.starts += 1

    def kill_worker(self):
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)

    def stop(self):
        for process in (self.worker, self.redis):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    def sweep(self):
        """What beat does every few minutes: send the sweep task through the broker."""
        with celery_app.connection_for_write(self.broker) as conn:
            sweep_reminders.apply_async(connection=conn)

    def task_results(self, name: str) -> dict[str, list[str]]:
        """For each task id of `name` in the worker log: what happened to it, in order (received, results)."""
        events: dict[str, list[str]] = {}
        pattern = rf"{name}\[([0-9a-f-]+)\] (received|succeeded in [0-9.]+s: (.*))$"
        for task_id, event, result in re.findall(pattern, self.log.read_text(), flags=re.MULTILINE):
            events.setdefault(task_id, []).append(result.strip("'") or event)
        return events

    def redelivered(self) -> list[list[str]]:
        """Delivery messages the broker gave twice: what happened to each."""
        return [e for e in self.task_results("deliver_reminder").values() if e.count("received") == 2]

    def emailed(self) -> Counter:
        """How many emails each reminder id has had."""
        return Counter(int(i) for f in self.mail.glob("*.log") for i in HEADER.findall(f.read_bytes()))

    def being_sent(self) -> set[int]:
        """Reminders whose email the slow mail server has begun and not yet accepted."""
        started = {int(p.name) for p in self.sending.glob("*")} if self.sending.exists() else set()
        return started - set(self.emailed())


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path)
    try:
        stack.start_redis()
        stack.start_worker()
        yield stack
    finally:
        stack.stop()


def reviews_owed(count, team, keyworker, lead, *, target_in_days, deadline_in_days):
    today = timezone.localdate()
    for _ in range(count):
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=keyworker), lead_practitioner=lead
        )
        store_schedule(
            episode,
            target=today + timedelta(days=target_in_days),
            deadline=today + timedelta(days=deadline_in_days),
            reasons=["A reason (§1.3)."],
        )


def delivered() -> int:
    return Reminder.objects.filter(delivered_at__isnull=False).count()


def test_every_reminder_arrives_once_through_a_killed_worker_and_a_lost_broker(stack, team, alice, sam, mona):
    # 1. Eight reviews due soon: sixteen reminders (alice, sam) through broker and worker.
    reviews_owed(8, team, alice, sam, target_in_days=7, deadline_in_days=90)
    stack.sweep()

    # 2. SIGKILL the worker while it is sending an email, a few reminders in.
    wait_for(lambda: len(stack.emailed()) >= 4 and stack.being_sent(), what="a delivery in flight")
    stack.kill_worker()
    in_flight = stack.being_sent()
    assert len(in_flight) == 1 and 4 <= delivered() < 16

    # 3. A new worker takes the queued deliveries. The killed one's reminder is leased by a dead worker and
    #    its message unacknowledged: Redis gives that message again after the visibility timeout (acks_late),
    #    and a sweep finds the reminder stranded once the lease has lapsed. Whichever comes first delivers
    #    it; the other finds it delivered.
    stack.start_worker()
    wait_for(lambda: delivered() >= 15, what="the queued deliveries")
    stack.sweep()
    wait_for(lambda: delivered() == 16, what="the killed worker's reminder")
    wait_for(lambda: [len(e) for e in stack.redelivered()] == [3], what="the redelivered message to run")
    assert stack.redelivered()[0][-1] in {"delivered", "skipped"}
    assert InboxItem.objects.count() == 16

    # 4. Five reviews overdue: fifteen reminders (alice, sam, mona). Redis goes while they are queued.
    reviews_owed(5, team, alice, sam, target_in_days=-200, deadline_in_days=-20)
    stack.sweep()
    # Every reminder claimed and every sweep finished (its deliveries published once it commits), and some
    # delivered: Redis must not go while a sweep is still publishing, or the publisher's retries put the
    # deliveries into the new Redis (the sweep can be two: an earlier sweep's message given again may claim some).
    wait_for(
        lambda: (
            Reminder.objects.count() == 31
            and all(len(e) == 2 for e in stack.task_results("sweep_reminders").values())
            and delivered() >= 19
        ),
        what="every overdue reminder claimed and published, some delivered",
    )
    stack.stop_redis()
    lost = 31 - delivered()
    stack.start_redis()
    assert lost > 0 and stack.redis_cli("llen", "celery") == "0"  # the queued deliveries went with Redis

    # 5. The worker reconnects; the next sweep, once the lost deliveries count as stranded (as beat's next
    #    sweeps would find them), sends what was missed, and one more finds nothing owed.
    time.sleep(worker_settings.REMINDER_REDELIVER_AFTER_SECONDS)
    stack.sweep()
    wait_for(lambda: delivered() == 31, timeout=60, what="the deliveries lost with Redis")
    stack.sweep()
    wait_for(
        lambda: [len(e) for e in stack.task_results("sweep_reminders").values()] == [2] * 5,
        what="the last sweep",
    )

    reminders = Reminder.objects.all()
    assert reminders.count() == 31
    assert sorted(Counter(r.stage for r in reminders).items()) == [("due_soon", 16), ("overdue", 15)]
    assert all(r.delivered_at and r.email_sent_at and r.last_error == "" for r in reminders)
    assert InboxItem.objects.count() == 31
    emails = stack.emailed()
    assert set(emails) == {r.pk for r in reminders} and set(emails.values()) == {1}
