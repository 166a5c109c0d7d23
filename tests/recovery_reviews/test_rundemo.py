"""rundemo, the README's first command: migrate, load demo data into an empty database, start a Celery worker
with beat, serve on 127.0.0.1, and stop the worker when the server stops. Tested without starting anything:
the web server, the seeder and the worker process are stand-ins that record what they were asked to do."""

import signal
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from recovery_reviews.management.commands import rundemo

pytestmark = pytest.mark.django_db


class FakeWorker:
    def __init__(self, command, *, stops_when_asked=True):
        self.command = command
        self.pid = 4242
        self.stops_when_asked = stops_when_asked
        self.returncode = None
        self.calls = []

    def poll(self):
        return self.returncode

    def terminate(self):
        self.calls.append("terminate")
        if self.stops_when_asked:
            self.returncode = 0

    def wait(self, timeout=None):
        self.calls.append(("wait", timeout))
        if self.returncode is None and timeout is not None:
            raise subprocess.TimeoutExpired(self.command, timeout)
        return self.returncode

    def kill(self):
        self.calls.append("kill")
        self.returncode = -9


@pytest.fixture
def stand_ins(monkeypatch):
    """Record call_command's inner commands and the worker; the web server 'runs' until Ctrl-C at once."""
    recorded = {"commands": [], "workers": [], "sweeps": 0, "sigterm_during_server": None}

    def fake_call_command(name, *args, **options):
        recorded["commands"].append((name, args, options))
        if name == "runserver":
            recorded["sigterm_during_server"] = signal.getsignal(signal.SIGTERM)
            raise SystemExit(0)  # what runserver does on Ctrl-C

    def fake_popen(command, **kwargs):
        worker = FakeWorker(command)
        recorded["workers"].append(worker)
        return worker

    def fake_sweep():
        recorded["sweeps"] += 1

    monkeypatch.setattr(rundemo, "call_command", fake_call_command)
    monkeypatch.setattr(rundemo.subprocess, "Popen", fake_popen)
    monkeypatch.setattr("reviews.tasks.sweep_reminders.delay", fake_sweep)
    return recorded


def run(*args):
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("rundemo", *args, stdout=out)
    return out.getvalue()


def names(recorded):
    return [name for name, _args, _options in recorded["commands"]]


def test_the_worker_is_celery_with_embedded_beat_from_this_python():
    command = rundemo.worker_command()
    assert command[:3] == [sys.executable, "-m", "celery"]
    assert command[3:6] == ["-A", "recovery_reviews", "worker"]
    assert "-B" in command
    assert command[command.index("--concurrency") + 1] == "1"
    assert command[command.index("--schedule") + 1] == str(settings.CELERY_BEAT_SCHEDULE_FILENAME)


def test_an_empty_database_is_migrated_seeded_and_served_with_a_worker(stand_ins):
    output = run()
    assert names(stand_ins) == ["migrate", "seed_demo", "runserver"]
    assert stand_ins["commands"][-1][1] == ("127.0.0.1:8000",)
    assert stand_ins["commands"][-1][2] == {"use_reloader": False}
    [worker] = stand_ins["workers"]
    assert worker.command == rundemo.worker_command()
    assert stand_ins["sweeps"] == 1
    assert "http://127.0.0.1:8000/" in output
    assert "recovery-demo-2026" in output
    assert "kw.north" in output and "mgr.north" in output and "sp.north" in output


def test_a_database_with_patients_is_not_seeded_again(stand_ins, patient):
    run()
    assert names(stand_ins) == ["migrate", "runserver"]


def test_no_seed_and_no_worker_start_only_the_web_server_on_the_chosen_port(stand_ins):
    output = run("--no-seed", "--no-worker", "--port", "8123")
    assert names(stand_ins) == ["migrate", "runserver"]
    assert stand_ins["commands"][-1][1] == ("127.0.0.1:8123",)
    assert stand_ins["workers"] == []
    assert stand_ins["sweeps"] == 0
    assert "http://127.0.0.1:8123/" in output


def test_the_worker_is_stopped_when_the_server_stops(stand_ins):
    run()
    [worker] = stand_ins["workers"]
    assert worker.calls == ["terminate", ("wait", rundemo.WORKER_STOP_SECONDS)]


def test_sigterm_stops_the_server_cleanly_while_it_runs_and_is_restored_after(stand_ins):
    before = signal.getsignal(signal.SIGTERM)
    run()
    assert stand_ins["sigterm_during_server"] is rundemo._exit_on_sigterm
    assert signal.getsignal(signal.SIGTERM) is before
    with pytest.raises(SystemExit):
        rundemo._exit_on_sigterm(signal.SIGTERM, None)


def test_a_worker_that_ignores_terminate_is_killed_after_the_timeout():
    worker = FakeWorker(["celery"], stops_when_asked=False)
    rundemo.worker_stop(worker, timeout=3)
    assert worker.calls == ["terminate", ("wait", 3), "kill", ("wait", None)]
    assert worker.returncode == -9


def test_a_worker_that_already_exited_is_left_alone():
    worker = FakeWorker(["celery"])
    worker.returncode = 1
    rundemo.worker_stop(worker)
    assert worker.calls == []


def test_without_the_seeder_an_empty_database_fails_with_a_clear_message(stand_ins, monkeypatch):
    monkeypatch.setattr(
        rundemo, "get_commands", lambda: {"migrate": "django.core", "runserver": "django.core"}
    )
    with pytest.raises(CommandError, match="seed_demo.*--no-seed"):
        call_command("rundemo", stdout=StringIO())
    assert names(stand_ins) == ["migrate"]
    assert stand_ins["workers"] == []
