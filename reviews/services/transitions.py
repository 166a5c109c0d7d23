"""Rule 3b's transitions and rule 7b's element ends, read from an episode's interventions (docs/design.md, rule 3b;
rule 7b): the one reading of them for the schedule (reviews.services.schedule) and the pages (the vigilance after
a medication change, reviews.selectors.transition_vigilance)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from patients.models import Intervention, InterventionKind, TreatmentEpisode
from reviews.models import Finding

# Rule 3b's elements of treatment, and rule 3c's findings (docs/design.md, rule 3b; rule 3c).
ELEMENT_KINDS = (
    InterventionKind.OST,
    InterventionKind.DETOX,
    InterventionKind.RESIDENTIAL,
    InterventionKind.INPATIENT,
)
NOT_BENEFITING = "not_benefiting"
NOT_BENEFITING_FINDINGS = (Finding.NO_BENEFIT, Finding.LESS_BENEFIT_THAN_EXPECTED)


@dataclass(frozen=True)
class ElementRow:
    kind: str
    medicine: str
    daily_dose_mg: Decimal | None
    started_on: date
    ended_on: date | None


def treatment_transitions(rows: Iterable[ElementRow], episode: TreatmentEpisode) -> tuple[date, ...]:
    """Rule 3b's transitions (§1.6, App. C 2) from an episode's OST, detox, residential and inpatient rows: the
    dates of treatment_transitions_described, each once, for the policy."""
    return transitions_and_element_ends(rows, episode)[0]


def element_ends(rows: Iterable[ElementRow], episode: TreatmentEpisode) -> tuple[date, ...]:
    """Rule 7b (§1.7): the days on which a course of OST, or a detox, residential or inpatient element, ended
    while the episode stayed open (a dose change within a course of OST is not an end). An end on the exit date
    ended with the episode; the policy gives it rule 7's first check-up instead."""
    return transitions_and_element_ends(rows, episode)[1]


def transitions_and_element_ends(
    rows: Iterable[ElementRow], episode: TreatmentEpisode
) -> tuple[tuple[date, ...], tuple[date, ...]]:
    """treatment_transitions and element_ends from one reading of the rows, as the schedule's facts need both."""
    described = treatment_transitions_described(rows, episode)
    return (
        tuple(sorted({t.on for t in described})),
        tuple(sorted({t.on for t in described if t.ends_element})),
    )


@dataclass(frozen=True)
class Transition:
    """A transition of rule 3b, and what changed, as clinicians say it: "Methadone 60 mg → 20 mg"."""

    on: date
    what: str
    ends_element: bool = False  # the end of OST, detox, residential or inpatient treatment (rule 7b)


def element_row(intervention: Intervention) -> ElementRow:
    return ElementRow(
        intervention.kind,
        intervention.medicine,
        intervention.daily_dose_mg,
        intervention.started_on,
        intervention.ended_on,
    )


def treatment_transitions_described(
    rows: Iterable[ElementRow], episode: TreatmentEpisode
) -> tuple[Transition, ...]:
    """Rule 3b's transitions (§1.6, App. C 2) from an episode's OST, detox, residential and inpatient rows, each
    with what changed, earliest first; the one reading of them for the schedule (treatment_transitions) and the
    pages (the vigilance after a medication change, reviews.selectors.transition_vigilance).

    A change of OST dose or medicine is recorded by ending one OST row and starting another the same or the next
    day: the two rows are one course of OST, so the change is a transition only when it reduces the daily dose or
    changes the medicine (an increase is not one), and the course starts and ends once. Every other row starts and
    ends an element of its own. Dates on or before entry are the entry itself, and dates after an exit are not
    the episode's; the policy leaves out the first and would refuse the second."""
    found: list[Transition] = []
    # For each course of OST: [start, end or None while it goes on, its first row, its latest row].
    courses: list[list] = []
    for row in sorted(rows, key=lambda r: (r.started_on, r.ended_on or date.max)):
        if row.kind != InterventionKind.OST:
            name = InterventionKind(row.kind).label
            found.append(Transition(row.started_on, f"{name} started"))
            if row.ended_on:
                found.append(Transition(row.ended_on, f"{name} ended", ends_element=True))
            continue
        course = courses[-1] if courses else None
        if course is None or (course[1] is not None and row.started_on > course[1] + timedelta(days=1)):
            courses.append([row.started_on, row.ended_on, row, row])
            continue
        before = course[3]
        if row.medicine != before.medicine or (
            row.daily_dose_mg is not None
            and before.daily_dose_mg is not None
            and row.daily_dose_mg < before.daily_dose_mg
        ):
            found.append(Transition(row.started_on, f"{_ost(before)} → {_ost(row, after=before)}"))
        course[1] = None if course[1] is None or row.ended_on is None else max(course[1], row.ended_on)
        course[3] = row
    for start, end, first, latest in courses:
        found.append(Transition(start, f"{_ost(first)} started"))
        if end:
            found.append(Transition(end, f"{_ost(latest)} ended", ends_element=True))
    last_day = episode.exit_date or date.max
    return tuple(sorted((t for t in found if episode.entry_date < t.on <= last_day), key=lambda t: t.on))


def _ost(row: ElementRow, *, after: ElementRow | None = None) -> str:
    """'Methadone 60 mg'; after a row of the same medicine, the dose alone ('20 mg')."""
    medicine = row.medicine.capitalize() if row.medicine else "OST"  # the code is the medicine's name
    dose = f"{Decimal(row.daily_dose_mg).normalize():f} mg" if row.daily_dose_mg is not None else ""
    if after is not None and after.medicine == row.medicine and dose:
        return dose
    return f"{medicine} {dose}".strip()
