"""The evidence pack as of its date, and honest about disagreement: reviews/selectors.py evidence_pack,
careplans/selectors.py care_plan_as_of and reviews/corroboration.py, as
docs/design.md, The evidence pack as of its date says.

Pat entered treatment on 15 Jan 2026. Today is 1 Dec 2026. A strategic review was completed on 1 Jun 2026,
months ago: its pack shows the care plan, unmet needs and dispensing as they stood on 1 Jun, not as they are
now. The pharmacist's concerns are in the pack. Self-report and drug tests are set side by side per substance,
and where the tests show more use than the TOP (illicit opioid use falling from 22 to 9 days in 28 while 10 of
13 tests since entry, 77%, were positive for heroin) the pack says so, and names it beside any suggestion that
eases supervision or steps the clinician back (App. C 1, 5-6)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from careplans.models import Goal, GoalProgress
from careplans.services import action_complete, action_create, goal_create, goal_update
from patients import models as pm
from patients.models import CoreDomain, DispensingChange, Substance, TopStage
from patients.services import drug_test_record, pharmacy_report_record, top_assessment_record
from reviews.findings import suggestions_for_page
from reviews.models import Finding, ReviewStatus
from reviews.selectors import contradictions, evidence_pack
from tests.support.factories import DispensingArrangementFactory, StrategicReviewFactory, UnmetNeedFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 12, 1)
REVIEWED = date(2026, 6, 1)
POS, NEG = pm.TestResult.POSITIVE, pm.TestResult.NEGATIVE


def at(day: date):
    """Travel to 11:00 on a day, so that what is written then carries that day."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 11, tzinfo=UTC), tick=False)


@pytest.fixture
def care_plan(episode, alice):
    """One goal created in February, making some progress by May and achieved in September; one created in
    August; one changed in September outside the application (no change logged); actions then and since."""
    with at(date(2026, 2, 1)):
        heroin = goal_create(
            episode=episode,
            domain=CoreDomain.DRUG_ALCOHOL_USE,
            description="Stop using heroin on top",
            by=alice,
        )
        housing = goal_create(
            episode=episode,
            domain=CoreDomain.SOCIAL_FUNCTIONING,
            description="Find a settled home",
            by=alice,
            progress=GoalProgress.SOME_PROGRESS,
        )
        clinic = action_create(goal=heroin, description="Attend the clinic weekly", owner="patient", by=alice)
    with at(date(2026, 5, 20)):
        goal_update(goal=heroin, by=alice, progress=GoalProgress.SOME_PROGRESS)
    with at(date(2026, 7, 10)):
        action_complete(action=clinic, completed_on=date(2026, 7, 10), by=alice)
    with at(date(2026, 8, 1)):
        goal_create(
            episode=episode, domain=CoreDomain.HEALTH, description="See the GP about my chest", by=alice
        )
        action_create(goal=heroin, description="Join the peer group", owner="patient", by=alice)
    with at(date(2026, 9, 1)):
        goal_update(goal=heroin, by=alice, progress=GoalProgress.ACHIEVED, self_managed=True)
        Goal.objects.filter(pk=housing.pk).update(  # as a bulk import would: no change logged
            progress=GoalProgress.ACHIEVED, updated_at=datetime(2026, 9, 1, 11, tzinfo=UTC)
        )
    return {"heroin": heroin, "housing": housing}


@pytest.fixture
def completed(episode, sam):
    return StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=REVIEWED,
        completed_on=REVIEWED,
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
    )


def test_a_review_completed_months_ago_shows_the_goals_as_they_stood(episode, care_plan, completed):
    pack = evidence_pack(episode, as_of=REVIEWED, review=completed)
    plan = pack.care_plan
    seen = [(g.description, g.progress, g.self_managed, g.known) for g in plan["goals"]]
    assert seen == [
        ("Stop using heroin on top", GoalProgress.SOME_PROGRESS, False, True),  # achieved only in September
        ("Find a settled home", GoalProgress.ACHIEVED, False, False),  # its 1 Jun progress cannot be known
    ]  # the GP goal of August is not there
    assert [g.description for g in plan["progress_unknown"]] == ["Find a settled home"]
    heroin = plan["goals"][0]
    assert [a.description for a in heroin.actions] == [
        "Attend the clinic weekly"
    ]  # the peer group came later
    assert plan["open_actions"] == 1  # completed on 10 Jul: open on 1 Jun
    assert (plan["live"], plan["achieved"], plan["self_managed"]) == (2, 1, 0)


def test_today_the_pack_shows_the_goals_as_they_are(episode, care_plan):
    plan = evidence_pack(episode, as_of=TODAY).care_plan
    seen = [(g.description, g.progress, g.self_managed, g.known) for g in plan["goals"]]
    assert seen == [
        ("Stop using heroin on top", GoalProgress.ACHIEVED, True, True),
        ("See the GP about my chest", GoalProgress.NOT_STARTED, False, True),
        ("Find a settled home", GoalProgress.ACHIEVED, False, True),
    ]
    assert plan["progress_unknown"] == []
    assert plan["open_actions"] == 1  # the peer group


def test_unmet_needs_and_dispensing_as_of_the_review(episode, completed):
    DispensingArrangementFactory(episode=episode, take_home_doses_per_week=0)
    DispensingArrangementFactory(
        episode=episode,
        effective_from=date(2026, 8, 1),
        take_home_doses_per_week=3,
        change_reason=DispensingChange.INTRODUCE_TAKE_HOME,
        reason_note="Stable since the review.",
    )
    UnmetNeedFactory(episode=episode, recorded_on=date(2026, 5, 1), description="No residential place")
    UnmetNeedFactory(episode=episode, recorded_on=date(2026, 8, 1), description="No evening group")
    pack = evidence_pack(episode, as_of=REVIEWED, review=completed)
    assert [n.description for n in pack.unmet_needs] == ["No residential place"]
    assert [d.take_home_doses_per_week for d in pack.dispensing] == [0]


def test_the_completed_reviews_page_says_the_goals_are_as_they_stood(client, sam, care_plan, completed):
    client.force_login(sam)
    page = client.get(completed.get_absolute_url()).content.decode()
    assert "Care-plan goals as they stood on 1 Jun 2026" in page
    assert (
        "1 goal changed after 1 Jun 2026 in a way the record does not keep: its progress is shown as it is now, "
        'marked "as now".'
    ) in page
    goals = page.split("Care-plan goals as they stood")[1].split("The last review")[0]
    assert "Some progress</span> Stop using heroin on top" in goals
    assert "See the GP" not in goals
    assert "as now</span>" in goals


# --- The pharmacist's concerns (§2.9) ----------------------------------------------------------------------------


def report(episode, by, start, end, concerns=""):
    return pharmacy_report_record(
        episode=episode,
        pharmacy_name="High Street Pharmacy",
        period_start=start,
        period_end=end,
        doses_due=14,
        supervised_doses_taken=14,
        take_home_doses_collected=0,
        missed_dates=[],
        by=by,
        concerns=concerns,
    )


def test_the_pharmacists_concerns_since_the_last_review_are_in_the_pack(
    client, episode, alice, sam, completed
):
    report(
        episode, alice, date(2026, 3, 1), date(2026, 3, 14), concerns="Late twice."
    )  # before the last review
    report(
        episode, alice, date(2026, 10, 1), date(2026, 10, 14), concerns="Appeared intoxicated at collection."
    )
    report(episode, alice, date(2026, 11, 1), date(2026, 11, 14))  # no concerns
    pack = evidence_pack(episode, as_of=TODAY)
    assert [r.concerns for r in pack.pharmacy_concerns] == ["Appeared intoxicated at collection."]
    held = StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=TODAY,
        completed_on=TODAY,
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
    )
    client.force_login(sam)
    page = client.get(held.get_absolute_url()).content.decode()
    assert "The pharmacist's concerns since the last review (§2.9)" in page
    assert "High Street Pharmacy, 1 Oct 2026 to 14 Oct 2026: Appeared intoxicated at collection." in page
    assert "Late twice." not in page


# --- Self-report beside drug tests (§2.9) --------------------------------------------------------------------------


def weeks(prefix, *days) -> dict:
    return {f"{prefix}_week{w}": d for w, d in zip((4, 3, 2, 1), days, strict=True)}


@pytest.fixture
def heroin_on_top(episode, alice):
    """TOP illicit opioid use falls from 22 to 9 days in 28 and health, quality of life and crime improve (enough
    TOP items for 'Good progress'), while 10 of 13 drug tests since entry (77%) were positive for heroin."""
    entry = {"psychological_health": 6, "physical_health": 8, "quality_of_life": 5, "shoplifting_days": 10}
    top_assessment_record(
        episode=episode,
        assessed_on=date(2026, 1, 15),
        stage=TopStage.START,
        answers=weeks("opiates", 6, 6, 5, 5) | entry,
        by=alice,
    )
    later = {"psychological_health": 12, "physical_health": 12, "quality_of_life": 11, "shoplifting_days": 0}
    top_assessment_record(
        episode=episode,
        assessed_on=date(2026, 11, 20),
        stage=TopStage.REVIEW,
        answers=weeks("opiates", 3, 2, 2, 2) | later,
        by=alice,
    )
    for n in range(13):
        drug_test_record(
            episode=episode,
            taken_on=date(2026, 1, 20) + timedelta(days=21 * n),
            method=pm.TestMethod.URINE,
            by=alice,
            results=[
                {"substance": Substance.HEROIN, "result": POS if n % 5 else NEG},  # 3 of 13 negative
                {"substance": Substance.METHADONE, "result": POS, "expected_because_prescribed": True},
            ],
        )


DISAGREEMENT = (
    "Self-reported heroin / illicit opioids use fell from 22 to 9 days in 28 since entry, but 10 of 13 drug tests "
    "since entry (77%) were positive for heroin / illicit opioids: the tests do not corroborate the fall (§2.9)."
)


def test_self_report_and_tests_side_by_side_per_substance(episode, heroin_on_top):
    pack = evidence_pack(episode, as_of=TODAY)
    opiates = pack.substances[0]
    assert (opiates.label, opiates.tested_for) == (
        "Heroin / illicit opioids",
        "heroin / illicit opioids or fentanyl and synthetic opioids",
    )
    assert (opiates.at_entry, opiates.at_last_review, opiates.latest) == (22, None, 9)
    tally = opiates.tests_since_entry
    assert (tally.tested, tally.positive, round(tally.share, 2)) == (13, 10, 0.77)
    # methadone: the compliance rows
    assert [row.label for row in pack.substances] == ["Heroin / illicit opioids"]


def test_falling_self_report_against_positive_tests_is_a_named_disagreement(episode, heroin_on_top):
    pack = evidence_pack(episode, as_of=TODAY)
    assert pack.disagreements == [DISAGREEMENT]


def test_good_progress_is_never_offered_without_the_tests_that_contradict_it(episode, heroin_on_top):
    pack = evidence_pack(episode, as_of=TODAY)
    good = [h for h in pack.hints if h.finding == Finding.GOOD_PROGRESS]
    assert [h.why for h in good] == ["5 TOP items better since entry, 0 worse (App. C 5)."]
    assert good[0].against == (DISAGREEMENT,)


def test_a_reported_fall_the_tests_corroborate_is_no_disagreement(episode, alice):
    top_assessment_record(
        episode=episode, assessed_on=date(2026, 1, 15), stage=TopStage.START,
        answers=weeks("opiates", 6, 6, 5, 5), by=alice,
    )  # fmt: skip
    top_assessment_record(
        episode=episode, assessed_on=date(2026, 11, 20), stage=TopStage.REVIEW,
        answers=weeks("opiates", 0, 0, 0, 0), by=alice,
    )  # fmt: skip
    for n, result in enumerate((POS, NEG, NEG, NEG)):
        drug_test_record(
            episode=episode,
            taken_on=date(2026, 2, 1) + timedelta(days=60 * n),
            method=pm.TestMethod.URINE,
            by=alice,
            results=[{"substance": Substance.HEROIN, "result": result}],
        )
    pack = evidence_pack(episode, as_of=TODAY)
    assert pack.disagreements == []


def test_no_use_reported_against_a_positive_test_in_the_tops_28_days(episode, alice):
    top_assessment_record(
        episode=episode, assessed_on=date(2026, 11, 20), stage=TopStage.REVIEW,
        answers=weeks("crack", 0, 0, 0, 0), by=alice,
    )  # fmt: skip
    drug_test_record(
        episode=episode,
        taken_on=date(2026, 11, 2),
        method=pm.TestMethod.ORAL_FLUID,
        by=alice,
        results=[{"substance": Substance.CRACK, "result": POS}],
    )
    pack = evidence_pack(episode, as_of=TODAY)
    assert pack.disagreements == [
        "The TOP of 20 Nov 2026 reports no crack cocaine use in its 28 days, but 1 of 1 drug tests in those days (the "
        "first on 2 Nov 2026) were positive for crack cocaine (§2.9)."
    ]


def test_a_reviews_page_says_the_tests_disagree_beside_good_progress(client, episode, sam, heroin_on_top):
    held = StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=TODAY,
        completed_on=TODAY,
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
    )
    client.force_login(sam)
    page = client.get(held.get_absolute_url()).content.decode()
    disagree = page.split('data-testid="pack-disagreements"')[1].split("</div>")[0]
    assert "Self-report and drug tests disagree" in disagree
    assert "fell from 22 to 9 days in 28 since entry, but 10 of 13 drug tests since entry (77%)" in disagree
    hints = page.split('data-testid="evidence-hints"')[1].split('data-testid="pack-disagreements"')[0]
    assert "<strong>Good progress</strong>: 5 TOP items better since entry, 0 worse (App. C 5)." in hints
    assert "But the evidence holds against it" in hints
    assert "10 of 13 drug tests since entry (77%) were positive for heroin / illicit opioids" in hints
    substances = page.split('data-testid="pack-substances"')[1].split("</table>")[0]
    assert "Heroin / illicit opioids <span" in substances and "10 of 13 (77%)" in substances


def test_the_review_forms_suggestion_names_what_contradicts_it(episode, heroin_on_top):
    """Ticking 'Good progress' on the review form shows its suggestion with the contradiction beside it
    (static/js/review_form.js reads this)."""
    suggestions = suggestions_for_page(contradictions(evidence_pack(episode, as_of=TODAY)))
    assert suggestions[Finding.GOOD_PROGRESS]["against"] == [DISAGREEMENT]
    assert suggestions[Finding.STABLE_ADHERENCE]["against"] == [DISAGREEMENT]
    assert suggestions[Finding.NO_BENEFIT]["against"] == []
