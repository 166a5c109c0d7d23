"""Benchmark: the reminder sweep over N open episodes (default 100,000) and the rate one worker process
delivers reminders to the inbox and through the file email backend (docs/reminders.md).

It seeds, in bulk, teams named "Benchmark reminders NN" with their staff, patients and episodes, and stores on
each episode a next review as the scheduling adapter would: most open episodes' later reviews spread over the
next six months with a backlog overdue, first reviews of recent entrants, and recovery check-ups after exit.
Then it times, with their query counts, the first sweep (every owed reminder claimed at once, as after a first
deployment), a second sweep the same day (nothing new: the cost of every beat run), and the next day's sweep
(one day's reviews entering a stage); then delivers --deliver of the claimed reminders in this process and
prints reminders per second. Everything it seeded is removed afterwards, unless --keep.

The sweep claims reminders for every episode in the database, so the command refuses to run on a database
that holds other episodes: use a database of its own.

    createdb -h 127.0.0.1 -U postgres rr_bench_reminders
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench_reminders
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py bench_reminders
"""

import random
import tempfile
import time
from datetime import date, timedelta

from auditlog.context import disable_auditlog
from dateutil.relativedelta import relativedelta
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from patients.models import Patient, TreatmentEpisode
from recovery_reviews.models import Role, Team, User
from reviews import reminders
from reviews.models import InboxItem, OwedItem, Reminder

TEAM_PREFIX = "Benchmark reminders"
TODAY = date(2026, 11, 24)
REASON = ["Later reviews at six-monthly intervals (§1.3)."]
CHECK_UPS = (
    relativedelta(days=14),
    relativedelta(months=3),
    relativedelta(months=6),
    relativedelta(months=12),
)


class Command(BaseCommand):
    help = "Time the reminder sweep over N seeded episodes, and the delivery rate through the file backend."

    def add_arguments(self, parser):
        parser.add_argument("--episodes", type=int, default=100_000)
        parser.add_argument(
            "--deliver", type=int, default=2000, help="How many reminders to deliver and time."
        )
        parser.add_argument("--teams", type=int, default=25)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--keep", action="store_true", help="Keep the seeded rows afterwards.")

    def handle(self, *args, episodes, deliver, teams, seed, keep, **options):
        self._remove()
        if TreatmentEpisode.objects.exists():
            raise CommandError(
                "This database holds episodes the sweep would send real reminders for. Run the benchmark on "
                "a database of its own (see the command's help)."
            )
        if connection.vendor != "postgresql":
            self.stderr.write(f"Note: the figures that count are PostgreSQL's; this is {connection.vendor}.")
        started = time.perf_counter()
        with disable_auditlog(), transaction.atomic():
            self._seed(episodes, teams, random.Random(seed))
        self.stdout.write(
            f"Seeded {episodes:,} episodes in {teams} teams in {time.perf_counter() - started:.1f} s."
        )
        self._describe_spread()
        try:
            claimed = self._time_sweeps()
            self._time_delivery(claimed[:deliver])
        finally:
            if not keep:
                started = time.perf_counter()
                self._remove()
                self.stdout.write(f"Removed the seeded rows in {time.perf_counter() - started:.1f} s.")

    # --- Figures ------------------------------------------------------------------------------------------------

    def _time_sweeps(self) -> list[int]:
        claimed = []
        for label, today in (
            ("first sweep: everything owed, claimed at once", TODAY),
            ("second sweep, same day: nothing new", TODAY),
            ("next day's sweep: one day's reviews entering a stage", TODAY + timedelta(days=1)),
        ):
            reset_queries()  # the log holds 9,000 at most: full after the seed, it would count none
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                result = reminders.reminders_sweep(today=today)
                elapsed = time.perf_counter() - started
            claimed = claimed or result.claimed
            self.stdout.write(
                f"  {label}: {elapsed:.2f} s, {len(queries)} queries, {len(result.claimed):,} reminders claimed"
            )
        by_stage = {s: Reminder.objects.filter(stage=s).count() for s in ("due_soon", "due", "overdue")}
        self.stdout.write("  reminders by stage: " + ", ".join(f"{s} {n:,}" for s, n in by_stage.items()))
        return claimed

    def _time_delivery(self, batch: list[int]) -> None:
        if not batch:
            return
        statements = 0

        def count(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        with (
            tempfile.TemporaryDirectory() as mail_dir,
            override_settings(
                EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=mail_dir
            ),
            connection.execute_wrapper(count),
        ):
            started = time.perf_counter()
            outcomes = [reminders.reminder_deliver(reminder_id=pk, today=TODAY) for pk in batch]
            elapsed = time.perf_counter() - started
        self.stdout.write(
            f"  delivery: {outcomes.count('delivered'):,} reminders to inbox and file email in {elapsed:.1f} s: "
            f"{len(batch) / elapsed:,.0f} reminders/second in one process, "
            f"{statements / len(batch):.1f} statements each"
        )

    def _describe_spread(self) -> None:
        today, soon = TODAY, TODAY + timedelta(days=14)
        bench = TreatmentEpisode.objects.filter(patient__team__name__startswith=TEAM_PREFIX)
        counts = {
            "overdue": bench.filter(next_review_deadline__lt=today).count(),
            "due": bench.filter(next_review_target__lt=today, next_review_deadline__gte=today).count(),
            "due soon": bench.filter(next_review_target__gte=today, next_review_target__lte=soon).count(),
            "upcoming": bench.filter(next_review_target__gt=soon).count(),
        }
        self.stdout.write("  episodes by status: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    # --- Seeding and removal ------------------------------------------------------------------------------------

    def _seed(self, count: int, team_count: int, rng: random.Random) -> None:
        teams = Team.objects.bulk_create([Team(name=f"{TEAM_PREFIX} {i:02}") for i in range(team_count)])
        staff = []
        for team in teams:
            for role, how_many in ((Role.KEYWORKER, 90), (Role.SENIOR_PRACTITIONER, 10), (Role.MANAGER, 1)):
                for i in range(how_many):
                    username = f"bench.{team.pk}.{role}.{i}"
                    staff.append(
                        User(
                            username=username,
                            email=f"{username}@example.nhs.uk",
                            role=role,
                            team=team,
                            email_reminders=rng.random() > 0.1,
                        )
                    )
        User.objects.bulk_create(staff, batch_size=5000)
        staff = list(User.objects.filter(team__in=teams).values_list("pk", "team_id", "role"))
        by_team_role = {}
        for pk, team_id, role in staff:
            by_team_role.setdefault((team_id, role), []).append(pk)
        User.managed_teams.through.objects.bulk_create(
            [
                User.managed_teams.through(user_id=pk, team_id=team_id)
                for (team_id, role), pks in by_team_role.items()
                if role == Role.MANAGER
                for pk in pks
            ]
        )
        patients = []
        for i in range(count):
            team = teams[i % team_count]
            keyworker = rng.choice(by_team_role[(team.pk, Role.KEYWORKER)])
            patients.append(
                Patient(
                    given_name="Bench",
                    family_name=f"Patient {i}",
                    date_of_birth=date(1980, 1, 1),
                    team_id=team.pk,
                    keyworker_id=keyworker,
                )
            )
        Patient.objects.bulk_create(patients, batch_size=5000)
        episodes = TreatmentEpisode.objects.bulk_create(
            [
                self._episode(p, rng.choice(by_team_role[(p.team_id, Role.SENIOR_PRACTITIONER)]), rng)
                for p in patients
            ],
            batch_size=5000,
        )
        # Each episode's one owed item, as the scheduling adapter stores it (the reminders read the items).
        OwedItem.objects.bulk_create(
            [
                OwedItem(
                    episode_id=e.pk,
                    kind=e.next_review_kind,
                    target=e.next_review_target,
                    deadline=e.next_review_deadline,
                    reasons=e.next_review_reasons,
                )
                for e in episodes
            ],
            batch_size=5000,
        )

    @staticmethod
    def _episode(patient: Patient, lead_id: int, rng: random.Random) -> TreatmentEpisode:
        """A next review as the policy would store it, in proportions a large service might see."""
        episode = TreatmentEpisode(patient=patient, primary_drug="heroin", lead_practitioner_id=lead_id)
        roll = rng.random()
        if roll < 0.15:  # a first review: entered in the last six months (rule 1)
            episode.entry_date = TODAY - timedelta(days=rng.randint(0, 183))
            kind, target, deadline = (
                "strategic_review",
                episode.entry_date + relativedelta(months=3),
                episode.entry_date + relativedelta(months=6),
            )
        elif roll < 0.90:  # a later review, six months after the last (rule 2); about 7% of them overdue
            episode.entry_date = TODAY - timedelta(days=rng.randint(200, 2000))
            target = TODAY + timedelta(
                days=rng.randint(-14, 183) if rng.random() > 0.07 else -rng.randint(15, 120)
            )
            kind, deadline = "strategic_review", target
        else:  # ended: the next recovery check-up (rule 7)
            episode.entry_date = TODAY - timedelta(days=rng.randint(500, 2000))
            episode.exit_date, episode.exit_reason = (
                TODAY - timedelta(days=rng.randint(1, 365)),
                "completed_drug_free",
            )
            target = next(
                (
                    episode.exit_date + o
                    for o in CHECK_UPS
                    if episode.exit_date + o >= TODAY - timedelta(days=20)
                ),
                episode.exit_date + CHECK_UPS[-1],
            )
            kind, deadline = "recovery_check_up", target + timedelta(days=14)
        episode.next_review_kind, episode.next_review_reasons = kind, REASON
        episode.next_review_target, episode.next_review_deadline = target, deadline
        return episode

    def _remove(self) -> None:
        """Remove what this command seeded, and nothing else: everything hangs off its named teams."""
        teams = Team.objects.filter(name__startswith=TEAM_PREFIX)
        if not teams.exists():
            return
        with transaction.atomic(), disable_auditlog():
            episodes = TreatmentEpisode.objects.filter(patient__team__in=teams)
            InboxItem.objects.filter(reminder__episode__in=episodes)._raw_delete(InboxItem.objects.db)
            Reminder.objects.filter(episode__in=episodes)._raw_delete(Reminder.objects.db)
            OwedItem.objects.filter(episode__in=episodes)._raw_delete(OwedItem.objects.db)
            episodes._raw_delete(TreatmentEpisode.objects.db)
            Patient.objects.filter(team__in=teams)._raw_delete(Patient.objects.db)
            User.managed_teams.through.objects.filter(team__in=teams).delete()
            User.objects.filter(team__in=teams).delete()
            teams.delete()
