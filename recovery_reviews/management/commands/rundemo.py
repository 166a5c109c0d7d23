"""One command from a fresh clone to the product running: migrations, demo data, a Celery worker with beat on
the configured broker (kombu's filesystem transport by default), and the web server on http://127.0.0.1:8000."""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from patients.models import Patient

DEMO_PASSWORD = "recovery-demo-2026"
DEMO_LOGINS = f"""\
Demo logins (password for all: {DEMO_PASSWORD})
  kw.north   keyworker, North          sp.north   senior practitioner, North
  mgr.north  manager of North          mgr.all    manager of North, South and East
  kw.south, sp.south, kw.east, sp.east: the other teams' staff     support: the admin (/admin/)"""

WORKER_STOP_SECONDS = 20


def worker_command() -> list[str]:
    """A Celery worker with embedded beat: one process is plenty for the demo and the embedded default."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "recovery_reviews",
        "worker",
        "-B",
        "--loglevel",
        "INFO",
        "--concurrency",
        "1",
        "--schedule",
        str(settings.CELERY_BEAT_SCHEDULE_FILENAME),
    ]


def worker_stop(worker: subprocess.Popen, timeout: float = WORKER_STOP_SECONDS) -> None:
    """Ask the worker to finish its task and stop (SIGTERM is Celery's warm shutdown); kill it if it will not."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _exit_on_sigterm(signum, frame):
    sys.exit(0)  # unwinds through runserver, so the worker is stopped in handle()'s finally


class Command(BaseCommand):
    help = "Migrate, load demo data if the database is empty, start a Celery worker with beat and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000", help="Port for the web server on 127.0.0.1 (8000).")
        parser.add_argument(
            "--no-seed", action="store_true", help="Do not load demo data into an empty database."
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the Celery worker and beat."
        )

    def handle(self, *args, port, no_seed, no_worker, **options):
        call_command("migrate", interactive=False, verbosity=1)
        if not no_seed and not Patient.objects.exists():
            if "seed_demo" not in get_commands():
                raise CommandError(
                    "The demo seeder (manage.py seed_demo) is not available, so there is no demo data to load. "
                    "Run with --no-seed to start on an empty database."
                )
            self.stdout.write("Loading demo data...")
            call_command("seed_demo")
        worker = None if no_worker else self.worker_start()
        previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        self.stdout.write(f"\nRecovery Reviews: http://127.0.0.1:{port}/\n{DEMO_LOGINS}\n")
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            signal.signal(signal.SIGTERM, previous_sigterm)
            if worker is not None:
                self.stdout.write("Stopping the Celery worker...")
                worker_stop(worker)

    def worker_start(self) -> subprocess.Popen:
        worker = subprocess.Popen(worker_command())
        self.stdout.write(f"Celery worker and beat started (pid {worker.pid}).")
        from reviews.tasks import sweep_reminders

        sweep_reminders.delay()  # the first sweep now, not a beat interval later
        return worker
