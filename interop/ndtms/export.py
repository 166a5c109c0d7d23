"""The NDTMS monthly return (docs/design.md, Interoperability): rows built from a field map kept as data
(interop/ndtms/fieldmaps/), every record validated before the file is written, and every record that cannot be sent
listed with its reasons. Nothing is dropped silently: a record is either in the file or in the list of problems.

The exporter knows nothing of NDTMS columns or codes: it walks the map. Which episodes a period holds, and as at
what day, is interop/ndtms/records.py."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from interop.ndtms.fieldmaps import Field, FieldMap
from interop.ndtms.records import Period
from recovery_reviews.csv_export import csv_writer


@dataclass(frozen=True)
class Problem:
    """Why one record cannot be sent."""

    patient_id: int
    patient: str
    episode_id: int
    column: str
    reason: str


@dataclass
class NdtmsIntervention:
    """One NDTMS intervention: courses of one kind that follow on from each other (a new OST dose or medicine
    ends one course and starts the next the same day) are one intervention, numbered after the first."""

    id: int
    kind: str
    started_on: date
    ended_on: date | None
    exit_reason: str = ""


@dataclass
class Row:
    """What a field's source reads: the record, and at most one intervention, review or TOP."""

    fmap: FieldMap
    patient: Any
    episode: Any
    agency: str
    consented: bool
    discharged: bool
    problems: list
    intervention: NdtmsIntervention | None = None
    review: Any = None
    review_kinds: tuple = ()
    top: Any = None

    def code(self, codes: str, value, column: str = ""):
        """The NDTMS code for one of our values, or "" with the reason recorded when the map has none."""
        table = self.fmap.codes[codes]
        code = table.get(value)
        if code is None or code.value is None:
            key = next((k for k in table if k == value), value)
            label = getattr(key, "label", None) or str(value)
            where = f"{column}: " if column else ""
            note = f" {code.note}" if code is not None and code.note else ""
            self.problems.append(
                (column or codes, f"{where}'{label}' has no NDTMS code in the {codes} code map.{note}")
            )
            return ""
        return code.value


@dataclass
class Return:
    """A period's return for one team: the file's rows and the records that cannot be sent."""

    fmap: FieldMap
    period: Period
    agency: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    episodes: int = 0
    sent_episodes: int = 0
    without_consent: int = 0
    sent_patients: dict = field(default_factory=dict)  # patient id -> patient, of records in the file
    withheld_patients: dict = field(default_factory=dict)  # patient id -> patient, of records not sent

    @property
    def sent_patient_ids(self) -> list[int]:
        return list(self.sent_patients)

    @property
    def reasons(self) -> list[tuple[str, int]]:
        """Each reason a record cannot be sent, with how many records it stops, most first: what to fix first."""
        counts = Counter((p.reason, p.episode_id) for p in self.problems)
        by_reason = Counter(reason for reason, _episode in counts)
        return by_reason.most_common()

    @property
    def withheld_episodes(self) -> int:
        return self.episodes - self.sent_episodes

    @property
    def file_name(self) -> str:
        return self.fmap.file_name.format(
            agency=self.agency or "NOAGENCY",
            start=self.period.start,
            end=self.period.end,
            dataset=self.fmap.dataset,
        )

    def write(self, target) -> None:
        writer = csv_writer(target, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.rows)


def build_return(
    episodes, *, fmap: FieldMap, period: Period, agency: str, consents: dict[int, bool]
) -> Return:
    """Validate every episode and lay out the rows of those that can be sent (episodes from records.py)."""
    result = Return(fmap=fmap, period=period, agency=agency, header=fmap.columns)
    sent_patients = result.sent_patients
    for episode in episodes:
        result.episodes += 1
        consented = consents.get(episode.patient_id, False)
        problems: list = []
        rows = _episode_rows(episode, fmap, period, agency, consented, problems)
        patient = episode.patient
        if problems:
            seen = set()
            for column, reason in problems:
                if reason not in seen:
                    seen.add(reason)
                    result.problems.append(Problem(patient.pk, str(patient), episode.pk, column, reason))
            result.withheld_patients[patient.pk] = patient
            continue
        result.sent_episodes += 1
        if not consented:
            result.without_consent += 1
            if patient.pk in sent_patients:
                continue  # one row per client without consent: nothing else of theirs is sent
        sent_patients[patient.pk] = patient
        result.rows.extend([row.get(column, fmap.missing) for column in result.header] for row in rows)
    return result


def _episode_rows(episode, fmap, period, agency, consented, problems) -> list[dict]:
    """The episode's rows: its client and discharge columns on each, with one intervention, sub-intervention
    review or TOP per row (the map's entities of those names; an entity the map leaves out has no columns)."""
    discharged = episode.exit_date is not None and episode.exit_date <= period.end
    base = Row(fmap, episode.patient, episode, agency, consented, discharged, problems)
    for rule in fmap.rules:
        if said := rule.check(base):
            problems.append(("", said))
    if not consented:
        fields = [f for fields in fmap.entities.values() for f in fields if f.name in fmap.without_consent]
        return [_values(fields, base, fmap, problems)]
    values = {}
    for entity in ("client", "discharge"):
        values |= _values(fmap.entities.get(entity, ()), base, fmap, problems)
    rows = []
    interventions = _interventions(episode, period, discharged)
    kinds_on = _kinds_on(episode, period)
    subs = {
        "intervention": [{"intervention": i} for i in interventions],
        "sub_intervention_review": [
            {"review": r, "review_kinds": kinds_on(r.held_on)} for r in episode.strategic_reviews.all()
        ],
        "top": [{"top": t} for t in episode.top_assessments.all()],
    }
    for entity, items in subs.items():
        for item in items:
            row = Row(fmap, episode.patient, episode, agency, consented, discharged, problems, **item)
            rows.append(values | _values(fmap.entities.get(entity, ()), row, fmap, problems))
    return rows or [values]


def _values(fields: tuple[Field, ...] | list[Field], row: Row, fmap: FieldMap, problems: list) -> dict:
    out, uncoded = {}, set()
    for f in fields:
        raw = _resolve(f.source, row)
        if f.codes and raw not in (None, ""):
            before = len(problems)
            raw = row.code(f.codes, raw, f.name)
            if len(problems) > before:
                uncoded.add(f.name)
        out[f.name] = _format(raw, fmap)
    for f in fields:
        if out[f.name] != fmap.missing or f.name in uncoded:
            continue
        needed = f.mandatory or (f.required_with and out.get(f.required_with, fmap.missing) != fmap.missing)
        if needed:
            held = "" if f.source is not None else f" {f.note}"
            problems.append(
                (f.name, f"{f.name}: {f.meaning} is missing, and the record cannot be sent without it.{held}")
            )
    return out


def _resolve(source, row: Row):
    if source is None:
        return None
    if callable(source):
        return source(row)
    value = row
    for part in source.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _format(value, fmap: FieldMap) -> str:
    if value is None or value == "":
        return fmap.missing
    if isinstance(value, date):
        return value.strftime(fmap.date_format)
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _as_at(day: date | None, period: Period) -> date | None:
    return day if day is not None and day <= period.end else None


def _interventions(episode, period: Period, discharged: bool) -> list[NdtmsIntervention]:
    """The episode's interventions as NDTMS counts them, as they stood on the period's last day."""
    merged: list[NdtmsIntervention] = []
    open_by_kind: dict[str, NdtmsIntervention] = {}
    for course in sorted(episode.interventions.all(), key=lambda i: (i.started_on, i.pk)):
        ended = _as_at(course.ended_on, period)
        current = open_by_kind.get(course.kind)
        follows_on = current is not None and (
            current.ended_on is None or course.started_on <= current.ended_on + timedelta(days=1)
        )
        if follows_on:
            current.ended_on = (
                None if current.ended_on is None or ended is None else max(current.ended_on, ended)
            )
            continue
        open_by_kind[course.kind] = NdtmsIntervention(course.pk, course.kind, course.started_on, ended)
        merged.append(open_by_kind[course.kind])
    for intervention in merged:
        if discharged and intervention.ended_on == episode.exit_date:
            intervention.exit_reason = episode.exit_reason
    return merged


def _kinds_on(episode, period: Period):
    courses = [(i.kind, i.started_on, _as_at(i.ended_on, period)) for i in episode.interventions.all()]

    def kinds_on(day: date) -> tuple[str, ...]:
        return tuple(sorted({k for k, start, end in courses if start <= day and (end is None or end >= day)}))

    return kinds_on
