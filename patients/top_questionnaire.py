"""The Treatment Outcomes Profile, item by item, as clinicians read it (docs/design.md, Domain): which core domain each
item speaks to (§2.10), its scale, and which way is better. The patient page, the evidence pack and the outcomes
report all read the TOP through these definitions."""

from __future__ import annotations

from dataclasses import dataclass

from patients.models import OPIOID_SUBSTITUTES, TOP_SUBSTANCES, CoreDomain, Substance, TopAssessment


@dataclass(frozen=True)
class TopItem:
    """One item of the TOP as clinicians read it: which core domain it speaks to (§2.10), its scale, and which
    way is better. Substance use is read as days used in the past 28 (the four weeks summed)."""

    key: str
    label: str
    domain: str
    section: int
    scale: str  # "days" (0-28), "amount", "rating" (0-20) or "yes_no"
    better: str  # "lower" or "higher"

    def value(self, top: TopAssessment):
        if self.key.endswith("_days_used"):
            return top.days_used(self.key.removesuffix("_days_used"))
        return getattr(top, self.key)

    def change(self, before, after) -> str:
        """'better', 'worse', 'same', or '' when either answer is missing."""
        if before is None or after is None:
            return ""
        if before == after:
            return "same"
        if self.scale == "yes_no":
            return "better" if before and not after else "worse"
        went_up = after > before
        return "better" if went_up == (self.better == "higher") else "worse"


# The one map between the TOP's substances (section 1) and the drug tests' (§2.9: tests corroborate self-report).
# The TOP asks of "Opiates (illicit)"; a test reports heroin and fentanyl apart, both illicit opioids (a test
# for methadone or buprenorphine reads the prescription, not illicit use). Each other TOP substance has one test
# substance of its own. The TOP's "other problem substance" is named in free text, so no test is mapped to it;
# test substances no TOP item asks about (benzodiazepines, ketamine, synthetic cannabinoids, other) are shown
# by themselves.
TOP_SUBSTANCE_TESTS: dict[str, tuple[str, ...]] = {
    "alcohol": (Substance.ALCOHOL,),
    "opiates": (Substance.HEROIN, Substance.FENTANYL),
    "crack": (Substance.CRACK,),
    "cocaine": (Substance.COCAINE,),
    "amphetamines": (Substance.AMPHETAMINES,),
    "cannabis": (Substance.CANNABIS,),
    "other": (),
}

# One vocabulary for substances (docs/design.md, Domain): the record's own names
# (Substance, the names of the primary drug and of the drug tests) everywhere a substance is named: the TOP's
# rows and charts, the drug tests, the evidence pack. A TOP item is named after the test substance it maps to
# first ("Opiates (illicit)" is "Heroin / illicit opioids", "Crack" is "Crack cocaine"); the TOP form's own
# wording stays beside it on the form, as the question asked (TOP_SUBSTANCE_WORDING).
TOP_SUBSTANCE_WORDING = {prefix: wording for prefix, wording, _unit in TOP_SUBSTANCES}
TOP_SUBSTANCE_LABELS = {
    prefix: Substance(tests[0]).label if tests else TOP_SUBSTANCE_WORDING[prefix]
    for prefix, tests in TOP_SUBSTANCE_TESTS.items()
}


def top_items_for_substances(substances) -> set[str]:
    """The TOP section-1 items (prefixes) that ask about these substances of the record: a tested substance's own
    item; methadone or buprenorphine used as a problem drug is illicit opioid use (the TOP counts it there); a
    substance the TOP does not name is its 'other problem substance'. Used to show a patient's own substances
    on the chart (docs/design.md, Domain)."""
    items = set()
    for code in substances:
        if code in OPIOID_SUBSTITUTES:
            items.add("opiates")
            continue
        prefix = next((p for p, tests in TOP_SUBSTANCE_TESTS.items() if code in tests), None)
        items.add(prefix or "other")
    return items


def _top_items() -> tuple[TopItem, ...]:
    drugs = CoreDomain.DRUG_ALCOHOL_USE
    items = []
    for prefix, _wording, unit in TOP_SUBSTANCES:
        label = TOP_SUBSTANCE_LABELS[prefix]
        items.append(TopItem(f"{prefix}_days_used", f"{label}: days used (of 28)", drugs, 1, "days", "lower"))
        items.append(
            TopItem(f"{prefix}_amount", f"{label}: {unit} on a using day", drugs, 1, "amount", "lower")
        )
    items += [
        TopItem("injecting_days", "Days injected (of 28)", drugs, 2, "days", "lower"),
        TopItem(
            "shared_needle",
            "Injected with a needle or syringe used by someone else",
            drugs,
            2,
            "yes_no",
            "lower",
        ),
        TopItem(
            "shared_paraphernalia",
            "Injected with a spoon, water or filter used by someone else",
            drugs,
            2,
            "yes_no",
            "lower",
        ),
    ]
    crime = CoreDomain.OFFENDING
    items += [
        TopItem("shoplifting_days", "Days of shoplifting (of 28)", crime, 3, "days", "lower"),
        TopItem("drug_selling_days", "Days of selling drugs (of 28)", crime, 3, "days", "lower"),
        TopItem("theft_from_vehicle", "Theft from or of a vehicle", crime, 3, "yes_no", "lower"),
        TopItem("theft_other_property", "Other property theft or burglary", crime, 3, "yes_no", "lower"),
        TopItem(
            "fraud_forgery_handling", "Fraud, forgery or handling stolen goods", crime, 3, "yes_no", "lower"
        ),
        TopItem("assault_violence", "Committed assault or violence", crime, 3, "yes_no", "lower"),
    ]
    # Section 4 holds both health (the ratings, §2.9 "physical health and psychological wellbeing") and social
    # functioning (work, education, housing).
    health, social = CoreDomain.HEALTH, CoreDomain.SOCIAL_FUNCTIONING
    items += [
        TopItem("psychological_health", "Psychological health (0-20)", health, 4, "rating", "higher"),
        TopItem("physical_health", "Physical health (0-20)", health, 4, "rating", "higher"),
        TopItem("quality_of_life", "Overall quality of life (0-20)", health, 4, "rating", "higher"),
        TopItem("paid_work_days", "Days of paid work (of 28)", social, 4, "days", "higher"),
        TopItem("education_days", "Days at college or school (of 28)", social, 4, "days", "higher"),
        TopItem("acute_housing_problem", "Acute housing problem", social, 4, "yes_no", "lower"),
        TopItem("eviction_risk", "At risk of eviction", social, 4, "yes_no", "lower"),
    ]
    return tuple(items)


TOP_ITEMS = _top_items()
DOMAIN_LABELS = dict(CoreDomain.choices)
