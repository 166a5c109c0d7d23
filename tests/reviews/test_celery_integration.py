"""A real Celery worker on a real Redis, against the test PostgreSQL database: reminders arrive, and after
the broker and the worker are killed and brought back, every reminder arrives once and none twice.

The test runs its own redis-server on port 6390, so that stopping it never touches the machine's Redis."""

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from recovery_reviews.celery import app as celery_app
from reviews.models import InboxItem, Reminder
from reviews.services.schedule import episode_schedule_refresh
from reviews.tasks import sweep_reminders
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PORT = 6390
BROKER = f"redis://127.0.0.1:{PORT}/0"


def start_redis(workdir: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_for(
        lambda: (
            subprocess.run(["redis-cli", "-p", str(PORT), "ping"], capture_output=True).stdout == b"PONG\n"
        )
    )
    return process


def start_worker(mail_dir: Path, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "recovery_reviews", "worker", "--pool", "solo", "-l", "INFO"],
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        cwd=settings.BASE_DIR,
    )


def wait_for(condition, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def trigger_sweep():
    with celery_app.connection_for_write(BROKER) as conn:
        sweep_reminders.apply_async(connection=conn)


def due_episode(team, keyworker, lead, entered_days_ago):
    episode = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=keyworker),
        entry_date=timezone.localdate() - timedelta(days=entered_days_ago),
        lead_practitioner=lead,
    )
    episode_schedule_refresh(episode)
    return episode


@pytest.fixture
def stack(tmp_path):
    """Start and always stop what the test starts."""
    processes = {"redis": start_redis(tmp_path), "worker": None}
    yield processes, tmp_path
    for process in processes.values():
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
    shutil.rmtree(tmp_path / "mail", ignore_errors=True)


def test_reminders_arrive_once_through_a_worker_and_survive_broker_and_worker_outages(
    stack, team, alice, sam
):
    processes, tmp = stack
    mail_dir, log = tmp / "mail", tmp / "worker.log"
    processes["worker"] = start_worker(mail_dir, log)

    due_episode(team, alice, sam, entered_days_ago=85)  # first review due soon: alice and sam
    trigger_sweep()
    wait_for(lambda: InboxItem.objects.count() == 2, timeout=60)
    wait_for(lambda: len(list(mail_dir.glob("*.log"))) == 2)

    # The broker goes down and the worker is killed; meanwhile another review becomes overdue.
    subprocess.run(["redis-cli", "-p", str(PORT), "shutdown", "nosave"], capture_output=True)
    processes["redis"].wait(timeout=10)
    processes["worker"].send_signal(signal.SIGKILL)
    processes["worker"].wait(timeout=10)
    due_episode(team, alice, sam, entered_days_ago=200)  # past its 6-month deadline: overdue

    # Both come back; the next sweep sends what was missed, once.
    processes["redis"] = start_redis(tmp)
    processes["worker"] = start_worker(mail_dir, log)
    trigger_sweep()
    wait_for(lambda: InboxItem.objects.count() == 4, timeout=60)
    trigger_sweep()  # a second sweep (as beat would run) finds nothing new
    wait_for(
        lambda: (
            "Task reviews.tasks.sweep_reminders" in log.read_text()
            and log.read_text().count("succeeded") >= 4
        )
    )
    time.sleep(2)

    assert Reminder.objects.count() == 4
    assert Reminder.objects.filter(delivered_at__isnull=True).count() == 0
    assert InboxItem.objects.count() == 4
    assert len(list(mail_dir.glob("*.log"))) == 4
    assert sorted(Reminder.objects.values_list("stage", flat=True)) == [
        "due_soon",
        "due_soon",
        "overdue",
        "overdue",
    ]
