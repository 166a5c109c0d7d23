"""NDTMS adult core data set P, as far as it is known (../shared/reference/ndtms-facts.md): the columns the return
writes, entity by entity, in order, each with where its value comes from in our record and on what evidence its
name stands. No P document's field tables could be read, so no column here is confirmed for P: "K" and "H" say
the name is in that older data set's column list (dataset_k.py, dataset_h.py), which a test checks.

A source is a dotted path into the row (interop/ndtms/export.py Row: patient, episode, agency, consented,
discharged, intervention, review, review_kinds, top) or a function of it; None when our record does not hold the
item, so the column is written empty (and the standing notes on the page name it)."""

from interop.ndtms.fieldmaps import Field, FieldMap, Rule
from interop.ndtms.fieldmaps.codes_p import CODE_MAPS
from interop.ndtms.fieldmaps.dataset_k import WITHOUT_CONSENT

NOT_HELD = "Recovery Reviews does not record it: the column is written empty."


def _initial(path):
    def initial(row):
        name = (getattr(row.patient, path) or "").strip()
        return name[:1].upper()

    return initial


def _nth_other_substance(n):
    def nth(row):
        others = row.episode.other_substances or []
        return others[n] if len(others) > n else None

    return nth


def _discharged(attribute):
    return lambda row: getattr(row.episode, attribute) if row.discharged else None


def _days_used(prefix):
    return lambda row: row.top.days_used(prefix)


def _any_of(*names):
    """Yes when any answer is yes, no when every answer is no, unanswered otherwise."""

    def any_of(row):
        answers = [getattr(row.top, name) for name in names]
        if any(answers):
            return True
        return False if all(a is False for a in answers) else None

    return any_of


def _flags(row) -> set[str]:
    return {flag for kind in row.review_kinds for flag in (row.code("sub_intervention", kind) or ())}


def _flag(name):
    return lambda row: "Y" if name in _flags(row) else "N"


CLIENT = (
    Field("AGNCY", "agency", "NDTMS agency code of the provider", "H,K", mandatory=True,
          note="The team's code (Admin: NDTMS agency codes)."),
    Field("CLIENTID", "patient.pk", "Client ID", "H,K", mandatory=True, note="Our patient number; kept without consent [C2]."),
    Field("CLIENT", "patient.pk", "Client reference (local ID)", "H,K", note="The K exporter writes the client ID here too [C2]."),
    Field("EPISODID", "episode.pk", "Episode ID", "H,K", mandatory=True),
    Field("CONSENT", "consented", "Consent to share with NDTMS", "H,K", mandatory=True, codes="yes_no",
          note="No decision recorded is read as no consent."),
    Field("FINITIAL", _initial("given_name"), "First letter of first name", "H,K", mandatory=True,
          note="Needed for validity by the K exporter [C2]."),
    Field("SINITIAL", _initial("family_name"), "First letter of surname", "H,K", mandatory=True,
          note="Needed for validity by the K exporter [C2]."),
    Field("DOB", "patient.date_of_birth", "Date of birth", "H,K", mandatory=True),
    Field("SEX", None, "Sex", "H,K", note=NOT_HELD + " The K exporter treats it as needed [C2]."),
    Field("ETHNIC", None, "Ethnicity", "H,K", note=NOT_HELD),
    Field("PC", None, "Postcode of residence", "H,K", note=NOT_HELD),
    Field("REFLD", None, "Date of referral", "H,K",
          note=NOT_HELD + " The episode's entry date is not its referral date. The K exporter needs it [C2]."),
    Field("TRIAGED", None, "Triage date", "H,K", note=NOT_HELD + " The K exporter needs it [C2]."),
    Field("DRUG1", "episode.primary_drug", "Problem substance 1", "H,K", mandatory=True, codes="drug",
          note="Needed for validity by the K exporter [C2]."),
    Field("DRUG2", _nth_other_substance(0), "Problem substance 2", "H,K", codes="drug",
          note="Empty when none: the 9996 an old exporter wrote is unconfirmed [C4]."),
    Field("DRUG3", _nth_other_substance(1), "Problem substance 3", "H,K", codes="drug"),
)  # fmt: skip

DISCHARGE = (
    Field("DISD", _discharged("exit_date"), "Discharge date", "H,K",
          note="Only for an episode that ended on or before the period's last day."),
    Field("DISRSN", _discharged("exit_reason"), "Discharge reason", "H,K", required_with="DISD",
          codes="discharge_reason"),
)  # fmt: skip

INTERVENTION = (
    Field("MODID", "intervention.id", "Intervention ID", "H,K", mandatory=True,
          note="The first course's number: courses of one kind that follow on (a new OST dose or medicine) are one intervention."),
    Field("MODAL", "intervention.kind", "Intervention type", "H,K", mandatory=True, codes="intervention"),
    Field("REFMODDT", None, "Date referred to the intervention", "H,K", note=NOT_HELD),
    Field("MODST", "intervention.started_on", "Intervention start date", "H,K", mandatory=True),
    Field("MODEND", "intervention.ended_on", "Intervention end date", "H,K",
          note="Empty while it continues at the period's end."),
    Field("MODEXIT", "intervention.exit_reason", "Intervention exit status", "H,K", codes="intervention_exit",
          note="Read from the episode's exit reason when the intervention ended with the episode; the record does "
          "not say how one ended while the episode continued, so it is empty then."),
)  # fmt: skip

_SUB_INTERVENTION_FLAGS = (
    ("PHSTBL", "Pharmacological: assessment and stabilisation"),
    ("PHWTH", "Pharmacological: withdrawal"),
    ("PHMAIN", "Pharmacological: maintenance"),
    ("PHRELPR", "Pharmacological: relapse prevention"),
    ("PSYMOTI", "Psychosocial: motivational"),
    ("PSYCNMG", "Psychosocial: contingency management"),
    ("PSYFSNI", "Psychosocial: family and social network"),
    ("PSYCGBH", "Psychosocial: cognitive and behavioural"),
    ("PSYMNTH", "Psychosocial: co-existing mental health"),
    ("PSYDNMC", "Psychosocial: psychodynamic"),
    ("PSYSTP", "Psychosocial: 12-step"),
    ("PSYCOUN", "Psychosocial: counselling (BACP accredited)"),
    ("PSYOTHR", "Psychosocial: other"),
    ("RECPEER", "Recovery support: peer support"),
    ("RECMAID", "Recovery support: mutual aid"),
    ("RECFMSP", "Recovery support: family support"),
    ("RECPRNT", "Recovery support: parenting"),
    ("RECHSE", "Recovery support: housing"),
    ("RECEMP", "Recovery support: employment"),
    ("RECEDUT", "Recovery support: education and training"),
    ("RECWPRJ", "Recovery support: supported work projects"),
    ("RECCHKP", "Recovery support: recovery check-ups"),
    ("RECRLPP", "Recovery support: relapse prevention"),
    ("RECCMPT", "Recovery support: complementary therapies"),
    ("RECGNH", "Recovery support: mental health interventions"),
    ("RECOTH", "Recovery support: other"),
)

SUB_INTERVENTION_REVIEW = (
    Field("SUBMID", "review.pk", "Sub-intervention review ID", "K", mandatory=True,
          note="A completed strategic review (§2) is reported as a sub-intervention review."),
    Field("SUBMODDT", "review.held_on", "Sub-intervention review date", "K", mandatory=True),
    *(
        Field(name, _flag(name), meaning, "K",
              note="Y when an intervention current on the review's date maps to it (codes_p.SUB_INTERVENTION). "
              "P splits pharmacological flags further (PHSTIMWTH, PHPREGWTH [S3]).")
        for name, meaning in _SUB_INTERVENTION_FLAGS
    ),
)  # fmt: skip

_DAYS = "Days in the past 28 (the four weeks summed); empty when any week is unanswered."
TOP = (
    Field("TOPID", "top.pk", "TOP record ID", "H,K", mandatory=True),
    Field("TOPDATE", "top.assessed_on", "Date of TOP interview", "H,K", mandatory=True),
    Field("TRSTAGE", "top.stage", "Treatment stage of the TOP", "H,K", mandatory=True, codes="top_stage"),
    Field("ALCUSE", _days_used("alcohol"), "Alcohol: days used", "H,K", note=_DAYS),
    Field("OPIUSE", _days_used("opiates"), "Opiates (illicit): days used", "H,K", note=_DAYS),
    Field("CRAUSE", _days_used("crack"), "Crack: days used", "H,K", note=_DAYS),
    Field("COCAUSE", _days_used("cocaine"), "Cocaine: days used", "H,K", note=_DAYS),
    Field("AMPHUSE", _days_used("amphetamines"), "Amphetamines: days used", "H,K", note=_DAYS),
    Field("CANNUSE", _days_used("cannabis"), "Cannabis: days used", "H,K", note=_DAYS),
    Field("OTDRGUSE", _days_used("other"), "Other problem drug: days used", "H,K", note=_DAYS),
    Field("IVDRGUSE", "top.injecting_days", "Days injected non-prescribed drugs", "H,K"),
    Field("SHARING", _any_of("shared_needle", "shared_paraphernalia"), "Shared injecting equipment", "H,K",
          codes="yes_no", note="Yes when either sharing question is yes (needle or syringe; spoon, water or filter)."),
    Field("SHOTHEFT", "top.shoplifting_days", "Shoplifting (days)", "H,K"),
    Field("DRGSELL", "top.drug_selling_days", "Drug selling (days)", "H,K"),
    Field("OTHTHEFT", _any_of("theft_from_vehicle", "theft_other_property"), "Other theft or burglary", "H,K",
          codes="yes_no", note="Yes when theft from or of a vehicle or other property theft or burglary is yes."),
    Field("ASSAULT", "top.assault_violence", "Assault or violence", "H,K", codes="yes_no"),
    Field("PSYHSTAT", "top.psychological_health", "Psychological health rating (0-20)", "H,K"),
    Field("PWORK", "top.paid_work_days", "Days of paid work", "H,K"),
    Field("EDUCAT", "top.education_days", "Days of education or college", "H,K"),
    Field("ACUTHPBM", "top.acute_housing_problem", "Acute housing problem", "H,K", codes="yes_no"),
    Field("HRISK", "top.eviction_risk", "At risk of eviction", "H,K", codes="yes_no"),
    Field("PHSTAT", "top.physical_health", "Physical health rating (0-20)", "H,K"),
    Field("QUALLIFE", "top.quality_of_life", "Overall quality of life (0-20)", "H,K"),
)  # fmt: skip


def _adult(row) -> str:
    born, entered = row.patient.date_of_birth, row.episode.entry_date
    age = entered.year - born.year - ((entered.month, entered.day) < (born.month, born.day))
    if age < 18:
        return f"Aged {age} at entry: the adult data set is for people aged 18 or over (the YP data set is separate)."
    return ""


FIELD_MAP = FieldMap(
    dataset="P",
    entities={
        "client": CLIENT,
        "discharge": DISCHARGE,
        "intervention": INTERVENTION,
        "sub_intervention_review": SUB_INTERVENTION_REVIEW,
        "top": TOP,
    },
    codes=CODE_MAPS,
    without_consent=WITHOUT_CONSENT,
    rules=(Rule("adult", _adult, "K", "The K exporter refuses anyone under 18 [C2]; the setting decides the data set [S12]."),),
    date_format="%d/%m/%Y",
    missing="",
    file_name="{agency}-{start:%Y%m%d}-{end:%Y%m%d}-TREAT-IN-{dataset}.csv",
    notes=(
        "File name AGENCY-FROM-TO-TREAT-IN-P.csv: an H/K-era exporter's pattern [C4], not confirmed for P.",
        "Layout: the K exporter's one wide row [C2]; here each row carries the client's and episode's columns and "
        "at most one intervention, sub-intervention review or TOP. Not confirmed for P (facts §5.1).",
        "Dates as DD/MM/YYYY and empty cells for missing values: neither confirmed for P (facts §5.1).",
        "Without consent a client has one row with AGNCY, CLIENTID and CONSENT only (the K exporter's rule [C2]).",
        "TOP amounts on a using day, and fraud, forgery or handling, have no column in H or K: not written.",
    ),
)  # fmt: skip
