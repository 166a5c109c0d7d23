"""The evidence of an episode (§2.9) and the everyday record around it: TOPs, pharmacy reports, drug tests,
keyworker appointments, the care plan and recovery check-ups. Each function adds one episode's rows to the
demo (recovery_reviews.management.demo.service.DemoService)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from careplans.models import CarePlan, Goal, GoalAction, GoalProgress
from patients import models as pm
from recovery_reviews.management.demo.course import Course, clamp, days_between, weighted
from recovery_reviews.management.demo.vocabulary import (
    ACTIONS,
    CONTACT_NOTES,
    GOALS,
    PHARMACIES,
    PLANNED_EXITS,
)
from reviews import models as rm
from reviews.scheduling import NO_CHECK_UP_EXITS
from reviews.scheduling_missed_doses import missed_dose_runs, safety_events
from reviews.services.transitions import element_ends, element_row

CRIMES = ("theft_from_vehicle", "theft_other_property", "fraud_forgery_handling", "assault_violence")


def top(demo, course: Course, day: date, stage: str) -> pm.TopAssessment:
    """A TOP that reads the patient's level of problem use on `day`, every item of the form filled, except
    the odd one left unanswered (which is not zero)."""
    rng, level = demo.rng, course.level(day)
    assessment = pm.TopAssessment(
        episode=course.episode, assessed_on=day, stage=stage, recorded_by=course.episode.patient.keyworker
    )
    for prefix, _label, _unit in pm.TOP_SUBSTANCES:
        peak = course.peaks.get(prefix, 0)
        used = clamp(level * peak + rng.gauss(0, 1.2), 0, 28) if peak else 0
        for week, days in zip(pm.TOP_WEEKS, _spread_over_weeks(rng, used), strict=True):
            setattr(assessment, f"{prefix}_week{week}", days)
        amount = course.amounts.get(prefix, 0) * (0.5 + 0.5 * level) * rng.uniform(0.85, 1.15)
        setattr(assessment, f"{prefix}_amount", Decimal(f"{amount:.1f}") if used else None)
    assessment.other_substance_name = course.other_name
    opiate_days = assessment.days_used("opiates")
    injecting = clamp(opiate_days * rng.uniform(0.6, 1.0), 0, 28) if course.injector else 0
    assessment.injecting_days = injecting
    assessment.shared_needle = bool(injecting) and rng.random() < 0.15 * level
    assessment.shared_paraphernalia = bool(injecting) and rng.random() < 0.35 * level
    assessment.shoplifting_days = clamp(level * course.crime * 14 + rng.gauss(0, 1), 0, 28)
    assessment.drug_selling_days = clamp(level * course.crime * 5 + rng.gauss(0, 1), 0, 28)
    for crime in CRIMES:
        setattr(assessment, crime, rng.random() < 0.25 * level * course.crime)
    for name, (worst, best) in course.ratings.items():
        setattr(assessment, name, clamp(worst + (best - worst) * (1 - level) + rng.gauss(0, 1.3), 0, 20))
    working = level < 0.5 and course.work
    assessment.paid_work_days = (
        clamp(course.work * (1 - 2 * level) + rng.gauss(0, 1), 0, 28) if working else 0
    )
    studying = level < 0.3 and rng.random() < 0.2
    assessment.education_days = clamp(rng.gauss(3, 2), 0, 28) if studying else 0
    assessment.acute_housing_problem = rng.random() < course.housing * (0.3 + 0.7 * level)
    assessment.eviction_risk = rng.random() < course.housing * 0.5 * level
    if rng.random() < 0.12:
        for name in rng.sample((*pm.TOP_RATINGS, *pm.TOP_DAYS_28, *pm.TOP_YES_NO, "cannabis_week2"), 2):
            setattr(assessment, name, None)
    course.tops.append(assessment)
    demo.add(assessment)
    return assessment


def _spread_over_weeks(rng, days: int) -> list[int]:
    """Days used in 28, as the four weekly counts of the form (0-7 each); use is rarely even."""
    weeks = [days // 4] * 4
    for week in rng.sample(range(4), days % 4):
        weeks[week] += 1
    for _ in range(2):
        a, b = rng.randrange(4), rng.randrange(4)
        if weeks[a] > 0 and weeks[b] < 7:
            weeks[a], weeks[b] = weeks[a] - 1, weeks[b] + 1
    return weeks


def tops_between_reviews(demo, course: Course) -> None:
    """Besides the TOPs at treatment start and at reviews: one at least every six months between, one at a
    planned exit, and for some one six months after treatment ended."""
    rng, episode = demo.rng, course.episode
    limit = course.end - timedelta(days=1)
    dates = sorted(t.assessed_on for t in course.tops)
    for last, following in zip(dates, [*dates[1:], limit + timedelta(days=200)], strict=True):
        while days_between(last, following) > 200 and days_between(last, limit) >= 91:
            last += timedelta(days=rng.randint(91, min(182, days_between(last, limit))))
            top(demo, course, last, pm.TopStage.REVIEW)
    if episode.exit_reason in PLANNED_EXITS and rng.random() < 0.85:
        top(demo, course, episode.exit_date, pm.TopStage.EXIT)
    if episode.exit_date and episode.exit_reason not in NO_CHECK_UP_EXITS:  # another service's, or nobody's
        after = episode.exit_date + timedelta(days=rng.randint(170, 200))
        if after < demo.today and rng.random() < 0.4:
            top(demo, course, after, pm.TopStage.POST_EXIT)


def pharmacy_plan(demo, course: Course) -> None:
    """Which doses were missed in each fortnight of the last six months on OST. A run of three or more in a
    row is a safety event and calls an earlier re-review (App. C 1), wherever it spans: runs are read across the
    reports together (docs/design.md rule 4b), as the schedule reads them; reviews are held knowing the runs."""
    if not course.ost:
        return
    rng = demo.rng
    last = course.end if course.episode.exit_date else course.end - timedelta(days=2)
    if course.reports_until is not None:
        last = min(last, course.reports_until)
    first = max(course.ost[0].started_on + timedelta(days=7), course.end - timedelta(days=182))
    start = first + timedelta(days=-first.weekday() % 7)  # fortnights from a Monday
    run_chance = {"improving": 0.004, "plateaued": 0.015, "deteriorating": 0.07}[course.trajectory]
    while start + timedelta(days=13) <= last:
        days = [start + timedelta(days=i) for i in range(14)]
        missed = set()
        if rng.random() < run_chance and not course.steady:
            first_missed = rng.randint(0, 10)
            missed.update(days[first_missed : first_missed + rng.randint(3, 4)])
        elif rng.random() < 0.1 + 0.4 * course.level(start):
            # a steady course's odd missed dose never runs on into the next report
            missed.update(rng.sample(days[1:-1], 1) if course.steady else rng.sample(days, rng.randint(1, 2)))
        course.reports.append((start, days[-1], sorted(missed)))
        course.missed += sorted(missed)
        start += timedelta(days=14)
    course.runs = safety_events(course.missed, demo.policy)


def pharmacy_reports(demo, course: Course) -> None:
    """The fortnightly reports, with the take-home doses the arrangement of the day allowed. The report that
    holds a run's third missed day owns the safety event, so it says so and records the prescriber told."""
    if not course.ost:
        return
    rng, episode = demo.rng, course.episode
    pharmacy = rng.choice(PHARMACIES[episode.patient.team.name])
    safety_run = demo.policy.missed_dose_safety_run
    runs = [r for r in missed_dose_runs(course.missed) if r.length >= safety_run]
    for start, end, missed in course.reports:
        take_home = min(2 * course.take_home_on(start), 14 - len(missed))
        concerns, informed = "", None
        owned = [r for r in runs if start <= r.first + timedelta(days=safety_run - 1) <= end]
        if owned:
            run = owned[-1]
            in_a_row = days_between(run.first, min(run.last, end)) + 1
            informed = min(min(run.last, end) + timedelta(days=1), demo.today)
            concerns = (
                f"Did not attend {in_a_row} days in a row: not to be dosed until the prescriber has reviewed."
            )
        elif missed and rng.random() < 0.15:
            concerns = "Appeared intoxicated when attending; dosed after assessment."
        report = pm.PharmacyReport(
            episode=episode,
            pharmacy_name=pharmacy,
            period_start=start,
            period_end=end,
            doses_due=14,
            supervised_doses_taken=14 - take_home - len(missed),
            take_home_doses_collected=take_home,
            concerns=concerns,
            missed_dose_run=pm.longest_missed_run(missed),
            prescriber_informed_on=informed,
            recorded_by=episode.patient.keyworker,
        )
        demo.add(report, *(pm.MissedDose(report=report, missed_on=day) for day in missed))


def drug_tests(demo, course: Course) -> None:
    """A test every two to six weeks, for several substances; a positive for the prescribed medicine is
    expected, and heroin positives follow the patient's level of use."""
    rng, episode = demo.rng, course.episode
    uses = {episode.primary_drug, *episode.other_substances}
    stimulant = "crack" if "crack" in uses else "cocaine"
    day = episode.entry_date + timedelta(days=rng.randint(0, 10))
    while day < course.end:
        level, ost = course.level(day), course.on_ost(day)
        method = weighted(rng, (("urine", 65), ("oral_fluid", 35)))
        if episode.primary_drug == "alcohol" and rng.random() < 0.5:
            method, chances = "breath", {"alcohol": 0.1 + 0.7 * level}
        else:
            chances = {
                "heroin": 0.03 + 0.85 * level if "heroin" in uses else 0.02,
                stimulant: 0.05 + 0.6 * level if stimulant in uses else 0.04,
            }
            if "benzodiazepines" in uses or rng.random() < 0.3:
                chances["benzodiazepines"] = 0.5 * level if "benzodiazepines" in uses else 0.03
            if "cannabis" in uses and method == "urine":
                chances["cannabis"] = 0.3 + 0.6 * level
        test = pm.DrugTest(
            episode=episode, taken_on=day, method=method, recorded_by=episode.patient.keyworker
        )
        demo.add(test)
        for substance, chance in chances.items():
            result = "positive" if rng.random() < chance else "negative"
            result = "inconclusive" if rng.random() < 0.02 else result
            demo.add(pm.DrugTestResult(test=test, substance=substance, result=result))
        if ost is not None and method != "breath":
            taken = rng.random() < (0.88 if course.trajectory == "deteriorating" else 0.97)
            demo.add(
                pm.DrugTestResult(
                    test=test,
                    substance=ost.medicine,
                    result="positive" if taken else "negative",
                    expected_because_prescribed=True,
                )
            )
        day += timedelta(days=rng.randint(14, 42))


def appointments(demo, course: Course) -> None:
    """Weekly at first, then fortnightly, monthly for the stable; each attended one with its ongoing-review
    note (§1.1); the next one booked."""
    rng, episode = demo.rng, course.episode
    keyworker = episode.patient.keyworker
    day = episode.entry_date + timedelta(days=rng.randint(1, 7))
    while day < course.end:
        level = course.level(day)
        if rng.random() < 0.95 - 0.3 * level:
            status, note = "attended", _contact_note(demo, course, day)
        else:
            status, note = rng.choice(("missed", "missed", "cancelled")), ""
        demo.add(
            pm.Appointment(
                episode=episode,
                keyworker=keyworker,
                starts_at=_at(demo, day),
                status=status,
                review_note=note,
            )
        )
        settled = days_between(episode.entry_date, day) >= 56
        weeks = 1 if not settled else (2 if level > 0.3 or rng.random() < 0.5 else 4)
        day += timedelta(days=7 * weeks + rng.randint(-1, 1))
    if episode.exit_date is None and course.end == demo.today:  # not for a story's exit yet to record
        starts_at = _at(demo, demo.today + timedelta(days=rng.randint(1, 14)))
        demo.add(pm.Appointment(episode=episode, keyworker=keyworker, starts_at=starts_at, status="booked"))


def _at(demo, day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(demo.rng.randint(9, 15), demo.rng.choice((0, 30)))))


def _contact_note(demo, course: Course, day: date) -> str:
    level, ost, drug = course.level(day), course.on_ost(day), course.episode.primary_drug
    if level < 0.2:
        use = f"No {drug} use reported since the last contact."
    elif level < 0.6:
        use = f"Reports using {drug} on a few days since the last contact."
    else:
        use = f"Using {drug} most days; talked through harm reduction and overdose risk."
    dose = f" On {ost.daily_dose_mg.normalize():f} mg {ost.medicine} daily, no side effects." if ost else ""
    return f"{use}{dose} {demo.rng.choice(CONTACT_NOTES)}"


def care_plan(demo, course: Course) -> None:
    """Goals in the core domains with actions and owners; more of them self-managed as recovery goes on
    (§2.12)."""
    rng, episode = demo.rng, course.episode
    agreed_on = min(episode.entry_date + timedelta(days=rng.randint(0, 14)), course.end)
    plan = CarePlan(episode=episode, agreed_on=agreed_on)
    demo.add(plan)
    level, months = course.level(course.end), days_between(episode.entry_date, course.end) / 30
    if level < 0.1 and rng.random() < 0.5:
        progress = GoalProgress.ACHIEVED
    elif level < 0.35:
        progress = GoalProgress.GOOD_PROGRESS
    else:
        progress = GoalProgress.SOME_PROGRESS if level < 0.7 else GoalProgress.NOT_STARTED
    chances = {
        "drug_alcohol_use": 1,
        "health": 0.7,
        "offending": 0.8 * course.crime,
        "social_functioning": 0.75,
    }
    for domain, texts in GOALS.items():
        if rng.random() >= chances[domain]:
            continue
        goal = Goal(
            care_plan=plan,
            domain=domain,
            description=rng.choice(texts).format(drug=episode.primary_drug),
            target_date=agreed_on + timedelta(days=rng.randint(60, 240)),
            progress=progress,
            self_managed=course.trajectory == "improving" and rng.random() < min(0.6, months / 30),
        )
        demo.add(goal)
        for owner, owner_name, text in rng.sample(ACTIONS, rng.randint(1, 2)):
            target = agreed_on + timedelta(days=rng.randint(14, 120))
            done = progress in (GoalProgress.ACHIEVED, GoalProgress.GOOD_PROGRESS) and target < demo.today
            demo.add(
                GoalAction(
                    goal=goal,
                    description=text,
                    owner=owner,
                    owner_name=owner_name,
                    target_date=target,
                    completed_on=target if done else None,
                    created_by=episode.patient.keyworker,
                )
            )


def check_ups(demo, course: Course) -> None:
    """Recovery check-ups after exit (§1.7), as the services record them (docs/design.md rules 7 and 7c): none
    after a death or a transfer, where none is owed, and none once the person is back in treatment. Most are held
    about on time. Some first find the person could not be reached: the attempt is kept, and the same check-up
    is held a few days later (it keeps its number). Early signs of relapse bring the next one within 14 days. A
    recent one is sometimes still to do, so a few are overdue, none for long."""
    rng, episode, policy = demo.rng, course.episode, demo.policy
    if episode.exit_date is None or episode.exit_reason in NO_CHECK_UP_EXITS:
        return
    until = min(demo.today, course.back_on) if course.back_on else demo.today
    relapse_on = None
    for offset in policy.check_up_offsets:
        target = offset.after(episode.exit_date)
        if relapse_on is not None:  # rule 7c
            target = min(target, relapse_on + timedelta(days=policy.relapse_check_up_days))
        held = target + timedelta(days=rng.randint(-3, 12))
        if relapse_on is not None:
            held = max(held, relapse_on + timedelta(days=3))
        recent = days_between(target, demo.today) < 60
        if held >= until or (recent and rng.random() < 0.2):  # a recent one still to do
            return
        if rng.random() < 0.12:  # an attempt first: the check-up is still owed
            demo.add(_check_up(course, offset.sequence, held, "not_reached"))
            held += timedelta(days=rng.randint(3, 10))
            if held >= until:
                return
        outcome = weighted(rng, (("stable", 62), ("support_increased", 24), ("relapse_risk", 14)))
        demo.add(_check_up(course, offset.sequence, held, outcome))
        relapse_on = held if outcome == "relapse_risk" else None


CHECK_UP_NOTES = {
    "not_reached": "Three calls and a letter, no answer.",
    "relapse_risk": "Seen at the hub: using again on some days. Offered rapid access back into treatment.",
}


def element_check_ups(demo, course: Course) -> None:
    """The check-up 14 days after each element of treatment that ended while the episode stayed open (§1.7,
    docs/design.md rule 7b), held by the keyworker about on time; one that ended in the last three weeks is still
    to do, so the demo shows it owed."""
    rng, episode = demo.rng, course.episode
    rows = [element_row(i) for i in course.elements]
    for end in element_ends(rows, episode):
        if episode.exit_date is not None and end >= episode.exit_date:
            continue  # it ended with the episode: rule 7's first check-up follows it
        held = end + timedelta(days=demo.policy.element_check_up_days + rng.randint(-3, 10))
        if days_between(end, demo.today) < 21 or held >= demo.today:
            continue
        outcome = weighted(rng, (("stable", 70), ("support_increased", 25), ("relapse_risk", 5)))
        demo.add(
            rm.ElementCheckUp(
                episode=episode,
                element_end=end,
                held_on=held,
                held_by=episode.patient.keyworker,
                outcome=outcome,
                notes=CHECK_UP_NOTES.get(outcome, "Seen at the hub."),
            )
        )


def _check_up(course: Course, sequence: int, held: date, outcome: str) -> rm.RecoveryCheckUp:
    return rm.RecoveryCheckUp(
        episode=course.episode,
        sequence=sequence,
        held_on=held,
        held_by=course.episode.patient.keyworker,
        outcome=outcome,
        notes=CHECK_UP_NOTES.get(outcome, "Seen at the hub."),
    )
