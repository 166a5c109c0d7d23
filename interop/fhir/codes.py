"""The vocabularies of a patient's FHIR record (docs/design.md, Interoperability): the UK Core profiles it claims,
the standard code systems it uses, and the product's own code systems for what no standard code names (the
Treatment Outcomes Profile's items and stages, the core domains, the kinds of contact and review). The product's
code systems are sent inside every bundle as CodeSystem resources, so that a receiver can read what each code
means without asking us.

Plain data and pure functions: no database, no network."""

from uuid import NAMESPACE_URL, uuid5

from careplans.models import GoalProgress
from patients.models import TOP_SUBSTANCES, TOP_WEEKS, CoreDomain, Medicine, TopStage
from patients.top_questionnaire import TOP_ITEMS
from reviews.scheduling import ELEMENT_CHECK_UP, RECOVERY_CHECK_UP, STRATEGIC_REVIEW
from reviews.services.schedule import RECORD_ERROR_KIND
from reviews.status import KIND_LABELS

# The product's own namespace for FHIR: canonical URLs of its code systems and the seed of its resource ids. A
# canonical URL names a code system; it need not resolve. It is the same for every installation of the product.
PRODUCT_FHIR_BASE = "https://recovery-reviews.example/fhir"
CODE_SYSTEM_VERSION = "1.0.0"

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
UCUM = "http://unitsofmeasure.org"
SNOMED_CT = "http://snomed.info/sct"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"

# UK Core R4 profiles (NHS England's FHIR R4 UK Core, the STU3 release line: Patient 2.6, EpisodeOfCare 2.2,
# Encounter 2.5, MedicationStatement 2.5, Observation 2.5, CarePlan 2.2, Appointment 1.3, Practitioner 2.4,
# Organization 2.5, Bundle 2.2). UK Core has no Goal or CodeSystem profile: those resources claim none.
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
PROFILED = {
    "Bundle",
    "Patient",
    "Organization",
    "Practitioner",
    "EpisodeOfCare",
    "Encounter",
    "MedicationStatement",
    "Observation",
    "CarePlan",
    "Appointment",
}


def profile(resource_type: str) -> dict:
    """The resource's meta naming its UK Core profile, or nothing where UK Core has none."""
    return {"meta": {"profile": [UK_CORE + resource_type]}} if resource_type in PROFILED else {}


def resource_id(kind: str, pk) -> str:
    """A stable id for one record of this installation: the same record gets the same id in every export, so a
    receiver can match a second export to the first. (Two installations may give two records the same id: a
    receiver matches patients on the NHS number, not on our ids.)"""
    return str(uuid5(NAMESPACE_URL, f"{PRODUCT_FHIR_BASE}/{kind}/{pk}"))


def reference(kind: str, pk, display: str = "") -> dict:
    ref = {"reference": f"urn:uuid:{resource_id(kind, pk)}"}
    if display:
        ref["display"] = display
    return ref


# --- The product's code systems -------------------------------------------------------------------------------

TOP_ITEM = f"{PRODUCT_FHIR_BASE}/CodeSystem/top-item"
TOP_STAGE = f"{PRODUCT_FHIR_BASE}/CodeSystem/top-stage"
CORE_DOMAIN = f"{PRODUCT_FHIR_BASE}/CodeSystem/core-domain"
CONTACT_KIND = f"{PRODUCT_FHIR_BASE}/CodeSystem/contact-kind"
OST_MEDICINE = f"{PRODUCT_FHIR_BASE}/CodeSystem/ost-medicine"
GOAL_PROGRESS = f"{PRODUCT_FHIR_BASE}/CodeSystem/goal-progress"

# The codes of a TOP item's parts (an Observation's components): when it was completed, each week's days, and
# the other problem substance's name.
TOP_STAGE_COMPONENT = "stage"
OTHER_SUBSTANCE_NAME = "other_substance_name"
TOP_WEEK_LABELS = {
    f"{prefix}_week{w}": f"{label}: days used in week {w} of 4 (week 1 the most recent)"
    for prefix, label, _unit in TOP_SUBSTANCES
    for w in TOP_WEEKS
}

# The kinds of contact: a keyworker appointment, and the kinds of item an episode owes (reviews.scheduling). A
# "record_error" item is not one: the record needs correcting before anything can be owed, so it is not sent.
KEYWORKER_APPOINTMENT = "keyworker_appointment"
STRATEGIC_REVIEW_KIND, RECOVERY_CHECK_UP_KIND, ELEMENT_CHECK_UP_KIND = (
    STRATEGIC_REVIEW,
    RECOVERY_CHECK_UP,
    ELEMENT_CHECK_UP,
)
CONTACT_KINDS = {KEYWORKER_APPOINTMENT: "Keyworker appointment"}
CONTACT_KINDS.update({kind: label for kind, label in KIND_LABELS.items() if kind != RECORD_ERROR_KIND})

OST_ROUTES = {  # SNOMED CT route of administration
    Medicine.METHADONE: ("26643006", "Oral route"),
    Medicine.BUPRENORPHINE: ("37839007", "Sublingual route"),
}


def coding(system: str, code: str, display: str = "") -> dict:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(system: str, code: str, display: str) -> dict:
    return {"coding": [coding(system, code, display)], "text": display}


def _code_system(slug: str, title: str, description: str, concepts: dict[str, str]) -> dict:
    name = "".join(part.capitalize() for part in slug.split("-"))
    return {
        "resourceType": "CodeSystem",
        "id": resource_id("CodeSystem", slug),
        "url": f"{PRODUCT_FHIR_BASE}/CodeSystem/{slug}",
        "version": CODE_SYSTEM_VERSION,
        "name": f"RecoveryReviews{name}",
        "title": title,
        "status": "active",
        "experimental": False,
        "publisher": "Recovery Reviews",
        "description": description,
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": [{"code": code, "display": display} for code, display in concepts.items()],
    }


def code_systems() -> list[dict]:
    """The product's own code systems, as CodeSystem resources (each used by some resource of a bundle)."""
    top_items = {item.key: item.label for item in TOP_ITEMS}
    top_items.update(TOP_WEEK_LABELS)
    top_items[OTHER_SUBSTANCE_NAME] = "The other problem substance, as named on the form"
    top_items[TOP_STAGE_COMPONENT] = "When in treatment the profile was completed"
    return [
        _code_system(
            "top-item",
            "Treatment Outcomes Profile items",
            "The items of the Treatment Outcomes Profile (TOP) as the product reads them: substance use as days "
            "used of the past 28 (with each week's days as components) and the amount on a using day; injecting, "
            "crime, health and social functioning. An item left unanswered is not sent.",
            top_items,
        ),
        _code_system(
            "top-stage",
            "Treatment Outcomes Profile stages",
            "When in treatment a TOP was completed.",
            dict(TopStage.choices),
        ),
        _code_system(
            "core-domain",
            "Core domains of assessment and care planning",
            "The four core domains of assessment, care planning and review.",
            dict(CoreDomain.choices),
        ),
        _code_system(
            "contact-kind",
            "Kinds of contact and review",
            "Keyworker appointments, strategic reviews and the check-ups after treatment or an element of it.",
            CONTACT_KINDS,
        ),
        _code_system(
            "ost-medicine",
            "Opioid substitution medicines",
            "The medicines of opioid substitution treatment as the product records them.",
            dict(Medicine.choices),
        ),
        _code_system(
            "goal-progress",
            "Progress towards a care-plan goal",
            "Progress towards a recovery care-plan goal as recorded at reviews.",
            dict(GoalProgress.choices),
        ),
    ]
