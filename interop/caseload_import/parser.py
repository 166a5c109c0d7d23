"""Reading the caseload file (docs/design.md, Interoperability): bytes in, typed rows and problems out. No database:
what needs the record (the team's staff, patients already registered) is checked in checks.py.

Every problem is (line, column, what is wrong, how to fix it), the line as a spreadsheet numbers it (the header is
line 1). A file that cannot be read at all (not UTF-8, no header, too big) is one problem for the whole file.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from interop.caseload_import.columns import ALIASES, BY_NAME, COLUMNS, DATE_FORMATS
from patients.models import Medicine, Substance
from patients.models.record import DAILY_DOSE_LIMITS_MG
from patients.validators import normalise_nhs_number, validate_nhs_number
from recovery_reviews.formatting import day

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
EARLIEST_BIRTH = date(1900, 1, 1)

NOT_UTF8 = "The file is not UTF-8: save it as 'CSV UTF-8' in Excel"
NOT_UTF8_FIX = (
    "In Excel choose File, Save As, and the type 'CSV UTF-8 (Comma delimited) (*.csv)'; in LibreOffice tick "
    "'Edit filter settings' and choose the character set Unicode (UTF-8). Then upload that file."
)


@dataclass(frozen=True)
class Problem:
    line: int | None  # None: the file as a whole
    column: str
    what: str
    fix: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "what": self.what, "fix": self.fix}


@dataclass
class Row:
    """One patient and their open episode, as the file gives them (typed; None where left blank)."""

    line: int
    nhs_number: str = ""
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    team: str = ""
    keyworker: str = ""
    lead_practitioner: str = ""
    entry_date: date | None = None
    primary_substance: str = ""
    other_substances: tuple[str, ...] = ()
    ost_medicine: str = ""
    ost_daily_dose_mg: Decimal | None = None
    ost_start_date: date | None = None
    dispensing: int | None = None  # take-home doses a week; 0 is every dose supervised
    last_review_date: date | None = None
    agreed_next_date: date | None = None
    problems: list[Problem] = field(default_factory=list)

    def problem(self, column: str, what: str, fix: str) -> None:
        self.problems.append(Problem(self.line, column, what, fix))


@dataclass
class Parsed:
    rows: list[Row]
    problems: list[Problem]  # the file's own (encoding, header, size), before any row's

    @property
    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(p for row in self.rows for p in row.problems)]


def decode(content: bytes) -> tuple[str | None, Problem | None]:
    """The text of a UTF-8 file, with or without its byte order mark; anything else is refused, with how to save
    the file as UTF-8 (Excel's plain 'CSV' is Windows-1252)."""
    if content.startswith(b"PK\x03\x04"):
        return None, Problem(
            None,
            "",
            "This is an Excel workbook (.xlsx), not a CSV file.",
            "Open it in Excel and save it as 'CSV UTF-8 (Comma delimited) (*.csv)', then upload that file.",
        )
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, Problem(None, "", f"{NOT_UTF8} (it is UTF-16, Excel's 'Unicode Text').", NOT_UTF8_FIX)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        return None, Problem(
            None,
            "",
            f"{NOT_UTF8} (line {line} has a byte UTF-8 does not allow, as Windows-1252 writes é or £).",
            NOT_UTF8_FIX,
        )
    if "\x00" in text:
        return None, Problem(None, "", "The file holds NUL characters: it is not a CSV file.", NOT_UTF8_FIX)
    return text, None


def _normalised(name: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return ALIASES.get(key, key)


def parse(
    content: bytes, *, today: date, max_rows: int | None = None, max_bytes: int | None = None
) -> Parsed:
    """Read the whole file: the file's problems, or every row with its own problems."""
    max_rows, max_bytes = max_rows or MAX_ROWS, max_bytes or MAX_BYTES
    if not content.strip():
        return Parsed(
            [], [Problem(None, "", "The file is empty.", "Upload the caseload file with its header.")]
        )
    if len(content) > max_bytes:
        return Parsed(
            [],
            [
                Problem(
                    None,
                    "",
                    f"The file is {len(content) / 1_048_576:.1f} MB; the most one import takes is "
                    f"{max_bytes / 1_048_576:.0f} MB.",
                    "Split it into smaller files (by team, or by family name) and import each.",
                )
            ],
        )
    text, problem = decode(content)
    if problem:
        return Parsed([], [problem])
    try:
        return _parse_rows(_lines(text), today=today, max_rows=max_rows)
    except csv.Error as error:  # a value longer than the csv module takes (128 KB): not a caseload
        return Parsed(
            [],
            [
                Problem(
                    None,
                    "",
                    f"The file cannot be read as CSV ({error}).",
                    "Save it as 'CSV UTF-8 (Comma delimited)'.",
                )
            ],
        )


def _parse_rows(lines: Iterator[tuple[int, list[str]]], *, today: date, max_rows: int) -> Parsed:
    header_problems, names = _header(next(lines, (1, [])))
    if header_problems:
        return Parsed([], header_problems)
    rows, problems = [], []
    for line, values in lines:
        if not any(v.strip() for v in values):
            continue  # a blank line, as spreadsheets leave at the end
        if len(rows) == max_rows:
            return Parsed(
                [],
                [
                    Problem(
                        None,
                        "",
                        f"The file has more than {max_rows:,} patients; one import takes at most {max_rows:,}.",
                        "Split it into smaller files (by team, or by family name) and import each.",
                    )
                ],
            )
        rows.append(_row(line, names, values, today))
    if not rows:
        problems.append(
            Problem(None, "", "The file has a header but no patients.", "Add one row per patient under it.")
        )
    return Parsed(rows, problems)


def _lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """(the line a record starts on, its values): a quoted value may run over several lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    start = 1
    for values in reader:
        yield start, values
        start = reader.line_num + 1


def _header(first: tuple[int, list[str]]) -> tuple[list[Problem], list[str]]:
    _, raw = first
    names = [_normalised(name) for name in raw]
    fix_header = (
        "Make line 1 the header row of the template (download it from the import page), spelt as there."
    )
    if len(raw) == 1 and (";" in raw[0] or "\t" in raw[0]):
        return [
            Problem(
                1,
                "",
                "The header is one column separated by semicolons or tabs: this file is not comma-separated.",
                "Save it as 'CSV UTF-8 (Comma delimited)'.",
            )
        ], names
    known = [n for n in names if n in BY_NAME]
    if not known:
        return [
            Problem(
                1,
                "",
                "Line 1 is not the header: it names none of the columns.",
                fix_header,
            )
        ], names
    problems = []
    missing = [c.name for c in COLUMNS if c.in_header and c.name not in names]
    if missing:
        problems.append(
            Problem(
                1,
                ", ".join(missing),
                f"The header lacks {_listed(missing)}.",
                "Add the missing columns (their values may be blank where optional). " + fix_header,
            )
        )
    unknown = [
        raw[i].strip() or f"(column {i + 1} has no name)" for i, n in enumerate(names) if n not in BY_NAME
    ]
    if unknown:
        problems.append(
            Problem(
                1,
                ", ".join(unknown),
                f"The header has {_listed(unknown)}, which this import does not know.",
                "Remove these columns, or rename them to the template's names. " + fix_header,
            )
        )
    twice = sorted({n for n in known if names.count(n) > 1})
    if twice:
        problems.append(
            Problem(1, ", ".join(twice), f"The header names {_listed(twice)} twice.", "Keep one of each.")
        )
    return problems, names


def _listed(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    noun = "column" if len(names) == 1 else "columns"
    return (
        f"the {noun} {', '.join(quoted[:-1])} and {quoted[-1]}"
        if len(quoted) > 1
        else f"the {noun} {quoted[0]}"
    )


def _row(line: int, names: list[str], values: list[str], today: date) -> Row:
    row = Row(line)
    if len(values) != len(names):
        row.problem(
            "",
            f"This line has {len(values)} values; the header has {len(names)} columns.",
            "A name or note with a comma in it must be in double quotes; check the line in a text editor.",
        )
        return row
    cells = {name: value.strip() for name, value in zip(names, values, strict=True)}
    for column in COLUMNS:
        if column.required and not cells.get(column.name):
            row.problem(column.name, f"The {column.label.lower()} is missing.", f"Give it: {column.holds}")
    _identity(row, cells, today)
    _episode(row, cells, today)
    _ost(row, cells, today)
    _reviews(row, cells, today)
    return row


def _identity(row: Row, cells: dict, today: date) -> None:
    if number := cells.get("nhs_number"):
        row.nhs_number = normalise_nhs_number(number)
        try:
            validate_nhs_number(number)  # the rule registration applies; the import words its own help
        except ValidationError as error:
            wrong = error.code
        else:
            wrong = None
        if wrong == "nhs_number_length":
            row.problem(
                "nhs_number",
                f"An NHS number has 10 digits; this one has {sum(c.isdigit() for c in number)}"
                + ("" if row.nhs_number.isdigit() else " and other characters")
                + ".",
                "Copy it again from the patient's record (spaces are fine, as in 943 476 5919).",
            )
        elif wrong == "nhs_number_check_digit":
            row.problem(
                "nhs_number",
                "The NHS number's check digit is wrong: its last digit does not match the first nine.",
                "Check it against the patient's records: a digit is probably mistyped or two are swapped.",
            )
    for name in ("given_name", "family_name"):
        value = cells.get(name, "")
        if len(value) > 100:
            row.problem(
                name,
                f"The {BY_NAME[name].label.lower()} is {len(value)} characters long; at most 100.",
                "Shorten it.",
            )
        setattr(row, name, value)
    row.date_of_birth = _date(row, cells, "date_of_birth")
    if row.date_of_birth and row.date_of_birth > today:
        row.problem(
            "date_of_birth",
            f"The date of birth, {day(row.date_of_birth)}, is in the future.",
            "Check the year.",
        )
    elif row.date_of_birth and row.date_of_birth < EARLIEST_BIRTH:
        row.problem(
            "date_of_birth",
            f"The date of birth, {day(row.date_of_birth)}, is before 1900.",
            "Check the year.",
        )
    row.team = cells.get("team", "")
    row.keyworker = cells.get("keyworker", "")
    row.lead_practitioner = cells.get("lead_practitioner", "")


def _episode(row: Row, cells: dict, today: date) -> None:
    row.entry_date = _date(row, cells, "entry_date")
    if row.entry_date and row.entry_date > today:
        row.problem(
            "entry_date",
            f"The entry date, {day(row.entry_date)}, is in the future.",
            "Give the day the episode began; import patients once they have entered treatment.",
        )
    if row.entry_date and row.date_of_birth and row.entry_date < row.date_of_birth:
        row.problem("entry_date", "The entry date is before the date of birth.", "Check both dates.")
    if value := cells.get("primary_substance"):
        row.primary_substance = _substance(row, "primary_substance", value)
    others = [v.strip() for v in cells.get("other_substances", "").split(";") if v.strip()]
    row.other_substances = tuple(
        dict.fromkeys(c for c in (_substance(row, "other_substances", v) for v in others) if c)
    )


SUBSTANCES = {
    **{c.lower(): c for c in Substance.values},
    **{label.lower(): c for c, label in Substance.choices},
}
MEDICINES = {**{c: c for c in Medicine.values}, **{label.lower(): c for c, label in Medicine.choices}}


def _substance(row: Row, column: str, value: str) -> str:
    code = SUBSTANCES.get(value.lower()) or SUBSTANCES.get(value.lower().replace(" ", "_"))
    if code is None:
        row.problem(
            column,
            f"'{value}' is not a substance this service records.",
            "Use one of the codes listed on the import page (heroin, methadone, crack, alcohol ...), or 'other'.",
        )
        return ""
    return code


def _ost(row: Row, cells: dict, today: date) -> None:
    medicine, dose, dispensing = (
        cells.get(n, "") for n in ("ost_medicine", "ost_daily_dose_mg", "dispensing")
    )
    if medicine:
        row.ost_medicine = MEDICINES.get(medicine.lower(), "")
        if not row.ost_medicine:
            row.problem(
                "ost_medicine",
                f"'{medicine}' is not an opioid substitute this service records.",
                "Give 'methadone' or 'buprenorphine', or leave it blank when not on OST.",
            )
    if dose:
        try:
            row.ost_daily_dose_mg = Decimal(dose.lower().removesuffix("mg").strip())
        except InvalidOperation:
            row.problem(
                "ost_daily_dose_mg",
                f"'{dose}' is not a number of mg.",
                "Give the daily dose as a number, as in 60 or 7.5.",
            )
        else:
            limit = DAILY_DOSE_LIMITS_MG.get(row.ost_medicine)
            if row.ost_daily_dose_mg <= 0 or row.ost_daily_dose_mg.as_tuple().exponent < -2:
                row.problem(
                    "ost_daily_dose_mg",
                    f"A daily dose of {dose} mg cannot be right.",
                    "Give the dose in mg, more than 0, at most two decimals.",
                )
            elif limit is not None and row.ost_daily_dose_mg > limit:
                row.problem(
                    "ost_daily_dose_mg",
                    f"A daily {row.ost_medicine} dose of {dose} mg is not plausible (at most {limit} mg).",
                    "Check it: an extra zero is the usual slip.",
                )
    if medicine and not dose:
        row.problem(
            "ost_daily_dose_mg",
            "The OST medicine is given without its daily dose.",
            "Give the daily dose in mg.",
        )
    if dose and not medicine:
        row.problem(
            "ost_medicine",
            "A daily dose is given without its OST medicine.",
            "Give 'methadone' or 'buprenorphine', or clear the dose.",
        )
    row.ost_start_date = _date(row, cells, "ost_start_date")
    if row.ost_start_date and not medicine:
        row.problem(
            "ost_start_date",
            "An OST start date is given without an OST medicine.",
            "Give the medicine and dose, or clear the date.",
        )
    if row.ost_start_date and row.entry_date and not row.entry_date <= row.ost_start_date <= today:
        row.problem(
            "ost_start_date",
            f"The OST start date, {day(row.ost_start_date)}, is not between the entry date and today.",
            "Give the day the current OST course began, or leave it blank for the entry date.",
        )
    if dispensing:
        match = re.fullmatch(
            r"(supervised)(?: consumption)?|([0-9]+)(?: ?take[- ]?home.*)?", dispensing.lower()
        )
        if match is None or (match.group(2) and int(match.group(2)) > 7):
            row.problem(
                "dispensing",
                f"'{dispensing}' is not a dispensing arrangement this import reads.",
                "Give 'supervised', or the number of take-home doses a week from 0 to 7.",
            )
        else:
            row.dispensing = 0 if match.group(1) else int(match.group(2))
        if not medicine:
            row.problem(
                "dispensing",
                "A dispensing arrangement is given without an OST medicine.",
                "Give the OST medicine and dose, or clear the dispensing.",
            )
    elif medicine:
        row.problem(
            "dispensing",
            "The OST is given without how it is dispensed.",
            "Give 'supervised', or the number of take-home doses a week from 0 to 7.",
        )


def _reviews(row: Row, cells: dict, today: date) -> None:
    row.last_review_date = _date(row, cells, "last_review_date")
    row.agreed_next_date = _date(row, cells, "agreed_next_date")
    last, agreed = row.last_review_date, row.agreed_next_date
    if last and last > today:
        row.problem(
            "last_review_date",
            f"The last review date, {day(last)}, is in the future.",
            "Give the day the last completed review was held, or leave it blank.",
        )
    if last and row.entry_date and last < row.entry_date:
        row.problem(
            "last_review_date",
            f"The last review date, {day(last)}, is before the entry date.",
            "Give the last review of this episode, or leave it blank.",
        )
    if last and not row.lead_practitioner:
        row.problem(
            "lead_practitioner",
            "A last review date is given without the lead practitioner.",
            "Give the username of the senior practitioner who leads the patient's reviews (§2.5).",
        )
    if agreed and not last:
        row.problem(
            "agreed_next_date",
            "An agreed next date is given without the last review that agreed it.",
            "Give the last review date too, or clear the agreed date.",
        )
    if agreed and last and agreed <= last:
        row.problem(
            "agreed_next_date",
            "The agreed next date is not after the last review.",
            "Give the date agreed for the next review, after the last one.",
        )


DATE_PATTERNS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), (1, 2, 3)),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), (3, 2, 1)),
)


def _date(row: Row, cells: dict, name: str) -> date | None:
    value = cells.get(name, "")
    if not value:
        return None
    for pattern, (y, m, d) in DATE_PATTERNS:
        if match := pattern.fullmatch(value):
            try:
                return date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError:
                row.problem(
                    name,
                    f"'{value}' is not a date that exists.",
                    f"Check the day and month ({DATE_FORMATS}).",
                )
                return None
    row.problem(
        name,
        f"'{value}' is not a date this import reads.",
        f"Write it as {DATE_FORMATS}, as in 2026-03-14 or 14/03/2026.",
    )
    return None
