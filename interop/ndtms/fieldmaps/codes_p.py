"""The code maps of data set P: our record's values to NDTMS codes, each marked with its evidence (tags as in
../shared/reference/ndtms-facts.md). Code(None, ...) means no NDTMS code is known for P: a record that needs one
is listed with that reason and is not in the file. When a service has the current NDTMS reference data, it fills
the code in here (and marks it "P"); nothing else changes."""

from interop.ndtms.fieldmaps import Code
from patients.models import ExitReason, InterventionKind, Substance, TopStage

_DRUG_NOTE = "The 4-digit list of an H/K-era app [C5]; P's reference data may differ (facts §4.1, §5.6)."
_NO_DRUG = "No code for it in the only list found [C5]: take it from P's reference data."

DRUG = {
    Substance.HEROIN: Code("1011", "H,K", _DRUG_NOTE),
    Substance.METHADONE: Code("1105", "H,K", _DRUG_NOTE),
    Substance.BUPRENORPHINE: Code(None, note=_NO_DRUG),
    Substance.FENTANYL: Code(None, note=_NO_DRUG),
    Substance.CRACK: Code("3201", "H,K", _DRUG_NOTE),
    Substance.COCAINE: Code("3200", "H,K", _DRUG_NOTE + " Cocaine excluding crack."),
    Substance.AMPHETAMINES: Code("3100", "H,K", _DRUG_NOTE + " Amphetamines excluding ecstasy."),
    Substance.CANNABIS: Code("5000", "H,K", _DRUG_NOTE),
    Substance.BENZODIAZEPINES: Code("2200", "H,K", _DRUG_NOTE),
    Substance.ALCOHOL: Code("7000", "H,K", _DRUG_NOTE),
    Substance.KETAMINE: Code(None, note=_NO_DRUG),
    Substance.SYNTHETIC_CANNABINOIDS: Code(None, note=_NO_DRUG),
    Substance.OTHER: Code("8799", "H,K", _DRUG_NOTE + " 'Other drugs'."),
}

_NO_DISCHARGE = (
    "P's discharge reason codes were not found; the old 1-13 list is local and not for P (facts §4.4)."
)
DISCHARGE_REASON = {
    ExitReason.COMPLETED_DRUG_FREE: Code(
        None, note=_NO_DISCHARGE + " OHID group: successful completion [C6]."
    ),
    ExitReason.COMPLETED_ALCOHOL_FREE: Code(
        None, note=_NO_DISCHARGE + " OHID group: successful completion [C6]."
    ),
    ExitReason.COMPLETED_OCCASIONAL: Code(
        None, note=_NO_DISCHARGE + " OHID group: successful completion [C6]."
    ),
    ExitReason.TRANSFERRED: Code(
        None, note=_NO_DISCHARGE + " Label seen: 'Transferred - not in custody' [S14]."
    ),
    ExitReason.TRANSFERRED_CUSTODY: Code(None, note=_NO_DISCHARGE),
    ExitReason.DROPPED_OUT: Code(None, note=_NO_DISCHARGE + " OHID group: incomplete/other [C6]."),
    ExitReason.DECLINED: Code(None, note=_NO_DISCHARGE + " OHID group: incomplete/other [C6]."),
    ExitReason.DIED: Code(None, note=_NO_DISCHARGE + " OHID group: died [C6]."),
    ExitReason.OTHER: Code(None, note=_NO_DISCHARGE + " OHID group: incomplete/other [C6]."),
}

_NO_MODAL = (
    "P's intervention codes (PHARM/PSYCH/RECOV?) were not found (facts §4.2, §5.4); the H list is obsolete."
)
INTERVENTION = {
    InterventionKind.OST: Code(None, note=_NO_MODAL + " H: 2 specialist prescribing."),
    InterventionKind.DETOX: Code(None, note=_NO_MODAL + " H: 2 specialist prescribing or 1 inpatient."),
    InterventionKind.RESIDENTIAL: Code(None, note=_NO_MODAL + " H: 6 residential rehabilitation."),
    InterventionKind.INPATIENT: Code(None, note=_NO_MODAL + " H: 1 inpatient treatment."),
    InterventionKind.PSYCHOSOCIAL: Code(None, note=_NO_MODAL + " H: 4 structured psychosocial intervention."),
    InterventionKind.RECOVERY_SUPPORT: Code(
        None, note=_NO_MODAL + " No H equivalent (recovery support came later)."
    ),
}

# MODEXIT for an intervention that ended with the episode: read from the episode's exit reason. The codes are an
# H-era app's (A mutually agreed planned exit, B client's unilateral unplanned exit, C intervention withdrawn [C5]).
_EXIT_NOTE = "H-era app codes [C5]; P's were not seen."
INTERVENTION_EXIT = {
    ExitReason.COMPLETED_DRUG_FREE: Code("A", "H", _EXIT_NOTE),
    ExitReason.COMPLETED_ALCOHOL_FREE: Code("A", "H", _EXIT_NOTE),
    ExitReason.COMPLETED_OCCASIONAL: Code("A", "H", _EXIT_NOTE),
    ExitReason.DROPPED_OUT: Code("B", "H", _EXIT_NOTE),
    ExitReason.DECLINED: Code("B", "H", _EXIT_NOTE),
    ExitReason.TRANSFERRED: Code(None, note=_EXIT_NOTE + " A transfer is none of A, B, C."),
    ExitReason.TRANSFERRED_CUSTODY: Code(None, note=_EXIT_NOTE + " A transfer is none of A, B, C."),
    ExitReason.DIED: Code(None, note=_EXIT_NOTE + " A death is none of A, B, C."),
    ExitReason.OTHER: Code(None, note=_EXIT_NOTE),
}

TOP_STAGE = {
    TopStage.START: Code("S", note="Commonly assumed, not seen in a source (facts §5.2)."),
    TopStage.REVIEW: Code("R", note="Commonly assumed, not seen in a source (facts §5.2)."),
    TopStage.EXIT: Code("E", note="Commonly assumed, not seen in a source (facts §5.2)."),
    TopStage.POST_EXIT: Code("P", note="Commonly assumed, not seen in a source (facts §5.2)."),
}

YES_NO = {True: Code("Y", "H,K", "Y/N items [C2, C5]."), False: Code("N", "H,K", "Y/N items [C2, C5].")}

# A strategic review is reported as a sub-intervention review: each intervention current on the review's date
# sets the K flag columns named here. Our record does not say which psychosocial or recovery-support element, or
# whether a prescription is for maintenance or withdrawal, so these are readings, marked as such; residential and
# inpatient treatment are interventions, not sub-interventions, and set no flag.
SUB_INTERVENTION = {
    InterventionKind.OST: Code(("PHMAIN",), note="OST read as maintenance prescribing (K flag PHMAIN)."),
    InterventionKind.DETOX: Code(
        ("PHWTH",), note="Detoxification read as withdrawal prescribing (K flag PHWTH)."
    ),
    InterventionKind.PSYCHOSOCIAL: Code(("PSYOTHR",), note="Which psychosocial element is not recorded."),
    InterventionKind.RECOVERY_SUPPORT: Code(
        ("RECOTH",), note="Which recovery-support element is not recorded."
    ),
    InterventionKind.RESIDENTIAL: Code((), "K", "An intervention, not a sub-intervention: no flag."),
    InterventionKind.INPATIENT: Code((), "K", "An intervention, not a sub-intervention: no flag."),
}

CODE_MAPS = {
    "drug": DRUG,
    "discharge_reason": DISCHARGE_REASON,
    "intervention": INTERVENTION,
    "intervention_exit": INTERVENTION_EXIT,
    "top_stage": TOP_STAGE,
    "yes_no": YES_NO,
    "sub_intervention": SUB_INTERVENTION,
}
