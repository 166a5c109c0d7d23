"""A treatment population the size of England's (about 300,000 adults a year), generated in bulk for the
page benchmarks (bench_pages) and loaded with PostgreSQL COPY.

Every row goes through `Loader.copy`, which fills each model's columns in their database order: what the
builder gives, else the field's Python default, so a column added to a model later is still filled. Ids are
assigned here, so foreign keys need no round trip. Rows hold every database constraint (the load would stop
otherwise); histories follow the review policy roughly (first review in about 3 months, then six-monthly, a
minority late), so that dashboards have something true to show, and the real policy then computes every
stored schedule.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import NOT_PROVIDED, Model

from patients import models as pm
from patients.validators import nhs_number_check_digit
from recovery_reviews.models import Role, Team, User
from reviews import models as rm

PATIENTS_PER_TEAM = 2000
PATIENTS_PER_KEYWORKER = 40
SENIOR_PRACTITIONERS_PER_TEAM = 3
TEAMS_PER_MANAGER = 5
TODAY_DEFAULT = date(2026, 11, 24)

GIVEN = [
    "Aisha",
    "Ben",
    "Chloe",
    "Dan",
    "Ella",
    "Femi",
    "Grace",
    "Harry",
    "Imran",
    "Jade",
    "Kieran",
    "Leah",
    "Mo",
    "Nina",
    "Owen",
    "Priya",
    "Rhys",
    "Sam",
    "Tom",
    "Zoe",
]
FAMILY = [
    "Adams",
    "Begum",
    "Clarke",
    "Davies",
    "Evans",
    "Fox",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Moore",
    "Nowak",
    "Owens",
    "Patel",
    "Quinn",
    "Roberts",
    "Smith",
    "Taylor",
    "Usman",
    "Walker",
    "Young",
    "Zielinski",
    "Ahmed",
    "Brown",
    "Cooper",
    "Doyle",
    "Ellis",
    "Foster",
]
PHARMACIES = ["Boots, High Street", "Well Pharmacy", "Lloyds, Market Square", "Day Lewis", "Rowlands"]


@dataclass
class Counts:
    rows: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


class Loader:
    """COPY rows into a model's table, every column given: the builder's value, else the field's default."""

    def __init__(self, now: datetime):
        self.now = now
        self.counts = Counts()

    def copy(self, model: type[Model], given: list[str], rows) -> int:
        fields = list(model._meta.concrete_fields)
        names = [f.attname for f in fields]
        unknown = set(given) - set(names)
        if unknown:
            raise ValueError(f"{model.__name__} has no column {sorted(unknown)}")
        position = {name: i for i, name in enumerate(given)}
        fill = []
        for f in fields:
            if f.attname in position:
                fill.append((position[f.attname], None))
            else:
                fill.append((None, self._default(f)))
        table = model._meta.db_table
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        started, n = time.perf_counter(), 0
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg 3
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[i] if i is not None else default for i, default in fill])
                    n += 1
        key = model.__name__
        self.counts.rows[key] = self.counts.rows.get(key, 0) + n
        self.counts.seconds[key] = self.counts.seconds.get(key, 0) + time.perf_counter() - started
        return n

    def _default(self, f):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return self.now
        if f.default is not NOT_PROVIDED:
            value = f.default() if callable(f.default) else f.default
            return json.dumps(value) if f.get_internal_type() == "JSONField" else value
        if f.null:
            return None
        if f.get_internal_type() in ("CharField", "TextField"):
            return ""
        raise ValueError(f"{f.model.__name__}.{f.name} needs a value: give it in the builder")


def nhs_numbers():
    """Valid numbers in the 999 range that NHS England keeps for test data, in order: never a real person's."""
    for n in range(1_000_000):
        first_nine = f"999{n:06d}"
        check = nhs_number_check_digit(first_nine)
        if check is not None:
            yield f"{first_nine}{check}"


@dataclass
class Staff:
    teams: list[int]
    keyworkers: list[tuple[int, int]]  # (user id, team id)
    seniors: dict[int, list[int]]  # team id -> user ids


class EnglandBuilder:
    def __init__(
        self, *, patients: int, seed: int, today: date, loader: Loader, log, teams: int | None = None
    ):
        self.patients = patients
        # One team for every PATIENTS_PER_TEAM patients unless told: 150 at 300,000. Told, a small seed can have
        # the large one's teams, so that pages listing every team compare like with like.
        self.teams = teams or max(3, round(patients / PATIENTS_PER_TEAM))
        self.rng = random.Random(seed)
        self.today = today
        self.load = loader
        self.log = log

    # --- Organisation ------------------------------------------------------------------------------------------

    def staff(self, password_hash: str) -> Staff:
        n_teams = self.teams
        n_keyworkers = max(n_teams, -(-self.patients // PATIENTS_PER_KEYWORKER))
        teams = list(range(1, n_teams + 1))
        self.load.copy(
            Team,
            ["id", "name", "weekly_review_capacity"],
            ((t, f"Team {t:03d}", 8 + t % 10) for t in teams),
        )
        users, uid = [], 0
        keyworkers, seniors = [], {t: [] for t in teams}

        def user(username, first, last, role, team):
            nonlocal uid
            uid += 1
            users.append((uid, username, first, last, role, team))
            return uid

        for k in range(n_keyworkers):
            team = teams[k % n_teams]
            name = "kw.scale" if k == 0 else f"kw.{k:05d}"
            keyworkers.append((user(name, GIVEN[k % 20], FAMILY[k % 30], Role.KEYWORKER, team), team))
        for t in teams:
            for s in range(SENIOR_PRACTITIONERS_PER_TEAM):
                seniors[t].append(
                    user(f"sp.{t:03d}.{s}", GIVEN[s], FAMILY[t % 30], Role.SENIOR_PRACTITIONER, t)
                )
        managers = []
        for m in range(0, n_teams, TEAMS_PER_MANAGER):
            managers.append(
                (
                    user(f"mgr.{m // TEAMS_PER_MANAGER:03d}", "Pat", FAMILY[m % 30], Role.MANAGER, None),
                    teams[m : m + TEAMS_PER_MANAGER],
                )
            )
        everyone = user("mgr.scale", "Morgan", "England", Role.MANAGER, None)
        managers.append((everyone, teams))
        self.load.copy(
            User,
            ["id", "username", "first_name", "last_name", "role", "team_id", "password", "email", "is_active",
             "is_staff", "is_superuser", "date_joined", "email_reminders"],
            (
                (i, name, first, last, role, team, password_hash, f"{name}@example.nhs.uk", True, False, False,
                 self.load.now, False)
                for i, name, first, last, role, team in users
            ),
        )  # fmt: skip
        through = User.managed_teams.through
        self.load.copy(
            through,
            ["id", "user_id", "team_id"],
            ((i + 1, m, t) for i, (m, t) in enumerate((m, t) for m, ts in managers for t in ts)),
        )
        return Staff(teams=teams, keyworkers=keyworkers, seniors=seniors)

    # --- Patients and their histories ----------------------------------------------------------------------------

    def entry_date(self) -> date:
        """Five years back at most, weighted to recent years (most episodes are recent; some are long)."""
        days = min(int(self.rng.expovariate(1 / 480)), 5 * 365)
        return self.today - timedelta(days=days + 1)

    def records(self, staff: Staff) -> None:
        rng, today = self.rng, self.today
        numbers = nhs_numbers()
        patients, episodes, interventions, dispensing, circumstances = [], [], [], [], []
        reviews, findings, needs, check_ups, tops = [], [], [], [], []
        tests, results, reports, missed = [], [], [], []
        ids = dict.fromkeys(
            ["review", "finding", "need", "check_up", "top", "test", "result", "report", "missed", "int",
             "disp", "circ"],
            0,
        )  # fmt: skip

        def next_id(kind):
            ids[kind] += 1
            return ids[kind]

        flush_every = 20_000
        # PATIENTS_PER_KEYWORKER each, fewer when there are more keyworkers than that fills (every team has some)
        caseload = min(PATIENTS_PER_KEYWORKER, -(-self.patients // len(staff.keyworkers)))
        for p in range(1, self.patients + 1):
            keyworker, team = staff.keyworkers[(p - 1) // caseload % len(staff.keyworkers)]
            lead = rng.choice(staff.seniors[team])
            patients.append(
                (p, rng.choice(GIVEN), rng.choice(FAMILY), date(1960 + p % 40, 1 + p % 12, 1 + p % 28),
                 next(numbers), team, keyworker, self.load.now)
            )  # fmt: skip
            entry = self.entry_date()
            exit_date = None
            if rng.random() < 0.15 and (today - entry).days > 60:
                exit_date = today - timedelta(days=rng.randint(1, min(365, (today - entry).days - 30)))
            end = exit_date or today
            ost = rng.random() < 0.7
            drug = pm.Substance.HEROIN if ost else rng.choice([pm.Substance.CRACK, pm.Substance.ALCOHOL, pm.Substance.CANNABIS, pm.Substance.COCAINE])  # fmt: skip
            episodes.append(
                (p, p, entry, exit_date, "dropped_out" if exit_date and rng.random() < 0.4 else ("completed_drug_free" if exit_date else ""),
                 drug, "[]", lead, self.load.now)
            )  # fmt: skip
            if ost:
                medicine = pm.Medicine.METHADONE if rng.random() < 0.6 else pm.Medicine.BUPRENORPHINE
                dose = Decimal(rng.choice([30, 40, 50, 60, 70, 80, 90])) if medicine == pm.Medicine.METHADONE else Decimal(rng.choice([4, 8, 12, 16]))  # fmt: skip
                interventions.append((next_id("int"), p, "ost", medicine, dose, entry, exit_date))
                dispensing.append((next_id("disp"), p, entry, 0, "start", "Supervised consumption to start.", keyworker, self.load.now))  # fmt: skip
                if (end - entry).days > 120 and rng.random() < 0.5:
                    dispensing.append((next_id("disp"), p, entry + timedelta(days=120), rng.choice([2, 3, 6]), "introduce_take_home", "Stable: take-home doses introduced.", keyworker, self.load.now))  # fmt: skip
            if rng.random() < 0.5:
                interventions.append((next_id("int"), p, "psychosocial", "", None, entry, exit_date))
            if rng.random() < 0.05:
                circumstances.append((next_id("circ"), p, rng.choice(["complex_needs", "not_benefiting", "transition"]), entry + timedelta(days=rng.randint(0, max(0, (end - entry).days))), None, "", keyworker))  # fmt: skip

            tops.append(self._top(next_id("top"), p, entry, "start", keyworker, severity=1.0))
            held = self._reviews(p, entry, end, exit_date, lead, keyworker, reviews, findings, needs, next_id)
            for i, day in enumerate(held):
                tops.append(
                    self._top(next_id("top"), p, day, "review", keyworker, severity=max(0.2, 0.8 - 0.15 * i))
                )
            if exit_date:
                tops.append(self._top(next_id("top"), p, exit_date, "exit", keyworker, severity=0.3))
                for day in self._check_ups(p, exit_date, keyworker, check_ups, next_id):
                    tops.append(self._top(next_id("top"), p, day, "post_exit", keyworker, severity=0.3))
            self._drug_tests(p, entry, end, ost, keyworker, tests, results, next_id)
            if ost:
                self._pharmacy(p, entry, end, keyworker, reports, missed, next_id)

            if p % flush_every == 0 or p == self.patients:
                self._flush(patients, episodes, interventions, dispensing, circumstances, reviews, findings, needs,
                            check_ups, tops, tests, results, reports, missed)  # fmt: skip
                for rows in (patients, episodes, interventions, dispensing, circumstances, reviews, findings,
                             needs, check_ups, tops, tests, results, reports, missed):  # fmt: skip
                    rows.clear()
                self.log(f"  {p:,} patients")

    def _flush(self, patients, episodes, interventions, dispensing, circumstances, reviews, findings, needs,
               check_ups, tops, tests, results, reports, missed):  # fmt: skip
        copy = self.load.copy
        copy(pm.Patient, ["id", "given_name", "family_name", "date_of_birth", "nhs_number", "team_id", "keyworker_id", "created_at"], patients)  # fmt: skip
        copy(pm.TreatmentEpisode, ["id", "patient_id", "entry_date", "exit_date", "exit_reason", "primary_drug", "other_substances", "lead_practitioner_id", "created_at"], episodes)  # fmt: skip
        copy(pm.Intervention, ["id", "episode_id", "kind", "medicine", "daily_dose_mg", "started_on", "ended_on"], interventions)  # fmt: skip
        copy(pm.DispensingArrangement, ["id", "episode_id", "effective_from", "take_home_doses_per_week", "change_reason", "reason_note", "recorded_by_id", "recorded_at"], dispensing)  # fmt: skip
        copy(pm.EpisodeCircumstance, ["id", "episode_id", "code", "started_on", "ended_on", "note", "recorded_by_id"], circumstances)  # fmt: skip
        copy(rm.StrategicReview, ["id", "episode_id", "held_on", "lead_id", "status", "patient_took_part", "completed_on", "overview", "created_by_id"], reviews)  # fmt: skip
        copy(rm.ReviewFinding, ["id", "review_id", "code"], findings)
        copy(rm.UnmetNeed, ["id", "episode_id", "review_id", "category", "kind", "description", "recorded_on", "recorded_by_id"], needs)  # fmt: skip
        copy(
            rm.RecoveryCheckUp,
            ["id", "episode_id", "sequence", "held_on", "held_by_id", "outcome"],
            check_ups,
        )
        copy(pm.TopAssessment, TOP_COLUMNS, tops)
        copy(pm.DrugTest, ["id", "episode_id", "taken_on", "method", "recorded_by_id"], tests)
        copy(
            pm.DrugTestResult,
            ["id", "test_id", "substance", "result", "expected_because_prescribed"],
            results,
        )
        copy(pm.PharmacyReport, ["id", "episode_id", "pharmacy_name", "period_start", "period_end", "doses_due", "supervised_doses_taken", "take_home_doses_collected", "missed_dose_run", "recorded_by_id"], reports)  # fmt: skip
        copy(pm.MissedDose, ["id", "report_id", "missed_on"], missed)

    def _reviews(
        self, p, entry, end, exit_date, lead, keyworker, reviews, findings, needs, next_id
    ) -> list[date]:
        """Reviews held roughly when the policy asks: first in about 3 months (a minority late), then about
        six-monthly. A small share of the latest reviews still wait for the patient (§2.4)."""
        rng, held = self.rng, []
        day = entry + timedelta(days=rng.randint(45, 92) if rng.random() < 0.8 else rng.randint(93, 200))
        while day < end:
            awaiting = day > self.today - timedelta(days=60) and rng.random() < 0.08
            rid = next_id("review")
            reviews.append(
                (rid, p, day, lead, "awaiting_patient" if awaiting else "completed", not awaiting,
                 None if awaiting else day, "Stepped back over the care plan with the evidence.", lead)
            )  # fmt: skip
            if not awaiting:
                held.append(day)
            if rng.random() < 0.05:
                findings.append((next_id("finding"), rid, "deteriorating_adherence" if rng.random() < 0.3 else "not_benefiting"))  # fmt: skip
            if day > self.today - timedelta(days=730) and rng.random() < 0.06:
                category, kind = rng.choice(UNMET)
                needs.append((next_id("need"), p, rid, category, kind, "Needed and not available locally.", day, lead))  # fmt: skip
            late = rng.random() < 0.1
            day += timedelta(days=rng.randint(190, 260) if late else rng.randint(140, 183))
        return held

    def _check_ups(self, p, exit_date, keyworker, check_ups, next_id) -> list[date]:
        held = []
        for sequence, offset in ((1, relativedelta(days=14)), (2, relativedelta(months=3)), (3, relativedelta(months=6)), (4, relativedelta(months=12))):  # fmt: skip
            day = exit_date + offset + timedelta(days=self.rng.randint(0, 10))
            if day > self.today or self.rng.random() < 0.1:
                break
            check_ups.append((next_id("check_up"), p, sequence, day, keyworker, "stable"))
            held.append(day)
        return held

    def _top(self, tid, p, day, stage, keyworker, *, severity: float) -> tuple:
        rng = self.rng
        week = lambda top: min(7, max(0, int(rng.random() * top * severity + 0.5)))  # noqa: E731
        values = [tid, p, day, stage, keyworker, self.load.now]
        for _substance, top in TOP_USE:
            values += [week(top) for _ in range(4)] + [round(Decimal(rng.random() * 2 * severity), 1) if top else None]  # fmt: skip
        values += [min(28, int(rng.random() * 20 * severity)), rng.random() < 0.1 * severity, rng.random() < 0.15 * severity]  # fmt: skip
        values += [min(28, int(rng.random() * 8 * severity)), min(28, int(rng.random() * 4 * severity))]
        values += [rng.random() < 0.05 * severity for _ in range(4)]
        health = lambda: max(0, min(20, int(20 - 14 * severity + rng.gauss(0, 3))))  # noqa: E731
        values += [health(), health(), health()]
        values += [min(28, int(rng.random() * 20 * (1 - severity))), 0, rng.random() < 0.2 * severity, rng.random() < 0.1 * severity]  # fmt: skip
        return tuple(values)

    def _drug_tests(self, p, entry, end, ost, keyworker, tests, results, next_id):
        rng = self.rng
        span = max(1, (end - entry).days)
        for _ in range(rng.choice([1, 2, 3, 3, 4, 5, 5, 6])):
            tid = next_id("test")
            tests.append((tid, p, entry + timedelta(days=rng.randint(0, span - 1) if span > 1 else 0), "oral_fluid", keyworker))  # fmt: skip
            results.append((next_id("result"), tid, "heroin", "positive" if rng.random() < 0.25 else "negative", False))  # fmt: skip
            results.append((next_id("result"), tid, "methadone", "positive" if ost else "negative", ost))
            results.append((next_id("result"), tid, "cocaine", "positive" if rng.random() < 0.2 else "negative", False))  # fmt: skip

    def _pharmacy(self, p, entry, end, keyworker, reports, missed, next_id):
        """Fortnightly reports over the last months of treatment; a few doses missed, rarely three in a row."""
        rng = self.rng
        count = rng.randint(9, 15)
        start = max(entry, end - timedelta(days=14 * count))
        pharmacy = rng.choice(PHARMACIES)
        while start + timedelta(days=13) <= end:
            stop = start + timedelta(days=13)
            days_missed = []
            roll = rng.random()
            if roll < 0.004:
                first = rng.randint(0, 10)
                days_missed = [first, first + 1, first + 2]
            elif roll < 0.12:
                days_missed = sorted(rng.sample(range(14), rng.randint(1, 2)))
            run = _longest_run(days_missed)
            rid = next_id("report")
            reports.append((rid, p, pharmacy, start, stop, 14, 14 - len(days_missed), 0, run, keyworker))
            missed.extend((next_id("missed"), rid, start + timedelta(days=d)) for d in days_missed)
            start = stop + timedelta(days=1)


def _longest_run(days: list[int]) -> int:
    best = run = 0
    previous = None
    for d in days:
        run = run + 1 if previous is not None and d == previous + 1 else 1
        best, previous = max(best, run), d
    return best


# Typical weekly days of use at entry per TOP substance (scaled down by recovery).
TOP_USE = (("alcohol", 3), ("opiates", 6), ("crack", 3), ("cocaine", 1), ("amphetamines", 0), ("cannabis", 2), ("other", 0))  # fmt: skip
TOP_COLUMNS = ["id", "episode_id", "assessed_on", "stage", "recorded_by_id", "created_at"]
for _substance, _ in TOP_USE:
    TOP_COLUMNS += [f"{_substance}_week4", f"{_substance}_week3", f"{_substance}_week2", f"{_substance}_week1", f"{_substance}_amount"]  # fmt: skip
TOP_COLUMNS += ["injecting_days", "shared_needle", "shared_paraphernalia", "shoplifting_days", "drug_selling_days",
                "theft_from_vehicle", "theft_other_property", "fraud_forgery_handling", "assault_violence",
                "psychological_health", "physical_health", "quality_of_life", "paid_work_days", "education_days",
                "acute_housing_problem", "eviction_risk"]  # fmt: skip
UNMET = [
    ("setting", "residential_rehab"),
    ("setting", "inpatient_detox"),
    ("intervention", "psychosocial"),
    ("intervention", "mental_health"),
    ("setting", "housing"),
    ("intensity", "more_frequent_keyworking"),
    ("intervention", "education_employment"),
]


def now_utc() -> datetime:
    return datetime.now(UTC)
