"""The moment of each story (stories.py), recorded through the services a keyworker or senior practitioner uses,
by them, after the bulk load: a first review, a dose cut or an end of OST, two pharmacy reports, an exit with its
safety check, check-ups after it and the new episode they open. stories.tell() runs these on the demo's today."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from patients import models as pm
from patients import services as record
from recovery_reviews.formatting import day
from recovery_reviews.management.demo import evidence, review_history
from recovery_reviews.management.demo.course import Course
from recovery_reviews.management.demo.vocabulary import PHARMACIES, PRESCRIBERS
from recovery_reviews.models import Role
from reviews.models import CheckUpOutcome, Finding, Response, StrategicReview
from reviews.services import strategic

METHADONE = pm.Medicine.METHADONE


def _ago(demo, days: int) -> date:
    return demo.today - timedelta(days=days)


def _staff(demo) -> SimpleNamespace:
    return SimpleNamespace(aisha=demo.users["kw.north"], ruth=demo.users["sp.north"])


def _first_review(
    demo,
    course: Course,
    *,
    lead,
    findings: list[dict],
    responses: list[dict],
    self_report: str,
    overview: str,
    prescriber: bool,
) -> None:
    """The episode's first strategic review, held with the patient on plot["review"] and completed at once, as
    a senior practitioner (or, without prescribing, the keyworker) records it (§2.5-2.6, §2.10, App. C)."""
    held, episode = course.plot["review"], course.episode
    other = episode.patient.keyworker if lead.role != Role.KEYWORKER else _staff(demo).ruth
    role = "keyworker" if other.role == Role.KEYWORKER else "senior_practitioner"
    participants = [{"name": str(other), "role": role, "staff": other}]
    if prescriber:
        participants.append({"name": PRESCRIBERS["North"], "role": "doctor"})
    review = strategic.review_start(episode=episode, lead=lead, by=lead, held_on=held)
    strategic.review_complete(
        review=review,
        by=lead,
        held_on=held,
        patient_took_part=True,
        participants=participants,
        self_report=self_report,
        overview=overview,
        assessments=_domain_assessments(course, held),
        findings=findings,
        responses=responses,
    )


def _domain_assessments(course: Course, held: date) -> dict:
    """Each core domain's progress read from the TOPs, as the bulk load's reviews have it (review_history)."""
    scratch = StrategicReview(held_on=held)
    review_history.assess(scratch, course)
    assessed = {name: getattr(scratch, name) for name in strategic.DOMAIN_FIELDS}
    for domain in strategic.CORE_DOMAINS:  # every domain considered, or why it could not be (§2.10-2.11)
        if assessed[f"{domain}_progress"] == "not_assessed" and not assessed[f"{domain}_assessment"]:
            assessed[f"{domain}_assessment"] = (
                "Not yet measurable: one TOP so far, discussed with the patient."
            )
    return assessed


def _tell_dose_cut(demo, course: Course) -> None:
    """The first review found benefit that had stopped growing, and the patient asked to come off; three weeks
    ago the prescriber cut methadone from 60 mg to 20 mg: the old dose ends and the new one starts the same day
    (rule 3b: the next review within 3 months of the cut; the record says "within 3 months of a transition")."""
    staff, plot = _staff(demo), course.plot
    _first_review(
        demo,
        course,
        lead=staff.ruth,
        findings=[
            {
                "code": Finding.BENEFIT_PLATEAU,
                "note": "Stable on 60 mg for three months, no use on top; wants to come off before starting work.",
            }
        ],
        responses=[
            {
                "code": Response.EXAMINE_PLATEAU,
                "note": "Reduction agreed with the prescriber, with weekly keywork and a plan to go back up at the "
                "first signs of relapse.",
            }
        ],
        self_report="Feels ready to start coming down; worried about the first weeks.",
        overview="Step back over the whole care plan with the TOPs, drug tests, pharmacy reports and the "
        "care-plan goals. Good progress on every domain; a planned reduction agreed.",
        prescriber=True,
    )
    record.intervention_end(intervention=plot["maintained"], ended_on=plot["cut"], by=staff.ruth)
    record.intervention_record(
        episode=course.episode,
        kind="ost",
        started_on=plot["cut"],
        medicine=METHADONE,
        daily_dose_mg=Decimal(20),
        note=f"Reduction agreed at the review of {day(plot['review'])}: reviewed weekly with the keyworker.",
        by=staff.ruth,
    )


def _tell_ost_ended(demo, course: Course) -> None:
    """The first review agreed to finish the buprenorphine reduction; OST ended nine days ago and the patient stays
    in treatment for keywork and recovery support (rule 3b: the review within 3 months of the end; rule 7b: the
    check-up 14 days after the end, beside it)."""
    staff, plot = _staff(demo), course.plot
    _first_review(
        demo,
        course,
        lead=staff.ruth,
        findings=[
            {"code": Finding.GOOD_PROGRESS, "note": ""},
            {
                "code": Finding.BENEFIT_PLATEAU,
                "note": "Stable on 6 mg; asks whether buprenorphine is still needed.",
            },
        ],
        responses=[
            {"code": Response.STEP_UP_RECOVERY_SUPPORT, "note": "SMART Recovery and a peer mentor."},
            {
                "code": Response.EXAMINE_PLATEAU,
                "note": "Agreed to stop buprenorphine over the coming weeks, staying in keywork, with rapid "
                "restart if cravings return.",
            },
        ],
        self_report="Says this is the longest they have been clean in years; wants to finish the reduction.",
        overview="Step back over the whole care plan with the TOPs, drug tests, pharmacy reports and the "
        "care-plan goals.",
        prescriber=True,
    )
    record.intervention_end(intervention=plot["down"], ended_on=plot["ended"], by=staff.ruth)


def _tell_missed_doses(demo, course: Course) -> None:
    """The first review, then the last two reports from the pharmacy, recorded as they came in: the first (from
    where the bulk load's reports end) with its last two days missed, the second, for the fortnight to
    yesterday, with its first two. Four in a row over two reports is a safety event (rule 4b), dated on its
    third day, two weeks ago: the review is due within 28 days of it, and the prescriber is not yet recorded as
    told."""
    aisha = _staff(demo).aisha
    episode = course.episode
    _first_review(
        demo,
        course,
        lead=_staff(demo).ruth,
        findings=[
            {
                "code": Finding.GOOD_PROGRESS,
                "note": "Attending the pharmacy daily; no use on top for six weeks.",
            }
        ],
        responses=[{"code": Response.STEP_UP_RECOVERY_SUPPORT, "note": "Introduced to the peer mentors."}],
        self_report="Things are steady; feels the dose is holding.",
        overview="Step back over the whole care plan with the TOPs, drug tests, pharmacy reports and the "
        "care-plan goals.",
        prescriber=True,
    )
    bulk = [r for r in demo.rows.get(pm.PharmacyReport, []) if r.episode is episode]
    pharmacy = bulk[-1].pharmacy_name if bulk else PHARMACIES["North"][0]
    second = _ago(demo, 14)
    first = bulk[-1].period_end + timedelta(days=1) if bulk else second - timedelta(days=14)
    for start, end, missed, concerns in (
        (first, second - timedelta(days=1), (-2, -1), ""),
        (
            second,
            _ago(demo, 1),
            (0, 1),
            "Did not attend on the first two days of this period: not dosed until the prescriber has reviewed.",
        ),
    ):
        due = (end - start).days + 1
        take_home = min(2 * course.take_home_on(start) * due // 14, due - 2)
        record.pharmacy_report_record(
            episode=episode,
            pharmacy_name=pharmacy,
            period_start=start,
            period_end=end,
            doses_due=due,
            supervised_doses_taken=due - take_home - len(missed),
            take_home_doses_collected=take_home,
            missed_dates=[second + timedelta(days=d) for d in missed],
            concerns=concerns,
            by=aisha,
        )


def _tell_no_benefit(demo, course: Course) -> None:
    """The first review, led by the keyworker (no prescribing), found no appearance of benefit (rule 3c: the next
    review within 3 months)."""
    _first_review(
        demo,
        course,
        lead=course.episode.patient.keyworker,
        findings=[
            {
                "code": Finding.NO_BENEFIT,
                "note": "Using crack most days, as at entry; the TOP has not moved; came to half the groups.",
            }
        ],
        responses=[
            {
                "code": Response.ALTERNATIVE_TREATMENT,
                "note": "Referred for assessment for the structured day programme; residential rehabilitation to "
                "be talked through at the next review.",
            }
        ],
        self_report="Says nothing has changed and the groups are not for them; wants something more intensive.",
        overview="Step back over the whole care plan with the TOPs, drug tests and the care-plan goals.",
        prescriber=False,
    )


def _tell_died(demo, course: Course) -> None:
    """Died: the exit form asks neither the relapse risk nor the discussion, so nothing of the check is recorded,
    and no check-up is owed; the record says why (rule 7 amended)."""
    record.episode_exit(
        episode=course.episode, exit_date=course.end, exit_reason="died", by=_staff(demo).aisha
    )


def _tell_transferred(demo, course: Course) -> None:
    """Transferred to another service, which now reviews them: the relapse risk is asked, the discussion is not,
    and no check-up is owed (rule 7 amended)."""
    record.episode_exit(
        episode=course.episode,
        exit_date=course.end,
        exit_reason="transferred",
        exit_relapse_risk="low",
        exit_discussion_note="Moved to Leeds to be near family: prescription and care handed over to the Leeds "
        "service, which now holds the reviews.",
        by=course.episode.patient.keyworker,
    )


def _tell_not_reached(demo, course: Course) -> None:
    """Dropped out, and the first check-up could not reach him: the attempt is kept and check-up 1 is still owed
    (rule 7c)."""
    aisha = _staff(demo).aisha
    record.episode_exit(
        episode=course.episode,
        exit_date=course.end,
        exit_reason="dropped_out",
        exit_relapse_risk="high",
        exit_risk_of_death_discussed=False,
        exit_harm_reduction_discussed=False,
        exit_discussion_note="Stopped attending and could not be reached before discharge: overdose-risk and "
        "naloxone advice sent by letter; a naloxone kit had been given earlier in treatment.",
        by=aisha,
    )
    strategic.check_up_record(
        episode=course.episode,
        held_on=course.end + timedelta(days=16),
        outcome=CheckUpOutcome.NOT_REACHED,
        notes="Two calls and a text, no answer; a letter sent to the last address.",
        by=aisha,
    )


def _tell_relapse_signs(demo, course: Course) -> None:
    """Completed drug free; the first check-up found recovery stable, the second, six days ago, early signs of
    relapse: the next check-up is due within 14 days, and the record offers a new episode (rule 7c)."""
    aisha = _staff(demo).aisha
    record.episode_exit(
        episode=course.episode,
        exit_date=course.end,
        exit_reason="completed_drug_free",
        exit_relapse_risk="moderate",
        exit_risk_of_death_discussed=True,
        exit_harm_reduction_discussed=True,
        exit_discussion_note="Naloxone kit given and its use shown; knows her tolerance is now low.",
        by=aisha,
    )
    for held_on, outcome, notes in (
        (
            course.end + timedelta(days=15),
            CheckUpOutcome.STABLE,
            "Seen at the hub: no use since leaving; going to SMART meetings.",
        ),
        (
            _ago(demo, 6),
            CheckUpOutcome.RELAPSE_RISK,
            "Lapsed twice in the last fortnight after a bereavement; cravings most days. Offered rapid access "
            "back into treatment: thinking it over, seen again within two weeks.",
        ),
    ):
        strategic.check_up_record(
            episode=course.episode, held_on=held_on, outcome=outcome, notes=notes, by=aisha
        )


def _tell_back_in_treatment(demo, course: Course) -> None:
    """Dropped out; the first check-up found early signs of relapse, and the next, within 14 days, arranged rapid
    access back into treatment: the new episode opens that day (the earlier one then owes nothing, rule 7c), with
    methadone restarted, supervised, and its first weeks recorded."""
    staff = _staff(demo)
    aisha, ruth = staff.aisha, staff.ruth
    record.episode_exit(
        episode=course.episode,
        exit_date=course.end,
        exit_reason="dropped_out",
        exit_relapse_risk="high",
        exit_risk_of_death_discussed=True,
        exit_harm_reduction_discussed=True,
        exit_discussion_note="Talked through at the last appointment before he stopped coming; naloxone kit given.",
        by=aisha,
    )
    relapse_on = course.end + timedelta(days=15)
    strategic.check_up_record(
        episode=course.episode,
        held_on=relapse_on,
        outcome=CheckUpOutcome.RELAPSE_RISK,
        notes="Using heroin again on most days; not ready to come back yet. Seen again within two weeks.",
        by=aisha,
    )
    back_on = relapse_on + timedelta(days=11)
    strategic.check_up_record(
        episode=course.episode,
        held_on=back_on,
        outcome=CheckUpOutcome.RETURNED_TO_TREATMENT,
        notes="Asked to come back: assessed at the hub the same day and restarted on methadone.",
        new_episode={
            "primary_drug": course.episode.primary_drug,
            "other_substances": list(course.episode.other_substances),
            "lead_practitioner": ruth,
        },
        by=aisha,
    )
    new = course.episode.patient.episodes.get(exit_date__isnull=True)
    restart = record.intervention_record(
        episode=new,
        kind="ost",
        started_on=back_on,
        medicine=METHADONE,
        daily_dose_mg=Decimal(30),
        note="Restarted at 30 mg after rapid access from the check-up; titrated weekly.",
        by=ruth,
    )
    record.intervention_end(intervention=restart, ended_on=back_on + timedelta(days=13), by=ruth)
    record.intervention_record(
        episode=new,
        kind="ost",
        started_on=back_on + timedelta(days=14),
        medicine=METHADONE,
        daily_dose_mg=Decimal(50),
        note="Maintenance dose agreed with the prescriber.",
        by=ruth,
    )
    record.intervention_record(
        episode=new,
        kind="psychosocial",
        started_on=back_on,
        note="Keywork-based psychosocial: relapse prevention.",
        by=aisha,
    )
    record.dispensing_change_record(
        episode=new,
        effective_from=back_on,
        take_home_doses_per_week=0,
        change_reason="start",
        reason_note="Supervised consumption after the return to treatment.",
        by=ruth,
    )
    answers = evidence.top(  # the demo's TOP of the day, drawn but not written: the service records it
        SimpleNamespace(rng=demo.rng, add=lambda *rows: None),
        replace(course, episode=new, end=demo.today, tops=[]),
        back_on,
        pm.TopStage.START,
    )
    record.top_assessment_record(
        episode=new, assessed_on=back_on, stage=pm.TopStage.START, answers=_top_answers(answers), by=aisha
    )
    record.drug_test_record(
        episode=new,
        taken_on=back_on + timedelta(days=7),
        method="urine",
        results=[
            {"substance": "heroin", "result": "positive"},
            {"substance": "crack", "result": "negative"},
            {"substance": "methadone", "result": "positive", "expected_because_prescribed": True},
        ],
        by=aisha,
    )
    pharmacy = PHARMACIES["North"][1]
    first = back_on
    while first + timedelta(days=13) < demo.today:
        record.pharmacy_report_record(
            episode=new,
            pharmacy_name=pharmacy,
            period_start=first,
            period_end=first + timedelta(days=13),
            doses_due=14,
            supervised_doses_taken=14,
            take_home_doses_collected=0,
            missed_dates=[],
            by=aisha,
        )
        first += timedelta(days=14)
    for week in range(1, 8):
        on = back_on + timedelta(weeks=week)
        if on >= demo.today:
            break
        record.appointment_record(
            episode=new,
            keyworker=aisha,
            starts_at=timezone.make_aware(datetime.combine(on, time(10))),
            status=pm.AppointmentStatus.ATTENDED,
            review_note="Settling back on the prescription; no use on top since the restart. Care plan reviewed.",
            by=aisha,
        )
    record.appointment_record(
        episode=new,
        keyworker=aisha,
        starts_at=timezone.make_aware(datetime.combine(demo.today + timedelta(days=5), time(10))),
        status=pm.AppointmentStatus.BOOKED,
        by=aisha,
    )


TOP_NOT_ANSWERS = {"id", "episode", "assessed_on", "stage", "recorded_by", "created_at"}


def _top_answers(assessment: pm.TopAssessment) -> dict:
    return {
        f.attname: getattr(assessment, f.attname)
        for f in pm.TopAssessment._meta.concrete_fields
        if f.name not in TOP_NOT_ANSWERS and not f.name.startswith("entered_in_error")
    }


TELL = {
    "dose_cut": _tell_dose_cut,
    "ost_ended": _tell_ost_ended,
    "missed_doses": _tell_missed_doses,
    "no_benefit": _tell_no_benefit,
    "died": _tell_died,
    "transferred": _tell_transferred,
    "not_reached": _tell_not_reached,
    "relapse_signs": _tell_relapse_signs,
    "back_in_treatment": _tell_back_in_treatment,
}
