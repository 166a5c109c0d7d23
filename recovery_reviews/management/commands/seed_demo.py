"""A believable demo service, the same every time for a given --seed and --today.

Three teams and thirteen staff (the demo logins), and about 300 patients who entered treatment over the last
three years. Each episode follows a story (improving, plateaued or deteriorating) that all its records tell:
TOP histories, drug tests, fortnightly pharmacy reports with missed doses, keyworker appointments, the care
plan, dispensing changes with their reasons, and strategic reviews held when the scheduling policy said they
were due, with findings and App. C responses. Some reviews are overdue, some await the patient's involvement
(§2.4), some episodes have ended and owe recovery check-ups (§1.7). A few North patients show the riskiest
moments (a medication change, missed doses over two reports, a death, a check-up after exit), recorded after the
bulk load through the services a user would use (demo/stories.py). See recovery_reviews/management/demo/.

Everything is relative to --today, so the demo makes sense on any day. Seeding is not a person's change, so
django-auditlog is off while it runs. The stored next reviews are computed at the end by the adapter the
nightly sweep uses (reviews.services.schedule), in the same transaction.
"""

import time
from collections import Counter
from datetime import date

from auditlog.context import disable_auditlog
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from careplans.models import Goal, GoalAction
from patients import models as pm
from recovery_reviews.formatting import day
from recovery_reviews.management.demo.service import DemoService, flush_clinical_data
from recovery_reviews.management.demo.vocabulary import DEMO_PASSWORD, STAFF
from recovery_reviews.models import Role
from reviews import models as rm
from reviews.scheduling import ReviewDue, review_status

STATUSES = ("upcoming", "due_soon", "due", "overdue")


class Command(BaseCommand):
    help = "Load a believable demo service: 3 teams, 13 staff (the demo logins) and about 300 patients."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="The same seed gives the same demo.")
        parser.add_argument("--patients", type=int, default=300, help="How many patients (default 300).")
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="The demo's today, YYYY-MM-DD (default: today).",
        )
        parser.add_argument(
            "--flush", action="store_true", help="Delete every patient and their records first (staff stay)."
        )

    def handle(self, *args, seed, patients, today, flush, **options):
        from reviews.services.schedule import episodes_schedule_recompute, policy

        if isinstance(today, str):  # call_command(today="2026-01-31") skips the parser's type
            today = date.fromisoformat(today)
        today = today or timezone.localdate()
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        existing = pm.Patient.objects.count()
        if existing and not flush:
            raise CommandError(
                f"This database already has {existing} patient(s), and seed_demo does not mix demo data with "
                "real records. To delete every patient and their records and load the demo instead, run it "
                "again with --flush."
            )
        started = time.monotonic()
        with transaction.atomic(), disable_auditlog():
            if flush:
                flush_clinical_data()
            demo = DemoService(seed=seed, today=today, policy=policy())
            demo.build(patients)
            episodes_schedule_recompute(today=today)
        self.report(demo, today, time.monotonic() - started)

    def report(self, demo: DemoService, today: date, seconds: float) -> None:
        """What the database now holds (the bulk load and what the services recorded after it)."""

        def count(model, *more) -> str:
            numbers = [m._base_manager.count() for m in (model, *more)]  # entries in error too
            return f"{numbers[0]} ({numbers[1]})" if more else str(numbers[0])

        episodes = pm.TreatmentEpisode.objects
        check_ups = rm.RecoveryCheckUp.objects
        lines = [
            ("patients", count(pm.Patient)),
            (
                "treatment episodes (ended)",
                f"{episodes.count()} ({episodes.filter(exit_date__isnull=False).count()})",
            ),
            ("TOP assessments", count(pm.TopAssessment)),
            ("drug tests (results)", count(pm.DrugTest, pm.DrugTestResult)),
            ("pharmacy reports (missed doses)", count(pm.PharmacyReport, pm.MissedDose)),
            (
                "  safety events (3+ in a row)",
                pm.PharmacyReport.objects.filter(safety_run__gte=pm.MISSED_DOSE_SAFETY_RUN).count(),
            ),
            ("dispensing arrangements", count(pm.DispensingArrangement)),
            ("appointments", count(pm.Appointment)),
            ("care-plan goals (actions)", count(Goal, GoalAction)),
            ("strategic reviews", count(rm.StrategicReview)),
            (
                "  awaiting patient involvement",
                rm.StrategicReview.objects.filter(status=rm.ReviewStatus.AWAITING_PATIENT).count(),
            ),
            ("unmet needs", count(rm.UnmetNeed)),
            (
                "recovery check-ups (attempts)",
                f"{check_ups.count()} ({check_ups.filter(outcome=rm.CheckUpOutcome.NOT_REACHED).count()})",
            ),
        ]
        for kind, label in (
            ("strategic_review", "next strategic reviews"),
            ("recovery_check_up", "next check-ups"),
        ):
            statuses = schedule_statuses(kind, today, demo.policy)
            lines.append((label, ", ".join(f"{statuses[s]} {s.replace('_', ' ')}" for s in STATUSES)))
        self.stdout.write(f"Demo service as of {day(today)}, loaded in {seconds:.1f} s:")
        for label, value in lines:
            self.stdout.write(f"  {label:<32} {value}")
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for username, given, family, role, team, managed in STAFF:
            scope = f"manages {', '.join(managed)}" if managed else team or "the admin, /admin/"
            self.stdout.write(f"  {username:<10} {given + ' ' + family:<16} {Role(role).label:<20} {scope}")


def schedule_statuses(kind: str, today: date, policy) -> Counter:
    """The stored next reviews of one kind by status on `today` (rule 8)."""
    stored = pm.TreatmentEpisode.objects.filter(next_review_kind=kind).values_list(
        "next_review_target", "next_review_deadline"
    )
    return Counter(review_status(ReviewDue(kind, t, d, ()), today, policy) for t, d in stored)
