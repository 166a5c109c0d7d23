"""One command from a fresh clone to the product running: migrations, demo data, a Celery worker with beat on
the configured broker (kombu's filesystem transport by default), and the web server on http://127.0.0.1:8000."""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from patients.models import Patient

DEMO_LOGINS = """\
Demo logins (password for all: recovery-demo-2026)
  kw.north   keyworker, North          sp.north   senior practitioner, North
  mgr.north  manager of North          mgr.all    manager of North, South and East
  kw.south, sp.south, kw.east, sp.east: the other teams' staff     support: the admin (/admin/)"""


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


class Command(BaseCommand):
    help = "Migrate, load demo data if the database is empty, start a Celery worker with beat and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")
        parser.add_argument(
            "--no-seed", action="store_true", help="Do not load demo data into an empty database."
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the Celery worker and beat."
        )

    def handle(self, *args, port, no_seed, no_worker, **options):
        call_command("migrate", interactive=False, verbosity=1)
        if not no_seed and not Patient.objects.exists():
            self.stdout.write("Loading demo data...")
            call_command("seed_demo")
        worker = None
        if not no_worker:
            worker = subprocess.Popen(worker_command())
            self.stdout.write(f"Celery worker and beat started (pid {worker.pid}).")
            from reviews.tasks import sweep_reminders

            sweep_reminders.delay()  # the first sweep now, not a beat interval later
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.stdout.write(f"\nRecovery Reviews: http://127.0.0.1:{port}/\n{DEMO_LOGINS}\n")
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
