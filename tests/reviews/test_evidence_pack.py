"""The evidence pack (reviews/selectors.py) figure by figure against a record built by hand: what the senior
practitioner weighs at the step-back overview (§2.3, §2.7-2.11) must be exactly what the record says, as of the
review's date, and read with a fixed number of queries however long the record.

The record: Pat entered treatment on 15 Jan 2026 on methadone 60 mg, supervised. A strategic review with them was
completed on 10 Apr 2026; the review being held now is on 25 Jul 2026. Anything dated after 25 Jul is out of the
pack."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from careplans.models import Goal, GoalProgress
from careplans.services import goal_update
from patients import models as pm
from patients.models import CoreDomain, DispensingChange, Substance, TopStage
from patients.services import drug_test_record, pharmacy_report_record, top_assessment_record
from reviews.models import Finding, ReviewStatus
from reviews.selectors import evidence_pack
from tests.support.factories import (
    CircumstanceFactory,
    DispensingArrangementFactory,
    GoalActionFactory,
    GoalFactory,
    InterventionFactory,
    StrategicReviewFactory,
    UnmetNeedFactory,
)

AS_OF = date(2026, 7, 25)
LAST_REVIEW = date(2026, 4, 10)
GOALS_WRITTEN = datetime(
    2026, 5, 20, 11, 0, tzinfo=UTC
)  # the care plan's goals and actions were written then


def weeks(*days) -> dict:
    """Days used in weeks 4, 3, 2 and 1 of a substance's TOP answers."""
    return dict(zip(("week4", "week3", "week2", "week1"), days, strict=True))


def top(episode, by, on, stage, *, opiates, crack, psych, physical, life, work, housing, shoplifting):
    answers = {f"opiates_{k}": v for k, v in weeks(*opiates).items()}
    answers |= {f"crack_{k}": v for k, v in weeks(*crack).items()}
    answers |= {
        "psychological_health": psych,
        "physical_health": physical,
        "quality_of_life": life,
        "paid_work_days": work,
        "acute_housing_problem": housing,
        "shoplifting_days": shoplifting,
    }
    return top_assessment_record(episode=episode, assessed_on=on, stage=stage, answers=answers, by=by)


def drug_test(episode, by, on, *results):
    return drug_test_record(
        episode=episode,
        taken_on=on,
        method=pm.TestMethod.ORAL_FLUID,
        by=by,
        results=[
            {"substance": s, "result": r, "expected_because_prescribed": prescribed}
            for s, r, prescribed in results
        ],
    )


def report(episode, by, start, end, *, due, taken, take_home=0, missed=()):
    return pharmacy_report_record(
        episode=episode,
        pharmacy_name="High Street Pharmacy",
        period_start=start,
        period_end=end,
        doses_due=due,
        supervised_doses_taken=taken,
        take_home_doses_collected=take_home,
        missed_dates=missed,
        by=by,
    )


POS, NEG = pm.TestResult.POSITIVE, pm.TestResult.NEGATIVE


@pytest.fixture
def record(episode, alice, sam):
    """Pat's record up to and beyond 25 Jul 2026, and the review being held on that day."""
    InterventionFactory(episode=episode, daily_dose_mg=60)
    DispensingArrangementFactory(episode=episode, take_home_doses_per_week=0)
    DispensingArrangementFactory(
        episode=episode,
        effective_from=date(2026, 6, 1),
        take_home_doses_per_week=3,
        change_reason=DispensingChange.INTRODUCE_TAKE_HOME,
        reason_note="Stable for three months.",
    )
    entry = top(episode, alice, date(2026, 1, 15), TopStage.START, opiates=(7, 7, 7, 7), crack=(2, 2, 2, 2),
                psych=8, physical=10, life=6, work=0, housing=True, shoplifting=6)  # fmt: skip
    at_review = top(episode, alice, date(2026, 4, 8), TopStage.REVIEW, opiates=(2, 1, 1, 0), crack=(0, 0, 0, 0),
                    psych=12, physical=10, life=10, work=0, housing=True, shoplifting=0)  # fmt: skip
    latest = top(episode, alice, date(2026, 7, 20), TopStage.REVIEW, opiates=(0, 0, 0, 0), crack=(0, 0, 1, 0),
                 psych=14, physical=9, life=12, work=8, housing=False, shoplifting=0)  # fmt: skip
    top(
        episode,
        alice,
        date(2026, 8, 3),
        TopStage.REVIEW,
        opiates=(7, 7, 7, 7),
        crack=(7, 7, 7, 7),
        psych=1,
        physical=1,
        life=1,
        work=0,
        housing=True,
        shoplifting=20,
    )  # fmt: skip  (after the review: left out)

    methadone = Substance.METHADONE
    drug_test(episode, alice, date(2026, 2, 10), (Substance.HEROIN, POS, False), (methadone, POS, True))
    drug_test(episode, alice, date(2026, 3, 10), (Substance.HEROIN, NEG, False), (methadone, POS, True))
    drug_test(episode, alice, date(2026, 5, 15), (Substance.HEROIN, NEG, False), (methadone, NEG, True))
    drug_test(
        episode,
        alice,
        date(2026, 6, 20),
        (Substance.HEROIN, NEG, False),
        (Substance.FENTANYL, NEG, False),
        (methadone, POS, True),
        (Substance.COCAINE, POS, False),
    )
    drug_test(episode, alice, date(2026, 8, 2), (Substance.HEROIN, POS, False))  # after: left out

    report(episode, alice, date(2026, 2, 1), date(2026, 2, 14), due=14, taken=14)
    report(
        episode,
        alice,
        date(2026, 5, 1),
        date(2026, 5, 14),
        due=14,
        taken=5,
        take_home=6,
        missed=[date(2026, 5, 3), date(2026, 5, 4), date(2026, 5, 5)],
    )

    with time_machine.travel(GOALS_WRITTEN, tick=False):  # the care plan as it stood by the review
        achieved = GoalFactory(care_plan__episode=episode, progress=GoalProgress.ACHIEVED)
        going = GoalFactory(
            care_plan=achieved.care_plan,
            domain=CoreDomain.HEALTH,
            progress=GoalProgress.SOME_PROGRESS,
            self_managed=True,
        )
        GoalFactory(care_plan=achieved.care_plan, domain=CoreDomain.SOCIAL_FUNCTIONING,
                    progress=GoalProgress.NO_LONGER_RELEVANT)  # fmt: skip
        GoalActionFactory(goal=going)
        GoalActionFactory(goal=going, completed_on=date(2026, 5, 1))

    CircumstanceFactory(episode=episode)  # current since entry
    CircumstanceFactory(episode=episode, started_on=date(2026, 1, 20), ended_on=date(2026, 3, 1))
    UnmetNeedFactory(episode=episode)

    previous = StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=LAST_REVIEW,
        completed_on=LAST_REVIEW,
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
    )
    StrategicReviewFactory(  # completed after the review being held: not "the last review" as of 25 Jul
        episode=episode,
        lead=sam,
        held_on=date(2026, 8, 5),
        completed_on=date(2026, 8, 5),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
    )
    current = StrategicReviewFactory(episode=episode, lead=sam, held_on=AS_OF)
    return {
        "entry": entry,
        "at_review": at_review,
        "latest": latest,
        "previous": previous,
        "current": current,
    }


def test_the_pack_reads_the_last_review_and_the_tops_as_of_the_review(episode, record):
    pack = evidence_pack(episode, as_of=AS_OF, review=record["current"])
    assert pack.last_review == record["previous"]
    assert pack.since == LAST_REVIEW
    assert pack.entry_top == record["entry"]
    assert pack.last_review_top == record["at_review"]  # the last TOP on or before the last review
    assert pack.latest_top == record["latest"]  # the TOP of 3 Aug is after the review


def test_every_top_item_since_entry_and_since_the_last_review(episode, record):
    pack = evidence_pack(episode, as_of=AS_OF, review=record["current"])
    items = {p.item.key: p for d in pack.domains for p in d.items}
    seen = {
        key: (p.at_entry, p.at_last_review, p.now, p.since_entry, p.since_last_review)
        for key, p in items.items()
        if p.at_entry is not None
    }
    assert seen == {
        "opiates_days_used": (28, 4, 0, "better", "better"),
        "crack_days_used": (8, 0, 1, "better", "worse"),
        "psychological_health": (8, 12, 14, "better", "better"),
        "physical_health": (10, 10, 9, "worse", "worse"),
        "quality_of_life": (6, 10, 12, "better", "better"),
        "paid_work_days": (0, 0, 8, "better", "better"),
        "acute_housing_problem": (True, True, False, "better", "better"),
        "shoplifting_days": (6, 0, 0, "better", "same"),
    }
    # Unanswered items are not zero: no change is claimed for them.
    assert items["alcohol_days_used"].since_entry == ""
    assert items["injecting_days"].since_last_review == ""


def test_domain_counts(episode, record):
    pack = evidence_pack(episode, as_of=AS_OF, review=record["current"])
    counts = {
        d.domain: (
            d.better_since_entry,
            d.worse_since_entry,
            d.better_since_last_review,
            d.worse_since_last_review,
        )
        for d in pack.domains
    }
    assert counts == {
        CoreDomain.DRUG_ALCOHOL_USE: (2, 0, 1, 1),
        CoreDomain.OFFENDING: (1, 0, 0, 0),
        CoreDomain.HEALTH: (2, 1, 2, 1),
        CoreDomain.SOCIAL_FUNCTIONING: (2, 0, 2, 0),
    }


def test_drug_tests_since_entry_and_since_the_last_review(episode, record):
    pack = evidence_pack(episode, as_of=AS_OF, review=record["current"])
    entry, since = pack.tests_since_entry, pack.tests_since_last_review
    assert (entry["tests"], entry["opioid_tested"], entry["opioid_negative"]) == (4, 4, 3)
    assert entry["opioid_negative_share"] == 0.75
    assert (entry["prescribed_tested"], entry["prescribed_present"]) == (4, 3)
    assert [(t.taken_on, r.substance, r.result) for t, r in entry["unexpected"]] == [
        (date(2026, 6, 20), Substance.COCAINE, POS),
        (date(2026, 5, 15), Substance.METHADONE, NEG),  # prescribed and absent: non-compliance
        (date(2026, 2, 10), Substance.HEROIN, POS),
    ]
    assert (since["tests"], since["opioid_negative_share"], since["prescribed_present_share"]) == (
        2,
        1.0,
        0.5,
    )
    assert len(since["unexpected"]) == 2


def test_pharmacy_compliance_since_entry_and_since_the_last_review(episode, record):
    pack = evidence_pack(episode, as_of=AS_OF, review=record["current"])
    entry, since = pack.pharmacy_since_entry, pack.pharmacy_since_last_review
    assert (entry["reports"], entry["supervised_due"], entry["supervised_taken"], entry["missed"]) == (
        2,
        22,
        19,
        3,
    )
    assert entry["supervised_share"] == pytest.approx(19 / 22)
    assert (since["reports"], since["supervised_due"], since["supervised_taken"]) == (1, 8, 5)
    assert since["supervised_share"] == pytest.approx(5 / 8)
    assert since["longest_run"] == 3
    assert [(r.first, r.last, r.length) for r in since["safety_events"]] == [
        (date(2026, 5, 3), date(2026, 5, 5), 3)
    ]


def test_care_plan_interventions_dispensing_circumstances_and_unmet_needs(episode, record):
    pack = evidence_pack(episode, as_of=AS_OF, review=record["current"])
    plan = pack.care_plan
    assert (
        len(plan["goals"]),
        plan["live"],
        plan["achieved"],
        plan["self_managed"],
        plan["open_actions"],
    ) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert plan["achieved_share"] == 0.5
    assert [(i.medicine, i.daily_dose_mg) for i in pack.current_interventions] == [("methadone", 60)]
    assert pack.on_ost
    assert pack.current_dispensing.take_home_doses_per_week == 3  # the arrangement from 1 Jun
    assert [c.started_on for c in pack.circumstances] == [episode.entry_date]  # the ended one is left out
    assert len(pack.unmet_needs) == 1


def test_hints_point_to_the_missed_doses_and_the_progress(episode, record):
    pack = evidence_pack(episode, as_of=AS_OF, review=record["current"])
    assert [(h.finding, h.why) for h in pack.hints] == [
        (
            Finding.DETERIORATING_ADHERENCE,
            "Missed doses since the last review: 3 in a row from 3 May 2026 (App. C 1).",
        ),
        (Finding.GOOD_PROGRESS, "7 TOP items better since entry, 1 worse (App. C 5)."),
    ]
    # The clinician stepping back (App. C 5-6) is offered only with what contradicts it named beside it.
    assert pack.hints[0].against == ()
    assert pack.hints[1].against == (
        "Missed doses since the last review: 3 in a row from 3 May 2026.",
        "Only 62% of supervised doses taken since the last review.",
    )


def test_as_of_the_earlier_review_the_pack_is_what_its_reviewers_saw(episode, record):
    """A completed review shows the evidence of its day: as of 10 Apr there was no earlier review, and the TOP of
    8 Apr was the latest."""
    pack = evidence_pack(episode, as_of=LAST_REVIEW, review=record["previous"])
    assert pack.last_review is None
    assert pack.since == episode.entry_date
    assert pack.latest_top == record["at_review"]
    assert pack.tests_since_entry["tests"] == 2
    assert pack.pharmacy_since_entry["reports"] == 1
    assert pack.current_dispensing.take_home_doses_per_week == 0


def test_the_pack_reads_a_fixed_number_of_queries(episode, record, alice, django_assert_num_queries):
    # 15: one more than before, the change log's entries about the goals and actions after the pack's day, from
    # which the care plan is read as it stood then (careplans/selectors.py care_plan_as_of).
    with django_assert_num_queries(15) as captured:
        evidence_pack(episode, as_of=AS_OF, review=record["current"])
    for goal in Goal.objects.filter(care_plan__episode=episode):  # changed after the day: more log entries
        goal_update(goal=goal, by=alice, progress=GoalProgress.GOOD_PROGRESS)
        GoalActionFactory(goal=goal)
    for day in range(1, 20):
        drug_test(
            episode,
            alice,
            date(2026, 6, day),
            (Substance.HEROIN, NEG, False),
            (Substance.METHADONE, POS, True),
        )
        report(episode, alice, date(2026, 6, day), date(2026, 6, day), due=1, taken=1)
    with django_assert_num_queries(len(captured)):
        evidence_pack(episode, as_of=AS_OF, review=record["current"])
