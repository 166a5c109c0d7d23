"""The caseload file against the record (docs/design.md, Interoperability): the team's staff, and the patients
already registered. Reads only, a fixed number of queries whatever the number of rows (chunked by 2,000).

The NHS number is the key. A row whose NHS number is already on record in the team is "already imported" when
everything the row holds is what the record holds, and is skipped; any difference is a problem naming the
columns that differ, because an import never overwrites a clinical record (the record is corrected from the
patient's page, with a reason). A patient with the number in another team, or the same name and date of birth
under no or another number anywhere, is a problem that says only that a record exists, never whose or where,
as registration says (docs/design.md, Access and audit); each such match is written to that patient's access
log when `log_matches_by` is given.

Every new row is built as the records it will create (patient, episode, OST, dispensing, review) and validated
by the models' own full_clean, so a row the clinical record would refuse is a problem here, not an error in the
commit. (Foreign keys are the staff found here, and the uniqueness and database constraints are checked here in
bulk, so full_clean leaves those three out; the database holds every constraint again when the rows are written.)
"""

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError

from interop.caseload_import.parser import Parsed, Problem, Row
from patients.models import (
    DispensingArrangement,
    DispensingChange,
    Intervention,
    InterventionKind,
    Patient,
    TreatmentEpisode,
)
from recovery_reviews.audit import record_registration_match
from recovery_reviews.formatting import day
from recovery_reviews.models import Role, User
from reviews.models import ReviewStatus, StrategicReview

CHUNK = 2000


@dataclass
class NewPatient:
    """A row to import, as the records it creates (unsaved, validated)."""

    row: Row
    patient: Patient
    episode: TreatmentEpisode
    ost: Intervention | None
    dispensing: DispensingArrangement | None
    review: StrategicReview | None


@dataclass
class Plan:
    rows: int = 0
    new: list[NewPatient] = field(default_factory=list)
    already: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def rows_with_problems(self) -> int:
        return len({p.line for p in self.problems if p.line is not None and p.line > 1})

    @property
    def ok(self) -> bool:
        return not self.problems


def imported_note(today: date) -> str:
    return f"Imported from the previous system's caseload on {day(today)}."


def plan_import(parsed: Parsed, *, team, by, today: date, log_matches_by=None) -> Plan:
    plan = Plan(rows=len(parsed.rows), problems=list(parsed.problems))
    if parsed.problems:
        return plan
    rows = parsed.rows
    staff = _staff(team)
    _duplicates_in_file(rows)
    _team_and_staff(rows, team, staff)
    existing = _existing_by_number(rows)
    namesakes = _namesakes(rows)
    stored = _stored_details(p for p in existing.values() if p.team_id == team.pk)
    for row in rows:
        if row.problems:
            continue
        patient = existing.get(row.nhs_number)
        if patient is not None:
            if patient.team_id != team.pk:
                row.problem(
                    "nhs_number",
                    "A patient with this NHS number is already registered, in another team.",
                    "Ask that team's manager to move them to this team, or remove this row; an import never "
                    "creates a second record of one person.",
                )
                if log_matches_by is not None:
                    record_registration_match(
                        patient, by=log_matches_by, matched_on="NHS number, in a caseload import"
                    )
                continue
            differs = _differences(row, stored.get(patient.pk), staff)
            if differs:
                row.problem(
                    ", ".join(differs),
                    "The patient with this NHS number is already on record, and the record differs in "
                    f"{', '.join(differs)}.",
                    "An import never overwrites a clinical record: correct the record from the patient's page "
                    "(with the reason), or make this row match it, or remove the row.",
                )
            else:
                plan.already.append(row)
            continue
        match = namesakes.get((row.given_name.lower(), row.family_name.lower(), row.date_of_birth))
        if match is not None:
            row.problem(
                "given_name, family_name, date_of_birth",
                "A patient with this name and date of birth is already registered without this NHS number.",
                "If it is the same person, add the NHS number to their record (Correct details) and import "
                "again; if it is someone else, register them from the registration page.",
            )
            if log_matches_by is not None:
                record_registration_match(
                    match, by=log_matches_by, matched_on="name and date of birth, in a caseload import"
                )
            continue
        built = _build(row, team, staff, by, today)
        if not row.problems:
            plan.new.append(built)
    plan.problems += [p for row in rows for p in row.problems]
    return plan


def _staff(team) -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(team=team)}


def _duplicates_in_file(rows: list[Row]) -> None:
    first = {}
    for row in rows:
        if not row.nhs_number:
            continue
        if row.nhs_number in first:
            row.problem(
                "nhs_number",
                f"This NHS number is on line {first[row.nhs_number]} too.",
                "One row per patient: remove or merge the second.",
            )
        else:
            first[row.nhs_number] = row.line


def _person(staff: dict, username: str) -> User | None:
    if username in staff:
        return staff[username]
    matches = [u for name, u in staff.items() if name.lower() == username.lower()]
    return matches[0] if len(matches) == 1 else None


def _team_and_staff(rows: list[Row], team, staff: dict) -> None:
    for row in rows:
        if row.team and row.team.strip().lower() != team.name.lower():
            row.problem(
                "team",
                f"This row is for the team '{row.team}'; this import is into {team}.",
                f"Import each team's rows into that team, or write {team} (or leave it blank).",
            )
        for column, role, what in (
            ("keyworker", Role.KEYWORKER, "keyworker"),
            ("lead_practitioner", Role.SENIOR_PRACTITIONER, "senior practitioner"),
        ):
            username = getattr(row, column)
            if not username:
                continue
            person = _person(staff, username)
            if person is None:
                row.problem(
                    column,
                    f"No one in {team} has the username '{username}'.",
                    f"Give the username a {what} of {team} signs in with.",
                )
            elif person.role != role:
                row.problem(
                    column,
                    f"'{username}' is a {person.get_role_display().lower()}, not a {what}.",
                    f"Give a {what} of {team}.",
                )
            elif not person.is_active:
                row.problem(
                    column,
                    f"'{username}' has left (their account is no longer active).",
                    f"Give the {what} who looks after the patient now.",
                )


def _chunks(values: list) -> list[list]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _existing_by_number(rows: list[Row]) -> dict[str, Patient]:
    numbers = sorted({r.nhs_number for r in rows if r.nhs_number and not r.problems})
    found = {}
    for chunk in _chunks(numbers):
        for patient in Patient.objects.filter(nhs_number__in=chunk).only(
            "pk", "nhs_number", "team_id", "keyworker_id", "given_name", "family_name", "date_of_birth"
        ):
            found[patient.nhs_number] = patient
    return found


def _namesakes(rows: list[Row]) -> dict[tuple, Patient]:
    births = sorted({r.date_of_birth for r in rows if r.date_of_birth and not r.problems})
    wanted = {(r.given_name.lower(), r.family_name.lower(), r.date_of_birth) for r in rows if not r.problems}
    numbers = {r.nhs_number for r in rows}
    found = {}
    for chunk in _chunks(births):
        for patient in Patient.objects.filter(date_of_birth__in=chunk).only(
            "pk", "nhs_number", "given_name", "family_name", "date_of_birth"
        ):
            key = (patient.given_name.lower(), patient.family_name.lower(), patient.date_of_birth)
            if key in wanted and patient.nhs_number not in numbers:
                found[key] = patient
    return found


@dataclass
class Stored:
    """What the record holds of a patient already registered, in the file's terms."""

    patient: Patient
    episode: TreatmentEpisode | None = None
    ost: tuple | None = None  # (medicine, dose, started_on) of the current OST
    dispensing: int | None = None
    last_review: tuple | None = None  # (completed_on, agreed_next_date, lead_id)


def _stored_details(patients) -> dict[int, Stored]:
    stored = {p.pk: Stored(p) for p in patients}
    ids = list(stored)
    episodes = {}
    for chunk in _chunks(ids):
        for episode in TreatmentEpisode.objects.filter(patient_id__in=chunk, exit_date__isnull=True):
            stored[episode.patient_id].episode = episode
            episodes[episode.pk] = stored[episode.patient_id]
    episode_ids = list(episodes)
    latest_ost, latest_dispensing, latest_review = {}, {}, {}
    for chunk in _chunks(episode_ids):
        for row in (
            Intervention.objects.filter(
                episode_id__in=chunk, kind=InterventionKind.OST, ended_on__isnull=True
            )
            .order_by("episode_id", "started_on", "pk")
            .values_list("episode_id", "medicine", "daily_dose_mg", "started_on")
        ):
            latest_ost[row[0]] = row[1:]
        for episode_id, doses in (
            DispensingArrangement.objects.filter(episode_id__in=chunk)
            .order_by("episode_id", "effective_from", "recorded_at")
            .values_list("episode_id", "take_home_doses_per_week")
        ):
            latest_dispensing[episode_id] = doses
        for row in (
            StrategicReview.objects.filter(episode_id__in=chunk, status=ReviewStatus.COMPLETED)
            .order_by("episode_id", "completed_on", "pk")
            .values_list("episode_id", "completed_on", "agreed_next_date", "lead_id")
        ):
            latest_review[row[0]] = row[1:]
    for episode_id, details in episodes.items():
        details.ost = latest_ost.get(episode_id)
        details.dispensing = latest_dispensing.get(episode_id)
        details.last_review = latest_review.get(episode_id)
    return stored


def _differences(row: Row, stored: Stored, staff: dict) -> list[str]:
    """The columns in which the row and the record differ (none: the row is already imported)."""
    patient, episode = stored.patient, stored.episode
    keyworker = _person(staff, row.keyworker)
    lead = _person(staff, row.lead_practitioner) if row.lead_practitioner else None
    differs = [
        name
        for name, same in (
            ("given_name", row.given_name == patient.given_name),
            ("family_name", row.family_name == patient.family_name),
            ("date_of_birth", row.date_of_birth == patient.date_of_birth),
            ("keyworker", keyworker is not None and keyworker.pk == patient.keyworker_id),
        )
        if not same
    ]
    if episode is None:
        return [*differs, "entry_date (the patient has no open episode)"]
    ost_start = row.ost_start_date or row.entry_date
    want_ost = (row.ost_medicine, row.ost_daily_dose_mg, ost_start) if row.ost_medicine else None
    have_ost = stored.ost and (stored.ost[0], stored.ost[1], stored.ost[2])
    have_review = stored.last_review
    differs += [
        name
        for name, same in (
            ("entry_date", row.entry_date == episode.entry_date),
            ("primary_substance", row.primary_substance == episode.primary_drug),
            ("other_substances", set(row.other_substances) == set(episode.other_substances or ())),
            ("lead_practitioner", (lead.pk if lead else None) == episode.lead_practitioner_id),
            ("ost_medicine, ost_daily_dose_mg, ost_start_date", want_ost == (have_ost or None)),
            ("dispensing", row.dispensing == stored.dispensing),
            ("last_review_date", row.last_review_date == (have_review[0] if have_review else None)),
            ("agreed_next_date", row.agreed_next_date == (have_review[1] if have_review else None)),
        )
        if not same
    ]
    return differs


# Model fields as the file's columns, for a model's own message (full_clean) put on the right column.
FIELD_COLUMNS = {
    "nhs_number": "nhs_number",
    "given_name": "given_name",
    "family_name": "family_name",
    "date_of_birth": "date_of_birth",
    "entry_date": "entry_date",
    "primary_drug": "primary_substance",
    "other_substances": "other_substances",
    "medicine": "ost_medicine",
    "daily_dose_mg": "ost_daily_dose_mg",
    "started_on": "ost_start_date",
    "take_home_doses_per_week": "dispensing",
    "effective_from": "ost_start_date",
    "held_on": "last_review_date",
    "completed_on": "last_review_date",
    "agreed_next_date": "agreed_next_date",
}
NOT_CHECKED_HERE = [
    "team",
    "keyworker",
    "patient",
    "episode",
    "lead_practitioner",
    "lead",
    "recorded_by",
    "created_by",
]


def _validated(row: Row, instance) -> None:
    try:
        instance.full_clean(exclude=NOT_CHECKED_HERE, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            for message in messages:
                row.problem(
                    FIELD_COLUMNS.get(name, ""),
                    message,
                    "Correct the value: the record would refuse it as it is.",
                )


def _build(row: Row, team, staff: dict, by, today: date) -> NewPatient:
    keyworker = _person(staff, row.keyworker)
    lead = _person(staff, row.lead_practitioner) if row.lead_practitioner else None
    note = imported_note(today)
    patient = Patient(
        given_name=row.given_name,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        nhs_number=row.nhs_number,
        team=team,
        keyworker=keyworker,
    )
    episode = TreatmentEpisode(
        patient=patient,
        entry_date=row.entry_date,
        primary_drug=row.primary_substance,
        other_substances=list(row.other_substances),
        lead_practitioner=lead,
    )
    episode.team, episode.keyworker = team, keyworker  # the triggers set the same from the patient
    ost = dispensing = review = None
    if row.ost_medicine:
        started = row.ost_start_date or row.entry_date
        ost = Intervention(
            episode=episode,
            kind=InterventionKind.OST,
            medicine=row.ost_medicine,
            daily_dose_mg=row.ost_daily_dose_mg,
            started_on=started,
            note=f"{note} The medicine and dose are those prescribed on that day.",
        )
        dispensing = DispensingArrangement(
            episode=episode,
            effective_from=started,
            take_home_doses_per_week=row.dispensing,
            change_reason=DispensingChange.START,
            reason_note=f"{note} The arrangement in force on that day.",
            recorded_by=by,
        )
    if row.last_review_date:
        review = StrategicReview(
            episode=episode,
            held_on=row.last_review_date,
            completed_on=row.last_review_date,
            lead=lead,
            status=ReviewStatus.COMPLETED,
            patient_took_part=True,
            agreed_next_date=row.agreed_next_date,
            overview=f"{note} Only the date of the last completed review and the next date agreed at it were "
            "imported; what was decided is in the previous system's record.",
            created_by=by,
        )
    for instance in (patient, episode, ost, dispensing, review):
        if instance is not None:
            _validated(row, instance)
    return NewPatient(row, patient, episode, ost, dispensing, review)
