"""Builds the demo in memory with one random.Random, then writes it with bulk_create, parents first."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from careplans.models import CarePlan, Goal, GoalAction
from patients import models as pm
from recovery_reviews.formatting import day
from recovery_reviews.management.demo import evidence, review_history, stories
from recovery_reviews.management.demo.course import Course, days_between, demo_nhs_number, weighted
from recovery_reviews.management.demo.vocabulary import (
    AMOUNTS,
    CO_MORBIDITIES,
    DEMO_PASSWORD,
    EXIT_DISCUSSED_NOTES,
    EXIT_NOT_DISCUSSED_NOTE,
    EXIT_REASONS,
    EXIT_RELAPSE_RISK,
    FAMILY_NAMES,
    GIVEN_NAMES,
    OTHER_NAMES,
    OTHER_SUBSTANCES,
    PLANNED_EXITS,
    PRIMARY_DRUGS,
    STAFF,
    TEAM_SHARES,
    TEAMS,
    TOP_PREFIX,
    TRAJECTORIES,
)
from recovery_reviews.models import Role, Team, User
from reviews import models as rm
from reviews.scheduling import NO_CHECK_UP_EXITS
from reviews.services.transitions import ELEMENT_KINDS

# Parents before children: bulk_create sets each parent's primary key, which its children then take.
WRITE_ORDER = (
    pm.Patient,
    pm.TreatmentEpisode,
    pm.Intervention,
    pm.EpisodeCircumstance,
    pm.DispensingArrangement,
    pm.TopAssessment,
    pm.DrugTest,
    pm.DrugTestResult,
    pm.PharmacyReport,
    pm.MissedDose,
    pm.Appointment,
    rm.StrategicReview,
    rm.ReviewParticipant,
    rm.ReviewFinding,
    rm.ReviewResponse,
    rm.UnmetNeed,
    rm.RecoveryCheckUp,
    rm.ElementCheckUp,
    CarePlan,
    Goal,
    GoalAction,
)
OVERDUE_SHARE = 0.09  # open episodes whose latest review due was not held
AWAITING_SHARE = 0.06  # open episodes whose latest review was held without the patient (§2.4)


def flush_clinical_data() -> None:
    """Delete every patient and everything recorded about them. Staff stay; so does the audit log, which is
    append-only."""
    for model in (
        rm.Reminder,
        rm.UnmetNeed,
        rm.RecoveryCheckUp,
        rm.ElementCheckUp,
        rm.StrategicReview,
        pm.TreatmentEpisode,
    ):
        model.objects.all().delete()
    pm.Patient.objects.all().delete()


class DemoService:
    def __init__(self, *, seed: int, today: date, policy):
        self.rng = random.Random(seed)
        self.today = today
        self.policy = policy
        self.rows: dict[type, list] = {}
        self.story_courses: list[Course] = []
        self.nhs_numbers_taken: set[str] = set()

    def add(self, *objs) -> None:
        for obj in objs:
            self.rows.setdefault(type(obj), []).append(obj)

    def build(self, patients: int) -> None:
        self.staff()
        for course in self.patients(patients):
            first = len(self.rows.get(pm.Intervention, []))
            if course.story:
                stories.set_up(self, course)  # its treatment, as its story goes
            else:
                self.interventions(course)
                self.circumstances(course)
            course.elements = [
                i for i in self.rows.get(pm.Intervention, [])[first:] if i.kind in ELEMENT_KINDS
            ]
            evidence.top(
                self, course, course.episode.entry_date + timedelta(days=self.rng.randint(0, 7)), "start"
            )
            evidence.pharmacy_plan(self, course)
            review_history.hold_reviews(self, course)
            evidence.tops_between_reviews(self, course)
            evidence.pharmacy_reports(self, course)
            evidence.drug_tests(self, course)
            evidence.appointments(self, course)
            evidence.care_plan(self, course)
            evidence.check_ups(self, course)
            evidence.element_check_ups(self, course)
            self.close_dispensing_at_exit(course)
            if course.story:
                stories.finish(self, course)
        unknown = set(self.rows) - set(WRITE_ORDER)
        assert not unknown, f"add {unknown} to WRITE_ORDER"
        for model in WRITE_ORDER:
            model.objects.bulk_create(self.rows.get(model, []), batch_size=2000)
        self.date_goals()
        self.amendments()
        stories.tell(self)

    def date_goals(self) -> None:
        """A goal was written when its care plan was agreed (created_at stamps the seeding's time otherwise), so
        that a past review's evidence pack shows the goals it had; their progress is the course's today, written
        without the change log, so on a past day it reads as unknown and the pack says it is shown as it is now
        (docs/design.md, The evidence pack as of its date)."""
        goals = self.rows.get(Goal, [])
        for goal in goals:
            goal.created_at = timezone.make_aware(datetime.combine(goal.care_plan.agreed_on, time(10)))
        Goal.objects.bulk_update(goals, ["created_at"], batch_size=2000)

    def amendments(self) -> None:
        """A few of the records a real service accumulates, so the demo shows them: a caseload handed over, a
        pharmacy report entered in error, a mistyped entry date corrected. Written after the rest (they amend
        it), dated relative to the demo's today; the schedules are computed after this."""
        today = self.today
        told = {id(c.episode) for c in self.story_courses}  # the stories' records stay as they tell them
        open_north = sorted(
            (
                e
                for e in self.rows[pm.TreatmentEpisode]
                if e.exit_date is None
                and e.patient.team.name == "North"
                and (today - e.entry_date).days > 60
                and id(e) not in told
            ),
            key=lambda e: e.pk,
        )
        tom, aisha, ruth = self.users["kw.north2"], self.users["kw.north"], self.users["sp.north"]
        handed_over = next((e for e in open_north if e.patient.keyworker_id == tom.pk), None)
        if handed_over:
            patient = handed_over.patient
            pm.CareTeamChange.objects.create(
                patient=patient,
                changed_on=today - timedelta(days=21),
                from_team=patient.team,
                to_team=patient.team,
                from_keyworker=tom,
                to_keyworker=aisha,
                from_lead=handed_over.lead_practitioner,
                to_lead=handed_over.lead_practitioner,
                reason="Caseloads rebalanced: Tom is going part-time.",
                recorded_by=ruth,
            )
            pm.Patient.objects.filter(pk=patient.pk).update(keyworker=aisha)  # the episodes follow by trigger
            pm.Appointment.objects.filter(  # from then on Aisha sees them
                episode__patient=patient, starts_at__date__gte=today - timedelta(days=21)
            ).update(keyworker=aisha)
        in_error = next(
            (
                r
                for e in open_north
                for r in self.rows.get(pm.PharmacyReport, [])
                if r.episode_id == e.pk and (today - r.period_end).days < 60
            ),
            None,
        )
        if in_error:
            pm.PharmacyReport.with_errors.filter(pk=in_error.pk).update(
                entered_in_error_at=timezone.make_aware(datetime.combine(in_error.period_end, time(15))),
                entered_in_error_by=aisha,
                entered_in_error_reason="The pharmacy sent another patient's report; the right one follows.",
            )
        corrected = next((e for e in open_north if e is not handed_over), None)
        if corrected:
            row = pm.RecordCorrection.objects.create(
                patient=corrected.patient,
                episode=corrected,
                field="entry_date",
                label="Entered treatment on",
                before=day(corrected.entry_date + timedelta(days=10)),
                after=day(corrected.entry_date),
                reason="Mistyped at registration: the referral letter gives the earlier date.",
                corrected_by=ruth,
            )
            when = timezone.make_aware(datetime.combine(corrected.entry_date + timedelta(days=14), time(11)))
            pm.RecordCorrection.objects.filter(pk=row.pk).update(corrected_at=when)

    def staff(self) -> None:
        self.teams = {
            name: Team.objects.update_or_create(name=name, defaults={"weekly_review_capacity": capacity})[0]
            for name, capacity in TEAMS
        }
        password = make_password(DEMO_PASSWORD)  # hashed once: a hash per login would cost seconds
        self.users = {}
        for username, given, family, role, team, managed in STAFF:
            self.users[username], _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": given,
                    "last_name": family,
                    "email": f"{given}.{family}@example.nhs.uk".lower(),
                    "role": role,
                    "team": self.teams.get(team),
                    "is_staff": role == Role.SUPPORT,
                    "is_superuser": role == Role.SUPPORT,
                    "is_active": True,
                    "password": password,
                },
            )
            self.users[username].managed_teams.set([self.teams[name] for name in managed])
        staff = list(self.users.values())
        self.keyworkers = {
            name: [u for u in staff if u.role == Role.KEYWORKER and u.team == team]
            for name, team in self.teams.items()
        }
        self.leads = {
            name: next(u for u in staff if u.role == Role.SENIOR_PRACTITIONER and u.team == team)
            for name, team in self.teams.items()
        }

    def patients(self, count: int) -> list[Course]:
        """Patients who entered over the last three years; a few who dropped out have come back. Then, in a
        demo big enough, the patients of the stories (stories.py), in North."""
        rng, today = self.rng, self.today
        taken = self.nhs_numbers_taken
        told = stories.STORIES if count >= stories.MIN_PATIENTS else ()
        courses = []
        for _ in range(count - len(told)):
            team = weighted(rng, TEAM_SHARES)
            patient = pm.Patient(
                given_name=rng.choice(GIVEN_NAMES),
                family_name=rng.choice(FAMILY_NAMES),
                date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randrange(43 * 365)),
                nhs_number=demo_nhs_number(rng, taken) if rng.random() < 0.9 else "",
                team=self.teams[team],
                keyworker=rng.choice(self.keyworkers[team]),
            )
            self.add(patient)
            course = self.episode(patient, today - timedelta(days=rng.randint(5, 3 * 365)), can_end=True)
            courses.append(course)
            exit_on = course.episode.exit_date
            dropped_out = course.episode.exit_reason == "dropped_out" and days_between(exit_on, today) > 120
            if dropped_out and rng.random() < 0.4:  # came back into treatment
                back = exit_on + timedelta(days=rng.randint(60, days_between(exit_on, today) - 14))
                course.back_on = back
                courses.append(self.episode(patient, back, can_end=False))
        self.assign_fates([c for c in courses if c.episode.exit_date is None])
        self.story_courses = [stories.course(self, story) for story in told]
        return courses + self.story_courses

    def episode(self, patient: pm.Patient, entry: date, *, can_end: bool) -> Course:
        rng, today = self.rng, self.today
        primary = weighted(rng, PRIMARY_DRUGS)
        others = [code for code, chance in OTHER_SUBSTANCES[primary] if rng.random() < chance]
        exit_on, reason = None, ""
        if can_end and days_between(entry, today) > 150 and rng.random() < 0.22:
            exit_on = entry + timedelta(days=rng.randint(90, days_between(entry, today) - 3))
            reason = weighted(rng, EXIT_REASONS)
        check = self.exit_check(reason) if exit_on else {}
        co_morbidities = ""
        if rng.random() < 0.35:
            co_morbidities = " ".join(rng.sample(CO_MORBIDITIES, rng.randint(1, 2)))
        episode = pm.TreatmentEpisode(
            patient=patient,
            entry_date=entry,
            exit_date=exit_on,
            exit_reason=reason,
            primary_drug=primary,
            other_substances=others,
            co_morbidities=co_morbidities,
            lead_practitioner=self.leads[patient.team.name],
            **check,
        )
        self.add(episode)
        if reason in PLANNED_EXITS:
            trajectory = "improving"
        elif reason:
            trajectory = rng.choice(("plateaued", "deteriorating"))
        else:
            trajectory = weighted(rng, TRAJECTORIES)
        course = Course(episode=episode, trajectory=trajectory, end=exit_on or today)
        self.profile(course, primary, others)
        return course

    def exit_check(self, reason: str) -> dict:
        """The safety check at exit (Intro, App. B; patients/models/leaving.py) as the keyworker filled it in:
        the relapse risk (not asked after a death), and whether the risk of death after leaving treatment and
        the skills to reduce it were discussed (not asked after a death or a transfer), with why not when they
        could not be (someone who stopped coming)."""
        rng = self.rng
        if reason == "died":
            return {}
        check = {"exit_relapse_risk": weighted(rng, EXIT_RELAPSE_RISK[reason])}
        if reason in NO_CHECK_UP_EXITS:  # another service takes them on
            return check
        discussed = reason != "dropped_out" or rng.random() < 0.5
        check.update(
            exit_risk_of_death_discussed=discussed,
            exit_harm_reduction_discussed=discussed,
            exit_discussion_note=rng.choice(EXIT_DISCUSSED_NOTES) if discussed else EXIT_NOT_DISCUSSED_NOTE,
        )
        return check

    def close_dispensing_at_exit(self, course: Course) -> None:
        """The dispensing arrangement in force when the episode ends is closed on the exit date, as the exit
        does (patients.services.episode_exit)."""
        exit_on = course.episode.exit_date
        current = [a for a in course.arrangements if a.effective_from <= exit_on] if exit_on else []
        if current:
            sorted(current, key=lambda a: a.effective_from)[-1].ended_on = exit_on  # of one day, the latest

    def profile(self, course: Course, primary: str, others: list) -> None:
        rng = self.rng
        span = max(30, days_between(course.episode.entry_date, course.end))
        start = rng.uniform(0.85, 1.0)
        if course.trajectory == "improving":
            course.shape = (start, rng.uniform(0.0, 0.12), rng.randint(150, 420), 0.0)
        elif course.trajectory == "plateaued":
            course.shape = (start, rng.uniform(0.4, 0.6), rng.randint(90, 180), 0.0)
        else:
            turn = max(20, min(rng.randint(100, 200), span // 2))
            course.shape = (start, rng.uniform(0.35, 0.55), turn, rng.uniform(0.85, 1.0))
        course.peaks[TOP_PREFIX[primary]] = rng.randint(20, 28)
        for other in others:
            course.peaks.setdefault(TOP_PREFIX[other], rng.randint(3, 14))
            course.other_name = OTHER_NAMES.get(other, course.other_name)
        course.amounts = {prefix: rng.uniform(*AMOUNTS[prefix]) for prefix in course.peaks}
        course.injector = primary == "heroin" and rng.random() < 0.45
        course.crime = rng.choice((0.0, 0.2, 0.5, 1.0))
        course.ratings = {name: (rng.randint(3, 8), rng.randint(13, 18)) for name in pm.TOP_RATINGS}
        course.work = rng.choice((0, 0, 8, 16, 20))
        course.housing = rng.choice((0.05, 0.2, 0.5))

    def assign_fates(self, open_courses: list[Course]) -> None:
        """Shares rather than chances, so that even a small demo (ten open episodes) shows an overdue review and
        one awaiting the patient's involvement."""
        order = self.rng.sample(open_courses, len(open_courses))
        at_least = 1 if len(order) >= 10 else 0
        overdue = max(at_least, round(OVERDUE_SHARE * len(order)))
        awaiting = max(at_least, round(AWAITING_SHARE * len(order)))
        for course in order[:overdue]:
            course.fate = "overdue"
        for course in order[overdue : overdue + awaiting]:
            course.fate = "awaiting"

    def interventions(self, course: Course) -> None:
        """OST for most heroin users (titrated from a starting dose), psychosocial work for everyone, recovery
        support as things improve, detox before a drug-free completion and for some drinkers."""
        rng, episode = self.rng, course.episode
        entry, exit_on = episode.entry_date, episode.exit_date
        if episode.primary_drug == "heroin" and rng.random() < 0.92:
            self.ost(course)
        self.intervention(
            episode,
            "psychosocial",
            entry + timedelta(days=rng.randint(0, 14)),
            exit_on,
            note="Keywork-based psychosocial: motivational work and relapse prevention.",
        )
        support_from = entry + timedelta(days=rng.randint(120, 300))
        if course.trajectory != "deteriorating" and support_from < course.end:
            self.intervention(
                episode, "recovery_support", support_from, exit_on, note="SMART Recovery and a peer mentor."
            )
        if episode.exit_reason == "completed_drug_free":
            detox_from = max(entry, exit_on - timedelta(days=rng.randint(42, 84)))
            self.intervention(episode, "detox", detox_from, exit_on, note="Planned community detoxification.")
        elif episode.primary_drug == "alcohol" and rng.random() < 0.4:
            detox_from = entry + timedelta(days=rng.randint(20, 60))
            if detox_from + timedelta(days=10) < course.end:
                ended = detox_from + timedelta(days=10)
                self.intervention(
                    episode, "detox", detox_from, ended, note="Community alcohol detox, completed."
                )

    def ost(self, course: Course) -> None:
        rng, episode = self.rng, course.episode
        entry, exit_on = episode.entry_date, episode.exit_date
        if rng.random() < 0.65:
            medicine, starting, dose = pm.Medicine.METHADONE, 30, rng.randrange(30, 125, 5)
        else:
            medicine, starting, dose = pm.Medicine.BUPRENORPHINE, 8, rng.randrange(4, 26, 2)
        titrated = entry + timedelta(days=rng.randint(14, 35))
        if dose > starting and titrated < course.end:
            ended = titrated - timedelta(days=1)
            start_note = "Starting dose, titrated weekly."
            course.ost.append(self.intervention(episode, "ost", entry, ended, medicine, starting, start_note))
            entry = titrated
        note = "Maintenance dose agreed with the prescriber."
        course.ost.append(self.intervention(episode, "ost", entry, exit_on, medicine, dose, note))
        self.arrangement(course, episode.entry_date, 0, "start", "Supervised consumption to start with.")

    def intervention(self, episode, kind, started, ended, medicine="", dose=None, note=""):
        intervention = pm.Intervention(
            episode=episode,
            kind=kind,
            medicine=medicine,
            daily_dose_mg=Decimal(dose) if dose is not None else None,
            started_on=started,
            ended_on=max(ended, started) if ended else None,
            note=note,
        )
        self.add(intervention)
        return intervention

    def arrangement(self, course: Course, effective: date, doses: int, reason: str, note: str) -> None:
        """Every change of dispensing is a new arrangement with its reason (App. C 1)."""
        course.take_home.append((effective, doses))
        course.take_home.sort(key=lambda change: change[0])
        arrangement = pm.DispensingArrangement(
            episode=course.episode,
            effective_from=effective,
            take_home_doses_per_week=doses,
            change_reason=reason,
            reason_note=note,
            recorded_by=course.episode.lead_practitioner,
        )
        course.arrangements.append(arrangement)
        self.add(arrangement)

    def circumstances(self, course: Course) -> None:
        """A §1.6 circumstance on about one episode in five; transitions and short treatments end."""
        rng, episode = self.rng, course.episode
        if rng.random() >= 0.2:
            return
        entry, span = episode.entry_date, days_between(episode.entry_date, course.end)
        if episode.co_morbidities and rng.random() < 0.6:
            code, start, note = "complex_needs", entry, "Co-occurring mental and physical health needs."
        elif course.trajectory == "deteriorating" and span > 120:
            code, start = "not_benefiting", entry + timedelta(days=rng.randint(90, span - 10))
            note = "Still using most days despite an optimised dose."
        elif episode.primary_drug == "alcohol":
            code, start, note = "short_term_treatment", entry, "Planned 12-week alcohol treatment."
        else:
            code, start = "transition", entry + timedelta(days=rng.randint(0, max(0, span - 10)))
            note = rng.choice(
                (
                    "Released from prison on licence.",
                    "Moving into supported housing.",
                    "Pregnant: joint care with the specialist midwife.",
                )
            )
        ended = None
        if code in ("transition", "short_term_treatment") and rng.random() < 0.6:
            ended = start + timedelta(days=rng.randint(60, 120))
            ended = ended if ended < course.end else None
        circumstance = pm.EpisodeCircumstance(
            episode=episode,
            code=code,
            started_on=start,
            ended_on=ended,
            note=note,
            recorded_by=episode.patient.keyworker,
        )
        course.circumstances.append(circumstance)
        self.add(circumstance)
