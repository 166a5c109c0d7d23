"""Benchmark: the full recompute of every open episode's next review (docs/design.md, Review scheduling policy).

Seeds N open episodes (default 100,000) with their strategic reviews, circumstances and pharmacy reports in
bulk under a team called "Benchmark", times episodes_schedule_recompute twice (first run: every date
changes; second run: nothing changes), prints seconds and query counts, then removes what it seeded unless
--keep. --seed-only seeds and stops; --seeded times what an earlier --seed-only left (on a copy of its database,
so that runs compare like with like). Run it on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench .venv/bin/python manage.py bench_schedule
"""

import random
import time
from datetime import date, timedelta

from auditlog.context import disable_auditlog
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext

from patients.models import EpisodeCircumstance, MissedDose, Patient, PharmacyReport, TreatmentEpisode
from recovery_reviews.models import Role, Team, User
from reviews.models import ReviewStatus, StrategicReview
from reviews.services.schedule import episodes_schedule_recompute

BENCH_TEAM = "Benchmark"


class Command(BaseCommand):
    help = "Time the full recompute of review schedules over N seeded open episodes."

    def add_arguments(self, parser):
        parser.add_argument("--episodes", type=int, default=100_000)
        parser.add_argument("--keep", action="store_true", help="Keep the seeded rows afterwards.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--seed-only", action="store_true", help="Seed and keep the rows, without timing anything."
        )
        parser.add_argument(
            "--seeded",
            action="store_true",
            help="Time the recompute of rows seeded earlier with --seed-only (a copy of that database, say: "
            "createdb -T), without seeding or removing them.",
        )

    def handle(self, *args, episodes, keep, seed, seed_only, seeded, **options):
        if connection.vendor != "postgresql":
            self.stderr.write(
                "Note: the target is measured on PostgreSQL; this database is " + connection.vendor
            )
        today = date(2026, 11, 24)
        if seeded:
            keep = True
        else:
            started = time.perf_counter()
            with disable_auditlog():
                self._seed(episodes, random.Random(seed), today)
            self.stdout.write(f"seeded {episodes} open episodes in {time.perf_counter() - started:.1f} s")
            if seed_only:
                return
        try:
            for label in ("first recompute (all dates change)", "second recompute (nothing changes)"):
                reset_queries()  # the log holds 9,000 at most: full after the seed, it would count none
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    result = episodes_schedule_recompute(today=today)
                    elapsed = time.perf_counter() - started
                self.stdout.write(
                    f"{label}: {elapsed:.1f} s, {len(queries)} queries, {result.episodes} episodes, "
                    f"{result.changed} changed, {result.errors} need correcting"
                )
        finally:
            if not keep:
                self._remove()

    def _seed(self, count: int, rng: random.Random, today: date) -> None:
        self._remove()
        with transaction.atomic():
            team = Team.objects.create(name=BENCH_TEAM)
            keyworker = User.objects.create(username="bench.kw", role=Role.KEYWORKER, team=team)
            lead = User.objects.create(username="bench.sp", role=Role.SENIOR_PRACTITIONER, team=team)
            patients = Patient.objects.bulk_create(
                [
                    Patient(
                        given_name="Bench",
                        family_name=f"Patient {i}",
                        date_of_birth=date(1980, 1, 1),
                        team=team,
                        keyworker=keyworker,
                    )
                    for i in range(count)
                ],
                batch_size=5000,
            )
            episodes = TreatmentEpisode.objects.bulk_create(
                [
                    TreatmentEpisode(
                        patient=p,
                        entry_date=today - timedelta(days=rng.randint(10, 1000)),
                        primary_drug="heroin",
                        lead_practitioner=lead,
                    )
                    for p in patients
                ],
                batch_size=5000,
            )
            reviews, circumstances, reports = [], [], []
            for episode in episodes:
                held = episode.entry_date + timedelta(days=90)
                while held < today - timedelta(days=30):
                    reviews.append(
                        StrategicReview(
                            episode=episode,
                            held_on=held,
                            lead=lead,
                            created_by=lead,
                            status=ReviewStatus.COMPLETED,
                            patient_took_part=True,
                            completed_on=held,
                        )
                    )
                    held += timedelta(days=rng.randint(150, 190))
                if rng.random() < 0.2:
                    circumstances.append(
                        EpisodeCircumstance(
                            episode=episode, code="complex_needs", started_on=episode.entry_date
                        )
                    )
                for weeks_ago in (2, 4, 6):
                    end = today - timedelta(weeks=weeks_ago)
                    if end > episode.entry_date + timedelta(days=14):
                        run = 3 if rng.random() < 0.05 else rng.choice([0, 0, 1, 2])
                        reports.append(
                            PharmacyReport(
                                episode=episode,
                                pharmacy_name="Bench Pharmacy",
                                period_start=end - timedelta(days=13),
                                period_end=end,
                                doses_due=14,
                                supervised_doses_taken=14 - run,
                                missed_dose_run=run,
                                recorded_by=keyworker,
                            )
                        )
            StrategicReview.objects.bulk_create(reviews, batch_size=5000)
            EpisodeCircumstance.objects.bulk_create(circumstances, batch_size=5000)
            PharmacyReport.objects.bulk_create(reports, batch_size=5000)
            MissedDose.objects.bulk_create(
                [
                    MissedDose(report=r, missed_on=r.period_end - timedelta(days=d))
                    for r in reports
                    for d in range(r.missed_dose_run)
                ],
                batch_size=5000,
            )
        if connection.vendor == "postgresql":
            # The planner's statistics, as autovacuum would have gathered them on a database in use (without them
            # the first run's reads choose plans for empty tables).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            f"  {len(reviews)} reviews, {len(circumstances)} circumstances, {len(reports)} pharmacy reports"
        )

    def _remove(self) -> None:
        team = Team.objects.filter(name=BENCH_TEAM).first()
        if team is None:
            return
        with transaction.atomic(), disable_auditlog():
            episodes = TreatmentEpisode.objects.filter(patient__team=team)
            MissedDose.objects.filter(report__episode__in=episodes).delete()
            PharmacyReport.objects.filter(episode__in=episodes).delete()
            StrategicReview.objects.filter(episode__in=episodes).delete()
            EpisodeCircumstance.objects.filter(episode__in=episodes).delete()
            episodes.delete()
            Patient.objects.filter(team=team).delete()
            User.objects.filter(team=team).delete()
            team.delete()
