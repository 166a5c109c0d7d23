"""The disengagement rule (Intro, App. B) and the risk level (§2.2) as tables: reviews/risk.py, pure, no database.
docs/design.md, Risk level and disengagement."""

from datetime import date

import pytest

from reviews.risk import (
    Factor,
    Level,
    Reason,
    disengagement,
    ost_clock_start,
    risk_level,
    risk_reasons,
)

TODAY = date(2026, 12, 1)
ENTRY = date(2026, 6, 1)


# --- Disengagement ---------------------------------------------------------------------------------------------

# (last attended, missed in a row since, the second missed on, OST since) -> since when, or None
DISENGAGEMENT = [
    ("nothing missed, not on OST", None, 0, None, None, None),
    ("one missed", date(2026, 11, 1), 1, None, None, None),
    ("two missed in a row", date(2026, 11, 1), 2, date(2026, 11, 20), None, date(2026, 11, 20)),
    ("three missed: since the second", date(2026, 10, 1), 3, date(2026, 10, 20), None, date(2026, 10, 20)),
    ("two missed, none ever attended", None, 2, date(2026, 7, 1), None, date(2026, 7, 1)),
    ("on OST, attended 27 days ago", date(2026, 11, 4), 0, None, ENTRY, None),
    ("on OST, attended 28 days ago", date(2026, 11, 3), 0, None, ENTRY, date(2026, 12, 1)),
    ("on OST, attended 40 days ago", date(2026, 10, 22), 0, None, ENTRY, date(2026, 11, 19)),
    ("not on OST, attended 90 days ago", date(2026, 9, 2), 0, None, None, None),
    ("on OST for 20 days, none attended", None, 0, None, date(2026, 11, 11), None),
    ("on OST since entry, none attended", None, 0, None, ENTRY, date(2026, 6, 29)),
    ("OST began after the last attended", date(2026, 8, 1), 0, None, date(2026, 11, 10), None),
    ("both: the earlier day", date(2026, 10, 1), 2, date(2026, 11, 25), ENTRY, date(2026, 10, 29)),
]


@pytest.mark.parametrize(
    ("last_attended", "missed", "second", "ost_since", "since"),
    [row[1:] for row in DISENGAGEMENT],
    ids=[row[0] for row in DISENGAGEMENT],
)
def test_disengagement_rule(last_attended, missed, second, ost_since, since):
    found = disengagement(
        today=TODAY,
        entry_date=ENTRY,
        last_attended=last_attended,
        missed_in_a_row=missed,
        second_missed_on=second,
        ost_since=ost_since,
    )
    assert (found.since if found else None) == since


def test_disengagement_says_why_and_since_when():
    found = disengagement(
        today=TODAY,
        entry_date=ENTRY,
        last_attended=date(2026, 10, 1),
        missed_in_a_row=2,
        second_missed_on=date(2026, 11, 25),
        ost_since=ENTRY,
    )
    assert found.reasons == (
        "2 missed appointments in a row since the last attended on 1 Oct 2026, the second on 25 Nov 2026",
        "no attended appointment for 61 days while on OST (the last on 1 Oct 2026)",
    )
    assert found.summary.startswith("Disengaging since 29 Oct 2026: 2 missed appointments")


# (OST rows as (start, end)) -> the day the current course began, or None when not on OST today
OST_CLOCK = [
    ("no OST", [], None),
    ("current since entry", [(ENTRY, None)], ENTRY),
    ("ended yesterday", [(ENTRY, date(2026, 11, 30))], None),
    ("ends today: still on it", [(ENTRY, TODAY)], ENTRY),
    ("a dose change continues the course", [(ENTRY, date(2026, 11, 10)), (date(2026, 11, 10), None)], ENTRY),
    (
        "a gap of more than 28 days starts a new course",
        [(ENTRY, date(2026, 9, 1)), (date(2026, 11, 10), None)],
        date(2026, 11, 10),
    ),
    ("starts tomorrow", [(date(2026, 12, 2), None)], None),
]


@pytest.mark.parametrize(("periods", "start"), [r[1:] for r in OST_CLOCK], ids=[r[0] for r in OST_CLOCK])
def test_ost_clock_start(periods, start):
    assert ost_clock_start(periods, today=TODAY) == start


# --- The risk level --------------------------------------------------------------------------------------------

# The mapping (docs/design.md, Risk level and disengagement): a safety event or shared equipment is high on its
# own; any two factors are high; one other factor is raised; none is standard.
LEVELS = [
    ((), Level.STANDARD),
    ((Factor.SAFETY_EVENT,), Level.HIGH),
    ((Factor.SHARED_EQUIPMENT,), Level.HIGH),
    ((Factor.RELAPSE_SIGNS,), Level.RAISED),
    ((Factor.TRANSITION,), Level.RAISED),
    ((Factor.DISENGAGEMENT,), Level.RAISED),
    ((Factor.TRANSITION, Factor.DISENGAGEMENT), Level.HIGH),
    ((Factor.RELAPSE_SIGNS, Factor.TRANSITION), Level.HIGH),
    ((Factor.RELAPSE_SIGNS, Factor.DISENGAGEMENT), Level.HIGH),
    (tuple(Factor), Level.HIGH),
    ((Factor.TRANSITION, Factor.TRANSITION), Level.RAISED),  # one factor said twice is still one
]


@pytest.mark.parametrize(("factors", "level"), LEVELS, ids=["+".join(f) or "none" for f, _ in LEVELS])
def test_risk_level_mapping(factors, level):
    risk = risk_level([Reason(f, f"because of {f}") for f in factors])
    assert risk.level == level
    assert [r.factor for r in risk.reasons] == [f for f in Factor if f in factors]


def test_each_level_explains_itself():
    assert risk_level([]).why == "None of the risk factors is on the record."
    assert "One risk factor" in risk_level([Reason(Factor.TRANSITION, "x")]).why
    assert "on its own" in risk_level([Reason(Factor.SAFETY_EVENT, "x")]).why
    two = risk_level([Reason(Factor.TRANSITION, "x"), Reason(Factor.DISENGAGEMENT, "y")])
    assert two.why.startswith("Two or more risk factors") and "(§2.2)" in two.why
    assert (two.label, risk_level([]).label) == ("High risk", "Standard risk")


def facts(**given):
    return {
        "today": TODAY,
        "safety_run": None,
        "safety_report_end": None,
        "shared_needle": None,
        "shared_paraphernalia": None,
        "top_on": None,
        "relapse_check_up_on": None,
        "transitions": (),
        "disengaged": None,
        **given,
    }


# (facts) -> the factors present
REASONS = [
    ("nothing", {}, []),
    (
        "a run in a report ending 28 days ago",
        {"safety_run": 3, "safety_report_end": date(2026, 11, 3)},
        ["safety_event"],
    ),
    ("a run in a report ending 29 days ago", {"safety_run": 4, "safety_report_end": date(2026, 11, 2)}, []),
    ("shared needle", {"shared_needle": True, "top_on": date(2026, 10, 1)}, ["shared_equipment"]),
    ("shared spoon", {"shared_paraphernalia": True, "top_on": date(2026, 10, 1)}, ["shared_equipment"]),
    ("not answered is not a yes", {"shared_needle": None, "top_on": date(2026, 10, 1)}, []),
    ("answered no", {"shared_needle": False, "shared_paraphernalia": False, "top_on": date(2026, 10, 1)}, []),
    ("relapse signs at a check-up", {"relapse_check_up_on": date(2026, 11, 20)}, ["relapse_signs"]),
    ("a transition 3 months ago", {"transitions": [(date(2026, 9, 1), "OST started")]}, ["transition"]),
    ("a transition 3 months and a day ago", {"transitions": [(date(2026, 8, 31), "OST started")]}, []),
    ("a transition planned for tomorrow", {"transitions": [(date(2026, 12, 2), "OST ended")]}, []),
]


@pytest.mark.parametrize(("given", "factors"), [r[1:] for r in REASONS], ids=[r[0] for r in REASONS])
def test_risk_reasons(given, factors):
    assert [r.factor for r in risk_reasons(**facts(**given))] == factors


def test_reasons_say_what_and_when():
    reasons = risk_reasons(
        **facts(
            safety_run=4,
            safety_report_end=date(2026, 11, 20),
            shared_needle=True,
            shared_paraphernalia=True,
            top_on=date(2026, 10, 1),
            transitions=[(date(2026, 11, 1), "Methadone 60 mg → 20 mg")],
        )
    )
    assert [r.text for r in reasons] == [
        "4 missed doses in a row in the pharmacy report to 20 Nov 2026",
        "injected with a needle or syringe and a spoon, water or filter used by someone else (TOP of 1 Oct 2026)",
        "a transition in the last 3 months: Methadone 60 mg → 20 mg on 1 Nov 2026",
    ]
