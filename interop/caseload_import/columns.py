"""The caseload file's columns, as data (docs/conventions.md 13): each column's name, whether the header must
have it, whether a row must fill it, what it holds, and an example. The parser, the template CSV and the format
described on the upload page all read this one list, so they cannot disagree (docs/design.md, Interoperability).
"""

from dataclasses import dataclass

from patients.models import Medicine, Substance
from patients.models.record import DAILY_DOSE_LIMITS_MG


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    holds: str
    example: str
    in_header: bool = (
        True  # the header must name it (its values may still be blank where `required` is False)
    )
    required: bool = False  # every row must fill it


def _dose_limits() -> str:
    return " and ".join(f"{limit} mg of {code}" for code, limit in DAILY_DOSE_LIMITS_MG.items())


DATE_FORMATS = "YYYY-MM-DD or DD/MM/YYYY"

COLUMNS: tuple[Column, ...] = (
    Column(
        "nhs_number",
        "NHS number",
        "Ten digits with a valid check digit; spaces are fine. The key of the import: a patient already on record "
        "with this number is not imported again.",
        "943 476 5919",
        required=True,
    ),
    Column("given_name", "Given name", "At most 100 characters.", "Jo", required=True),
    Column("family_name", "Family name", "At most 100 characters.", "Bloggs", required=True),
    Column("date_of_birth", "Date of birth", f"{DATE_FORMATS}.", "14/03/1981", required=True),
    Column(
        "team",
        "Team",
        "The name of the team you import into, or blank for it.",
        "North",
    ),
    Column(
        "keyworker",
        "Keyworker",
        "The username (as they sign in) of an active keyworker of the team.",
        "kw.north",
        required=True,
    ),
    Column(
        "lead_practitioner",
        "Lead practitioner",
        "The username of an active senior practitioner of the team, who leads the patient's strategic reviews "
        "(§2.5). Needed when a last review date is given: it is that review's lead.",
        "sp.north",
    ),
    Column(
        "entry_date",
        "Entry date",
        f"The day the current treatment episode began, {DATE_FORMATS}; not in the future. The first strategic "
        "review is due 3 months after it, and no later than 6 months (§1.3).",
        "2026-02-02",
        required=True,
    ),
    Column(
        "primary_substance",
        "Primary substance",
        "The primary problem substance: one of the codes below, or its name.",
        Substance.HEROIN.value,
        required=True,
    ),
    Column(
        "other_substances",
        "Other substances",
        "Other problem substances, separated by semicolons (;), from the same list; may be blank.",
        f"{Substance.CRACK.value}; {Substance.ALCOHOL.value}",
    ),
    Column(
        "ost_medicine",
        "OST medicine",
        "The opioid substitute prescribed now: methadone or buprenorphine; blank when not on OST.",
        Medicine.METHADONE.value,
    ),
    Column(
        "ost_daily_dose_mg",
        "OST daily dose (mg)",
        f"The current daily dose in mg, with the OST medicine: more than 0 and at most {_dose_limits()}.",
        "60",
    ),
    Column(
        "ost_start_date",
        "OST start date",
        f"The day the current OST course began, {DATE_FORMATS}; blank or absent means the entry "
        "date. A start after the entry date is a treatment transition (the review comes within 3 months of it).",
        "",
        in_header=False,
    ),
    Column(
        "dispensing",
        "Dispensing",
        "With OST: 'supervised' (every dose supervised) or the number of take-home doses a week, 0 to 7.",
        "supervised",
    ),
    Column(
        "last_review_date",
        "Last strategic review",
        f"The day the last strategic review with the patient was completed, {DATE_FORMATS}; blank when none has "
        "been. The next review is due 6 months after it (§1.3).",
        "2026-05-05",
    ),
    Column(
        "agreed_next_date",
        "Agreed next review",
        f"The next review date agreed with the patient at that review, {DATE_FORMATS}; blank when none. An "
        "earlier date stands; one more than 6 months after the review is not used, since the §1.5 conditions "
        "for a longer interval are not imported.",
        "2026-10-05",
    ),
)

BY_NAME = {column.name: column for column in COLUMNS}

# Other names a spreadsheet may give a column, after normalising (lower case, runs of anything but letters and
# digits as one underscore): "NHS No." and "Date of Birth" are read as nhs_number and date_of_birth.
ALIASES = {
    "nhs_no": "nhs_number",
    "nhs": "nhs_number",
    "first_name": "given_name",
    "forename": "given_name",
    "surname": "family_name",
    "last_name": "family_name",
    "dob": "date_of_birth",
    "lead": "lead_practitioner",
    "ost_dose_mg": "ost_daily_dose_mg",
    "ost_dose": "ost_daily_dose_mg",
    "daily_dose_mg": "ost_daily_dose_mg",
    "last_strategic_review": "last_review_date",
    "agreed_next_review": "agreed_next_date",
}
