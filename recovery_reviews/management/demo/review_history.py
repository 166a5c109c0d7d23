"""Strategic reviews, held when the scheduling policy says they are due (with the slippage real services have),
from the facts the scheduling adapter reads, so that the stored schedule tells the same story as the history.
Findings follow the patient's course, responses follow App. C, and dispensing follows the responses."""

from dataclasses import replace
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from patients import models as pm
from recovery_reviews.formatting import day as format_day
from recovery_reviews.management.demo.course import Course, date_between
from recovery_reviews.management.demo.evidence import top
from recovery_reviews.management.demo.vocabulary import (
    FAMILY_COMMENTS,
    GIVEN_NAMES,
    OTHER_PARTICIPANTS,
    PRESCRIBERS,
    SELF_REPORT,
    TOP_PREFIX,
    UNMET_NEEDS,
)
from recovery_reviews.models import Role
from reviews import models as rm
from reviews.findings import SUGGESTIONS
from reviews.scheduling import ReviewFacts, next_review
from reviews.scheduling_missed_doses import missed_dose_deterioration
from reviews.services.transitions import (
    NOT_BENEFITING,
    NOT_BENEFITING_FINDINGS,
    element_row,
    treatment_transitions,
)

DETERIORATING = rm.Finding.DETERIORATING_ADHERENCE


def hold_reviews(demo, course: Course) -> None:
    """Walk the episode forward, one review at a time. Open episodes are reviewed up to today (a story's up to
    its reviews_until: its later reviews are recorded through the services, stories.py); an 'overdue' one
    leaves its latest review unheld and an 'awaiting' one holds it without the patient (§2.4).

    The facts are those the scheduling adapter reads (reviews.services.schedule), second edition included: the
    treatment transitions (rule 3b), no appearance of benefit or less than anticipated at the last review (rule
    3c) and runs of missed doses read across reports (rule 4b)."""
    rng, episode = demo.rng, course.episode
    entry, exit_on = episode.entry_date, episode.exit_date
    until = course.reviews_until or demo.today
    runs = sorted(course.runs)
    transitions = treatment_transitions([element_row(i) for i in course.elements], episode)
    completed: list[date] = []
    findings: list[str] = []
    agreed, justified, found_on = None, False, None
    for _ in range(60):
        since = completed[-1] if completed else entry
        # Rule 4 reads the runs of missed doses since the last review, and a deterioration found at it.
        run_on = missed_dose_deterioration(course.missed, since, demo.policy)
        events = [day for day in (run_on, found_on) if day is not None and day >= since]
        factors = {c.code for c in course.circumstances if c.ended_on is None or c.ended_on >= since}
        if completed and any(code in NOT_BENEFITING_FINDINGS for code in findings):
            factors.add(NOT_BENEFITING)
        facts = ReviewFacts(
            entry_date=entry,
            completed_reviews=tuple(completed),
            earlier_review_factors=frozenset(factors),
            adherence_deteriorated_on=min(events, default=None),
            agreed_next_date=agreed,
            extension_justified=justified,
            transitions=transitions,
        )
        due = next_review(facts, policy=demo.policy)
        held = pick_held(demo, due, since, facts.adherence_deteriorated_on)
        if exit_on is not None:
            if held >= exit_on:
                break
        else:
            yesterday = until - timedelta(days=1)
            if held > yesterday:
                low = max(since, due.target - timedelta(days=21)) + timedelta(days=7)
                if due.deadline >= until or low > yesterday:
                    break  # not yet due, or still in time
                held = date_between(rng, low, yesterday)  # held late rather than not at all
            if course.fate != "natural" and due.deadline < until and last_before(demo, facts, held):
                if course.fate == "awaiting":  # held recently, without the patient
                    held = max(held, until - timedelta(days=rng.randint(3, 45)))
                    reinstate_after_runs(demo, course, runs, held)
                    record_review(demo, course, held, None, findings)
                break  # overdue: the latest review due was not held
        reinstate_after_runs(demo, course, runs, held)
        involved = held if rng.random() > 0.04 else held + timedelta(days=rng.randint(5, 21))
        involved = held if involved >= (exit_on or until) else involved
        after_run = any(since <= day <= held for day in course.runs)
        review, findings = record_review(demo, course, held, involved, findings, after_run=after_run)
        completed.append(involved)
        agreed, justified = review.agreed_next_date, review.extension_justified
        found_on = involved if DETERIORATING in findings else None
    reinstate_after_runs(demo, course, runs, course.end)


def last_before(demo, facts: ReviewFacts, held: date) -> bool:
    """Whether a review held on `held` would be the last one due before today."""
    after = replace(
        facts,
        completed_reviews=(*facts.completed_reviews, held),
        adherence_deteriorated_on=None,
        agreed_next_date=None,
        extension_justified=False,
    )
    return next_review(after, policy=demo.policy).deadline >= demo.today


def pick_held(demo, due, since: date, event: date | None) -> date:
    rng = demo.rng
    if event is not None and "deteriorating_adherence" in due.rules:
        held = date_between(rng, min(event + timedelta(days=3), due.target), due.target)
    elif due.deadline > due.target:  # a first review: due from 3 months, by 6
        held = due.target + timedelta(
            days=rng.randint(-20, 45) if rng.random() > 0.1 else rng.randint(90, 120)
        )
    else:
        held = due.target + timedelta(days=rng.randint(-28, 7) if rng.random() > 0.1 else rng.randint(8, 40))
    return max(held, since + timedelta(days=7))


def reinstate_after_runs(demo, course: Course, runs: list, until: date) -> None:
    """Three or more missed doses in a row: tolerance may be lost, so take-home doses stop (App. C 1)."""
    while runs and runs[0] <= until:
        day = runs.pop(0)
        if course.take_home_on(day) > 0 and day + timedelta(days=1) < course.end:
            note = (
                f"Missed doses up to {format_day(day)}, three or more in a row: tolerance may be lost. "
                "Prescriber informed; supervised consumption reinstated."
            )
            demo.arrangement(course, day + timedelta(days=1), 0, "reinstate_supervision", note)


def record_review(
    demo, course: Course, held: date, completed_on: date | None, previous: list, after_run=False
):
    """One review with its TOP, participants (§2.6), per-domain assessment (§2.10), findings and responses
    (App. C), unmet needs (§2.14) and, when the patient took part, the next date agreed with them (§1.3-1.5)."""
    rng, episode = demo.rng, course.episode
    keyworker = episode.patient.keyworker
    prescribing = course.on_ost(held) is not None
    lead = episode.lead_practitioner if prescribing or rng.random() < 0.5 else keyworker  # §2.5
    top_day = max(held - timedelta(days=rng.randint(0, 7)), episode.entry_date + timedelta(days=28))
    if all(t.assessed_on < top_day - timedelta(days=28) for t in course.tops):
        top(demo, course, min(top_day, held), pm.TopStage.REVIEW)
    findings = choose_findings(demo, course, held, previous, after_run, prescribing)
    awaiting = completed_on is None
    review = rm.StrategicReview(
        episode=episode,
        held_on=held,
        lead=lead,
        created_by=lead,
        status=rm.ReviewStatus.AWAITING_PATIENT if awaiting else rm.ReviewStatus.COMPLETED,
        patient_took_part=completed_on == held,
        patient_involved_on=completed_on if completed_on and completed_on != held else None,
        completed_on=completed_on,
        self_report="" if awaiting else rng.choice(SELF_REPORT[course.trajectory]),
        overview=(
            "Held without the patient, who did not attend: to be completed with them (§2.4)."
            if awaiting
            else "Step back over the whole care plan with the TOPs, drug tests"
            + (", pharmacy reports" if prescribing else "")
            + " and the care-plan goals."
        ),
    )
    assess(review, course)
    if not awaiting:
        agree_next_date(demo, review, course, findings, completed_on)
    demo.add(review)
    add_participants(demo, review, course, lead, awaiting)
    for code in findings:
        finding = rm.ReviewFinding(review=review, code=code)
        demo.add(finding)
        for i, response in enumerate(fitting_responses(course, code, held)):
            if i == 0 or rng.random() < 0.7:
                demo.add(rm.ReviewResponse(review=review, finding=finding, code=response))
        if not awaiting:
            dispense(demo, course, code, held)
    if rng.random() < (0.03 if course.trajectory == "improving" else 0.12):
        kind, category, description = rng.choice(UNMET_NEEDS)
        need = rm.UnmetNeed(
            episode=episode,
            review=review,
            category=category,
            kind=kind,
            description=description,
            recorded_on=held,
            recorded_by=lead,
        )
        demo.add(need)
    return review, findings


def add_participants(demo, review, course: Course, lead, awaiting: bool) -> None:
    rng, episode = demo.rng, course.episode
    keyworker = episode.patient.keyworker
    lead_role = "senior_practitioner" if lead.role == Role.SENIOR_PRACTITIONER else "keyworker"
    people = [(str(lead), lead_role, lead)]
    if not awaiting:
        people.append((str(episode.patient), "patient", None))
    if lead != keyworker:
        people.append((str(keyworker), "keyworker", keyworker))
    if course.on_ost(review.held_on) and rng.random() < 0.4:
        people.append((PRESCRIBERS[episode.patient.team.name], "doctor", None))
    if not awaiting and rng.random() < 0.2:
        people.append((f"{rng.choice(GIVEN_NAMES)} {episode.patient.family_name}", "family", None))
        review.family_comments = rng.choice(FAMILY_COMMENTS)
    for chance, name, role in OTHER_PARTICIPANTS:
        if rng.random() < (0.1 * course.crime if chance == "probation" else chance):
            people.append((name, role, None))
    for name, role, staff in people:
        demo.add(rm.ReviewParticipant(review=review, name=name, role=role, staff=staff))


def choose_findings(
    demo, course: Course, held: date, previous: list, after_run: bool, prescribing: bool
) -> list:
    """What the review found (App. C), from how the patient is doing and what happened since the last one."""
    rng, level = demo.rng, course.level(held)
    take_home = course.take_home_on(held)
    if after_run and prescribing:
        return [DETERIORATING]
    if DETERIORATING in previous:
        return [rm.Finding.LESS_BENEFIT_THAN_EXPECTED]
    if course.rising(held) and level > 0.6:
        if prescribing and rng.random() < 0.25:
            return [DETERIORATING]
        return [rng.choice((rm.Finding.LESS_BENEFIT_THAN_EXPECTED, rm.Finding.NO_BENEFIT))]
    if level < 0.45:
        if prescribing and take_home == 0:
            return [rm.Finding.STABLE_ADHERENCE]
        if prescribing and take_home < 6:
            extra = [rm.Finding.GOOD_PROGRESS] if rng.random() < 0.5 else []
            return [rm.Finding.CONTINUED_GOOD_ADHERENCE, *extra]
        return [rm.Finding.GOOD_PROGRESS]
    if prescribing and level < 0.6 and take_home == 0 and rng.random() < 0.5:
        return [rm.Finding.STABLE_ADHERENCE]  # stable enough for some take-home doses, for now
    if course.trajectory == "plateaued" and level < 0.7:
        return [rm.Finding.BENEFIT_PLATEAU if prescribing else rm.Finding.LESS_BENEFIT_THAN_EXPECTED]
    if level < course.shape[0] - 0.15:
        return [rm.Finding.GOOD_PROGRESS]
    return [rm.Finding.LESS_BENEFIT_THAN_EXPECTED]


def fitting_responses(course: Course, finding: str, held: date) -> list:
    """App. C's suggestions for the finding, less those that do not fit the dispensing of the day."""
    take_home = course.take_home_on(held)
    unfit = {
        rm.Response.INTRODUCE_TAKE_HOME: take_home > 0,
        rm.Response.EXTEND_TAKE_HOME: take_home in (0, 6, 7),
        rm.Response.REINSTATE_SUPERVISION: take_home == 0,
    }
    return [response for response in SUGGESTIONS[finding][0] if not unfit.get(response, False)]


def dispense(demo, course: Course, finding: str, held: date) -> None:
    """Take-home doses introduced and extended as adherence is shown, supervision reinstated when it
    deteriorates (App. C 1)."""
    if not course.take_home:
        return
    rng, current = demo.rng, course.take_home_on(held)
    effective = held + timedelta(days=rng.randint(1, 7))
    if effective >= course.end:
        return
    if finding == rm.Finding.STABLE_ADHERENCE and current == 0:
        doses, reason, note = rng.choice((2, 3)), "introduce_take_home", "Stable on OST; negative tests."
    elif finding == rm.Finding.CONTINUED_GOOD_ADHERENCE and current < 6:
        doses, reason = min(6, current + rng.choice((2, 3))), "extend_take_home"
        note = "Continued good adherence and benefit since the last review."
    elif finding == DETERIORATING and current > 0:
        doses, reason, note = (
            0,
            "reinstate_supervision",
            "Deteriorating adherence: supervised until re-review.",
        )
    else:
        return
    demo.arrangement(course, effective, doses, reason, note)


def agree_next_date(demo, review, course: Course, findings: list, completed_on: date) -> None:
    """Most reviews agree the next date with the patient (§1.3): within six months, sooner after a
    deterioration; a few stable patients agree a longer interval with the §1.5 justification, and now and
    then a longer date is written down without it (the policy does not use that one)."""
    rng, roll = demo.rng, demo.rng.random()
    stable = course.level(review.held_on) < 0.2 and course.take_home_on(review.held_on) >= 3
    if DETERIORATING in findings:
        review.agreed_next_date = completed_on + timedelta(days=rng.randint(21, 28)) if roll < 0.5 else None
    elif stable and roll < 0.3:
        review.agreed_next_date = completed_on + relativedelta(months=rng.choice((9, 12)))
        review.clear_continuing_benefit = review.no_significant_change_envisaged = True
        review.patient_agrees_interval = True
    elif roll < 0.03:
        review.agreed_next_date = completed_on + relativedelta(months=9)
    elif roll < 0.55:
        review.agreed_next_date = completed_on + relativedelta(months=rng.choice((3, 4, 5, 6)))


def assess(review, course: Course) -> None:
    """Each core domain's progress, read from the review's TOP against the one before (§2.10)."""
    tops = sorted((t for t in course.tops if t.assessed_on <= review.held_on), key=lambda t: t.assessed_on)
    if len(tops) < 2:
        return
    before, now = tops[-2], tops[-1]
    main = TOP_PREFIX[course.episode.primary_drug]
    label = {prefix: label for prefix, label, _ in pm.TOP_SUBSTANCES}[main].lower()
    review.drug_alcohol_progress = _progress(before.days_used(main), now.days_used(main))
    review.drug_alcohol_assessment = (
        f"TOP: {label} on {now.days_used(main)} of the last 28 days (was {before.days_used(main)})."
    )
    health = ("psychological_health", "physical_health")
    review.health_progress = _progress(
        _sum(before, health), _sum(now, health), lower_is_better=False, margin=3
    )
    review.health_assessment = (
        f"Psychological health {now.psychological_health}/20, physical health {now.physical_health}/20."
    )
    crime = ("shoplifting_days", "drug_selling_days")
    review.offending_progress = _progress(_sum(before, crime), _sum(now, crime))
    review.offending_assessment = (
        f"Shoplifting on {now.shoplifting_days} days, selling drugs on {now.drug_selling_days}."
    )
    review.social_progress = _progress(before.quality_of_life, now.quality_of_life, lower_is_better=False)
    review.social_assessment = (
        f"Quality of life {now.quality_of_life}/20; paid work on {now.paid_work_days} days."
    )


def _sum(assessment, names) -> int | None:
    values = [getattr(assessment, name) for name in names]
    return None if None in values else sum(values)


def _progress(was, now, *, lower_is_better=True, margin=2) -> str:
    if was is None or now is None:
        return rm.DomainProgress.NOT_ASSESSED
    gain = (was - now) if lower_is_better else (now - was)
    if gain > margin:
        return rm.DomainProgress.IMPROVED
    if gain < -margin:
        return rm.DomainProgress.DETERIORATED
    good = now <= 4 if lower_is_better else now >= 13
    return rm.DomainProgress.MAINTAINED if good else rm.DomainProgress.NO_CHANGE
