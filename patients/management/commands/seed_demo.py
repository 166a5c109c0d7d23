"""A believable demo service: 3 teams, 12 staff, about 300 patients entered over the last 3 years with TOP
histories that improve, plateau or deteriorate, drug tests, pharmacy reports (some with runs of missed doses),
care plans, and strategic reviews (some overdue, some awaiting patient involvement). Deterministic for a given
--seed and --today."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from auditlog.context import disable_auditlog
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from careplans.models import ActionOwner, CarePlan, Goal, GoalAction, GoalProgress
from patients import models as pm
from patients.validators import nhs_number_check_digit
from recovery_reviews.models import Role, Team, User
from reviews import models as rm
from reviews.services.schedule import episodes_schedule_recompute

DEMO_PASSWORD = "recovery-demo-2026"
STAFF = [
    # username, first, last, role, team
    ("kw.north", "Aisha", "Khan", Role.KEYWORKER, "North"),
    ("kw.north2", "Tom", "Bennett", Role.KEYWORKER, "North"),
    ("sp.north", "Dr Ruth", "Okafor", Role.SENIOR_PRACTITIONER, "North"),
    ("mgr.north", "Helen", "Marsh", Role.MANAGER, "North"),
    ("kw.south", "Liam", "Doyle", Role.KEYWORKER, "South"),
    ("kw.south2", "Priya", "Shah", Role.KEYWORKER, "South"),
    ("sp.south", "Dr Gareth", "Evans", Role.SENIOR_PRACTITIONER, "South"),
    ("kw.east", "Chloe", "Turner", Role.KEYWORKER, "East"),
    ("kw.east2", "Sam", "Adeyemi", Role.KEYWORKER, "East"),
    ("sp.east", "Dr Fiona", "Walsh", Role.SENIOR_PRACTITIONER, "East"),
    ("mgr.all", "Mark", "Holloway", Role.MANAGER, None),
    ("support", "Sue", "Porter", Role.SUPPORT, None),
]
GIVEN = [
    "Jamie",
    "Alex",
    "Jordan",
    "Chris",
    "Kelly",
    "Lee",
    "Danny",
    "Gemma",
    "Stacey",
    "Wayne",
    "Kirsty",
    "Darren",
    "Leanne",
    "Craig",
    "Nicola",
    "Paul",
    "Lisa",
    "Karl",
    "Amy",
    "Dean",
    "Joanne",
    "Ryan",
    "Zoe",
    "Scott",
    "Hayley",
    "Neil",
    "Emma",
    "Jason",
    "Kerry",
    "Adam",
]
FAMILY = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Hughes",
    "Edwards",
    "Lewis",
    "Harris",
    "Martin",
    "Cooper",
    "Ward",
    "Morris",
    "Moore",
]
PHARMACIES = [
    "Boots, High Street",
    "Lloyds, Market Square",
    "Well Pharmacy, Station Road",
    "Rowlands, Park Lane",
]
FINDING_BY_TRAJECTORY = {
    "improving": "good_progress",
    "plateaued": "benefit_plateau",
    "deteriorating": "deteriorating_adherence",
}
TRAJECTORIES = ("improving", "plateaued", "deteriorating")


def nhs_number(rng: random.Random) -> str:
    while True:
        first = f"{rng.randint(400_000_000, 799_999_999)}"
        check = nhs_number_check_digit(first)
        if check is not None:
            return f"{first}{check}"


def months_ago(today: date, months: float) -> date:
    return today - timedelta(days=int(months * 30.4))


class Command(BaseCommand):
    help = "Load a believable, deterministic demo service (staff, patients, evidence and reviews)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--patients", type=int, default=300)
        parser.add_argument(
            "--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD; default today."
        )
        parser.add_argument("--flush", action="store_true", help="Delete existing clinical data first.")

    def handle(self, *args, seed, patients, today, flush, **options):
        today = today or timezone.localdate()
        if pm.Patient.objects.exists() and not flush:
            raise CommandError(
                "This database already has patients: add --flush to replace them with demo data."
            )
        self.rng = random.Random(seed)
        self.today = today
        with transaction.atomic(), disable_auditlog():
            if flush:
                self._flush()
            staff = self._staff()
            counts = self._patients(patients, staff)
        result = episodes_schedule_recompute(today=today)
        counts["episodes with a next review"] = result.episodes
        for name, count in counts.items():
            self.stdout.write(f"  {count:6d} {name}")
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}): " + ", ".join(s[0] for s in STAFF))

    def _flush(self) -> None:
        for model in (
            rm.InboxItem,
            rm.Reminder,
            rm.ReviewResponse,
            rm.ReviewFinding,
            rm.ReviewParticipant,
            rm.UnmetNeed,
            rm.StrategicReview,
            rm.RecoveryCheckUp,
            GoalAction,
            Goal,
            CarePlan,
            pm.MissedDose,
            pm.PharmacyReport,
            pm.DrugTestResult,
            pm.DrugTest,
            pm.TopAssessment,
            pm.Appointment,
            pm.DispensingArrangement,
            pm.Intervention,
            pm.EpisodeCircumstance,
            pm.TreatmentEpisode,
            pm.Patient,
        ):
            model.objects.all().delete()

    def _staff(self) -> dict:
        teams = {
            name: Team.objects.update_or_create(name=name, defaults={"weekly_review_capacity": cap})[0]
            for name, cap in (("North", 12), ("South", 10), ("East", 8))
        }
        users = {}
        for username, first, last, role, team in STAFF:
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "role": role,
                    "team": teams.get(team),
                    "email": f"{username}@example.nhs.uk",
                    "is_staff": role == Role.SUPPORT,
                    "is_superuser": role == Role.SUPPORT,
                },
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            users[username] = user
        users["mgr.north"].managed_teams.set([teams["North"]])
        users["mgr.all"].managed_teams.set(teams.values())
        return {
            "teams": list(teams.values()),
            "keyworkers": {
                t: [u for u in users.values() if u.team == t and u.role == Role.KEYWORKER]
                for t in teams.values()
            },
            "leads": {
                t: next(u for u in users.values() if u.team == t and u.role == Role.SENIOR_PRACTITIONER)
                for t in teams.values()
            },
        }

    def _patients(self, count: int, staff: dict) -> dict:
        rng, today = self.rng, self.today
        patients, plans = [], []
        for i in range(count):
            team = staff["teams"][i % 3]
            patients.append(
                pm.Patient(
                    given_name=rng.choice(GIVEN),
                    family_name=rng.choice(FAMILY),
                    date_of_birth=date(rng.randint(1962, 2002), rng.randint(1, 12), rng.randint(1, 28)),
                    nhs_number=nhs_number(rng) if rng.random() < 0.9 else "",
                    team=team,
                    keyworker=rng.choice(staff["keyworkers"][team]),
                )
            )
        pm.Patient.objects.bulk_create(patients)
        episodes = []
        for patient in patients:
            opioid = rng.random() < 0.75
            entry = today - timedelta(days=rng.randint(7, 1095))
            exited = rng.random() < 0.15 and entry < today - timedelta(days=200)
            exit_on = entry + timedelta(days=rng.randint(180, (today - entry).days - 1)) if exited else None
            episodes.append(
                pm.TreatmentEpisode(
                    patient=patient,
                    entry_date=entry,
                    primary_drug=pm.Substance.HEROIN
                    if opioid
                    else rng.choice(["crack", "cocaine", "alcohol", "cannabis"]),
                    other_substances=rng.sample(
                        ["crack", "alcohol", "cannabis", "benzodiazepines"], rng.randint(0, 2)
                    ),
                    co_morbidities=rng.choice(["", "", "Depression", "Hepatitis C", "COPD", "Anxiety; PTSD"]),
                    lead_practitioner=staff["leads"][patient.team],
                    exit_date=exit_on,
                    exit_reason=rng.choice(["completed_drug_free", "transferred", "dropped_out"])
                    if exited
                    else "",
                )
            )
        pm.TreatmentEpisode.objects.bulk_create(episodes)
        rows = {
            k: []
            for k in (
                "interventions",
                "dispensing",
                "circumstances",
                "tops",
                "tests",
                "reports",
                "appointments",
                "reviews",
                "checkups",
            )
        }
        for episode in episodes:
            self._episode(episode, rng.choice(TRAJECTORIES), rows)
        pm.Intervention.objects.bulk_create(rows["interventions"])
        pm.DispensingArrangement.objects.bulk_create(rows["dispensing"])
        pm.EpisodeCircumstance.objects.bulk_create(rows["circumstances"])
        pm.TopAssessment.objects.bulk_create(rows["tops"])
        pm.Appointment.objects.bulk_create(rows["appointments"])
        pm.DrugTest.objects.bulk_create([t for t, _ in rows["tests"]])
        for test, results in rows["tests"]:
            for result in results:
                result.test = test
        pm.DrugTestResult.objects.bulk_create([r for _, results in rows["tests"] for r in results])
        pm.PharmacyReport.objects.bulk_create([r for r, _ in rows["reports"]])
        pm.MissedDose.objects.bulk_create(
            [pm.MissedDose(report=r, missed_on=d) for r, days in rows["reports"] for d in days]
        )
        rm.RecoveryCheckUp.objects.bulk_create(rows["checkups"])
        reviews = self._reviews(rows["reviews"])
        for episode in episodes:
            plans.append(CarePlan(episode=episode, agreed_on=episode.entry_date))
        CarePlan.objects.bulk_create(plans)
        goals = self._goals(plans)
        return {
            "patients": len(patients),
            "episodes": len(episodes),
            "TOP assessments": len(rows["tops"]),
            "drug tests": len(rows["tests"]),
            "pharmacy reports": len(rows["reports"]),
            "pharmacy reports with 3+ missed in a row": sum(
                r.missed_dose_run >= 3 for r, _ in rows["reports"]
            ),
            "appointments": len(rows["appointments"]),
            "strategic reviews": reviews,
            "reviews awaiting patient involvement": rm.StrategicReview.objects.filter(
                status=rm.ReviewStatus.AWAITING_PATIENT
            ).count(),
            "care-plan goals": goals,
        }

    def _episode(self, episode, trajectory, rows) -> None:
        rng, today = self.rng, self.today
        end = min(episode.exit_date or today, today)
        keyworker, lead = episode.patient.keyworker, episode.lead_practitioner
        on_ost = episode.primary_drug == pm.Substance.HEROIN
        medicine = rng.choice([pm.Medicine.METHADONE, pm.Medicine.METHADONE, pm.Medicine.BUPRENORPHINE])
        if on_ost:
            dose = (
                Decimal(rng.randrange(30, 121, 5))
                if medicine == pm.Medicine.METHADONE
                else Decimal(rng.randrange(4, 25, 2))
            )
            rows["interventions"].append(
                pm.Intervention(
                    episode=episode,
                    kind=pm.InterventionKind.OST,
                    medicine=medicine,
                    daily_dose_mg=dose,
                    started_on=episode.entry_date,
                    ended_on=episode.exit_date,
                )
            )
            rows["dispensing"].append(
                pm.DispensingArrangement(
                    episode=episode,
                    effective_from=episode.entry_date,
                    take_home_doses_per_week=0,
                    change_reason=pm.DispensingChange.START,
                    reason_note="Supervised consumption at the start of treatment.",
                    recorded_by=lead,
                )
            )
            if trajectory == "improving" and (end - episode.entry_date).days > 120:
                rows["dispensing"].append(
                    pm.DispensingArrangement(
                        episode=episode,
                        effective_from=episode.entry_date + timedelta(days=120),
                        take_home_doses_per_week=3,
                        change_reason=pm.DispensingChange.INTRODUCE_TAKE_HOME,
                        reason_note="Stable on OST with negative tests for three months.",
                        recorded_by=lead,
                    )
                )
        rows["interventions"].append(
            pm.Intervention(
                episode=episode,
                kind=pm.InterventionKind.PSYCHOSOCIAL,
                started_on=episode.entry_date,
                ended_on=episode.exit_date,
            )
        )
        if rng.random() < 0.2:
            rows["circumstances"].append(
                pm.EpisodeCircumstance(
                    episode=episode,
                    code=rng.choice(pm.Circumstance.values),
                    started_on=episode.entry_date + timedelta(days=rng.randint(0, 60)),
                    note="Recorded at assessment.",
                    recorded_by=keyworker,
                )
            )
        # TOP at start and about every four months, following the patient's trajectory.
        day, step = episode.entry_date, 0
        while day <= end:
            rows["tops"].append(self._top(episode, day, "start" if step == 0 else "review", trajectory, step))
            day += timedelta(days=rng.randint(100, 150))
            step += 1
        # Appointments fortnightly, drug tests monthly, pharmacy reports fortnightly for the last six months.
        day = episode.entry_date + timedelta(days=3)
        while day <= end:
            attended = rng.random() < (0.9 if trajectory != "deteriorating" else 0.7)
            rows["appointments"].append(
                pm.Appointment(
                    episode=episode,
                    keyworker=keyworker,
                    starts_at=timezone.make_aware(datetime.combine(day, time(10, 30))),
                    status="attended" if attended else "missed",
                    review_note="Reviewed use, dose and goals; no change to the care plan."
                    if attended
                    else "",
                )
            )
            if (day - episode.entry_date).days % 28 < 14:
                rows["tests"].append(self._test(episode, day, trajectory, on_ost, medicine))
            day += timedelta(days=14)
        if on_ost:
            start = max(episode.entry_date, end - timedelta(days=180))
            while start + timedelta(days=13) <= end:
                rows["reports"].append(self._report(episode, start, trajectory))
                start += timedelta(days=14)
        if episode.exit_date:
            for sequence, offset in ((1, 14), (2, 91), (3, 182), (4, 365)):
                held = episode.exit_date + timedelta(days=offset)
                if held < today - timedelta(days=rng.randint(0, 40)):
                    rows["checkups"].append(
                        rm.RecoveryCheckUp(
                            episode=episode,
                            sequence=sequence,
                            held_on=held,
                            held_by=keyworker,
                            outcome=rng.choice(["stable", "stable", "support_increased", "relapse_risk"]),
                        )
                    )
        rows["reviews"].append((episode, trajectory, end))

    def _top(self, episode, day, stage, trajectory, step):
        rng = self.rng
        level = {
            "improving": max(0.0, 1 - 0.3 * step),
            "plateaued": max(0.5, 1 - 0.3 * step),
            "deteriorating": min(1.0, 0.6 + 0.15 * step),
        }[trajectory]
        top = pm.TopAssessment(
            episode=episode, assessed_on=day, stage=stage, recorded_by=episode.patient.keyworker
        )
        main = (
            "opiates"
            if episode.primary_drug == pm.Substance.HEROIN
            else {"crack": "crack", "cocaine": "cocaine", "alcohol": "alcohol", "cannabis": "cannabis"}[
                episode.primary_drug
            ]
        )
        for prefix, _label, _unit in pm.TOP_SUBSTANCES:
            base = (
                6 * level
                if prefix == main
                else (1.5 * level if prefix in ("crack", "alcohol", "cannabis") else 0)
            )
            for week in pm.TOP_WEEKS:
                setattr(
                    top,
                    f"{prefix}_week{week}",
                    max(0, min(7, round(rng.gauss(base, 1)))) if prefix != "other" else 0,
                )
            used = top.days_used(prefix)
            setattr(
                top,
                f"{prefix}_amount",
                Decimal(str(round(rng.uniform(0.2, 1.0) * (8 if prefix == "alcohol" else 1), 1)))
                if used
                else None,
            )
        top.injecting_days = max(0, min(28, round(rng.gauss(14 * level, 3)))) if main == "opiates" else 0
        top.shared_needle = rng.random() < 0.2 * level
        top.shared_paraphernalia = rng.random() < 0.3 * level
        top.shoplifting_days = max(0, min(28, round(rng.gauss(6 * level, 2))))
        top.drug_selling_days = max(0, min(28, round(rng.gauss(3 * level, 2))))
        for name in (
            "theft_from_vehicle",
            "theft_other_property",
            "fraud_forgery_handling",
            "assault_violence",
        ):
            setattr(top, name, rng.random() < 0.15 * level)
        for name in pm.TOP_RATINGS:
            setattr(top, name, max(0, min(20, round(rng.gauss(16 - 10 * level, 2)))))
        top.paid_work_days = max(0, min(28, round(rng.gauss(12 * (1 - level), 3))))
        top.education_days = max(0, min(28, round(rng.gauss(2 * (1 - level), 1))))
        top.acute_housing_problem = rng.random() < 0.3 * level
        top.eviction_risk = rng.random() < 0.2 * level
        if rng.random() < 0.1:  # some items left unanswered: not zero
            top.quality_of_life = None
            top.education_days = None
        return top

    def _test(self, episode, day, trajectory, on_ost, medicine):
        rng = self.rng
        test = pm.DrugTest(
            episode=episode,
            taken_on=day,
            method=rng.choice(["urine", "urine", "oral_fluid"]),
            recorded_by=episode.patient.keyworker,
        )
        heroin_rate = {"improving": 0.15, "plateaued": 0.4, "deteriorating": 0.7}[trajectory]
        results = [
            pm.DrugTestResult(
                substance="heroin", result="positive" if rng.random() < heroin_rate else "negative"
            ),
            pm.DrugTestResult(
                substance="crack", result="positive" if rng.random() < heroin_rate / 2 else "negative"
            ),
        ]
        if on_ost:
            results.append(
                pm.DrugTestResult(
                    substance=str(medicine),
                    result="positive" if rng.random() < 0.95 else "negative",
                    expected_because_prescribed=True,
                )
            )
        return test, results

    def _report(self, episode, start, trajectory):
        rng = self.rng
        end = start + timedelta(days=13)
        missed = []
        if trajectory == "deteriorating" and rng.random() < 0.04:
            first = start + timedelta(days=rng.randint(0, 9))
            missed = [first + timedelta(days=d) for d in range(rng.randint(3, 4))]
        elif rng.random() < 0.3:
            missed = [start + timedelta(days=rng.randint(0, 13))]
        missed = sorted(set(missed))
        report = pm.PharmacyReport(
            episode=episode,
            pharmacy_name=rng.choice(PHARMACIES),
            period_start=start,
            period_end=end,
            doses_due=14,
            supervised_doses_taken=14 - len(missed),
            missed_dose_run=pm.longest_missed_run(missed),
            concerns="Appeared intoxicated at collection." if missed and rng.random() < 0.3 else "",
            recorded_by=episode.patient.keyworker,
        )
        return report, missed

    def _reviews(self, plans) -> int:
        """Completed reviews roughly on time, with a realistic tail: some late, some never held (overdue),
        and some held without the patient and awaiting their involvement (§2.4)."""
        rng = self.rng
        reviews, participants, findings = [], [], []
        for episode, trajectory, end in plans:
            lead = episode.lead_practitioner
            held = episode.entry_date + timedelta(days=rng.randint(70, 100))
            slipped = rng.random() < 0.1  # the latest review due has not been held
            re_reviewed = False
            while held <= end - timedelta(days=1):
                if slipped and held > end - timedelta(days=120):
                    break
                awaiting = rng.random() < 0.06 and held > end - timedelta(days=60)
                agreed = (
                    held + timedelta(days=rng.choice([91, 182, 182, 182])) if rng.random() < 0.4 else None
                )
                review = rm.StrategicReview(
                    episode=episode,
                    held_on=held,
                    lead=lead,
                    created_by=lead,
                    status=rm.ReviewStatus.AWAITING_PATIENT if awaiting else rm.ReviewStatus.COMPLETED,
                    patient_took_part=not awaiting,
                    completed_on=None if awaiting else held,
                    self_report="Feels more settled; wants to reduce dose slowly."
                    if trajectory == "improving"
                    else "Finding things hard at the moment.",
                    overview="Step-back review of the whole care plan with TOP, tests and pharmacy reports.",
                    drug_alcohol_progress={
                        "improving": "improved",
                        "plateaued": "no_change",
                        "deteriorating": "deteriorated",
                    }[trajectory],
                    health_progress=rng.choice(["improved", "maintained", "no_change"]),
                    offending_progress=rng.choice(["improved", "maintained"]),
                    social_progress=rng.choice(["improved", "no_change"]),
                    agreed_next_date=agreed,
                )
                reviews.append(review)
                participants.append((review, "patient"))
                finding = FINDING_BY_TRAJECTORY[trajectory]
                if finding == "deteriorating_adherence" and re_reviewed:
                    finding = "less_benefit_than_expected"
                findings.append((review, finding))
                if awaiting:
                    break
                if finding == "deteriorating_adherence":  # App. C 1: an earlier re-review follows
                    re_reviewed = True
                    review.agreed_next_date = None
                    held += timedelta(days=rng.randint(18, 30))
                    continue
                held = (agreed or held + timedelta(days=182)) + timedelta(days=rng.randint(-10, 25))
        rm.StrategicReview.objects.bulk_create(reviews)
        rm.ReviewParticipant.objects.bulk_create(
            [
                rm.ReviewParticipant(review=r, name=str(r.episode.patient), role="patient")
                for r, _ in participants
                if r.patient_took_part
            ]
            + [
                rm.ReviewParticipant(review=r, name=str(r.lead), role="senior_practitioner", staff=r.lead)
                for r, _ in participants
            ]
        )
        rm.ReviewFinding.objects.bulk_create([rm.ReviewFinding(review=r, code=code) for r, code in findings])
        needs = [
            rm.UnmetNeed(
                episode=r.episode,
                review=r,
                category="setting",
                kind=self.rng.choice(["residential_rehab", "housing", "mental_health"]),
                description="Needed but no place available within the funded time.",
                recorded_on=r.held_on,
                recorded_by=r.lead,
            )
            for r in reviews
            if self.rng.random() < 0.05
        ]
        rm.UnmetNeed.objects.bulk_create(needs)
        return len(reviews)

    def _goals(self, plans) -> int:
        rng = self.rng
        goals = []
        texts = {
            pm.CoreDomain.DRUG_ALCOHOL_USE: "Stop using heroin on top of the prescription",
            pm.CoreDomain.HEALTH: "Register with a GP and have a hepatitis C test",
            pm.CoreDomain.OFFENDING: "Complete the probation order without further offences",
            pm.CoreDomain.SOCIAL_FUNCTIONING: "Find stable housing and start a volunteering placement",
        }
        for plan in plans:
            for domain, text in texts.items():
                if rng.random() < 0.7:
                    goals.append(
                        Goal(
                            care_plan=plan,
                            domain=domain,
                            description=text,
                            progress=rng.choice(GoalProgress.values[:4]),
                            self_managed=rng.random() < 0.25,
                        )
                    )
        Goal.objects.bulk_create(goals)
        GoalAction.objects.bulk_create(
            [
                GoalAction(
                    goal=g,
                    description="Agree the next step at the keyworker session",
                    owner=rng.choice([ActionOwner.PATIENT, ActionOwner.KEYWORKER]),
                )
                for g in goals
            ]
        )
        return len(goals)
