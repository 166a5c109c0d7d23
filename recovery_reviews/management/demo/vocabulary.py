"""The demo's people, places and words: fixed, so that a seed always tells the same story."""

from careplans.models import ActionOwner
from patients.models import CoreDomain
from recovery_reviews.models import Role

DEMO_PASSWORD = "recovery-demo-2026"

# Team name and the strategic reviews a week its senior practitioners can hold.
TEAMS = (("North", 12), ("South", 10), ("East", 8))
TEAM_SHARES = (("North", 40), ("South", 35), ("East", 25))

# login, given name, family name, role, team, teams managed
STAFF = (
    ("kw.north", "Aisha", "Khan", Role.KEYWORKER, "North", ()),
    ("kw.north2", "Tom", "Bennett", Role.KEYWORKER, "North", ()),
    ("sp.north", "Ruth", "Okafor", Role.SENIOR_PRACTITIONER, "North", ()),
    ("mgr.north", "Helen", "Marsh", Role.MANAGER, "North", ("North",)),
    ("kw.south", "Liam", "Doyle", Role.KEYWORKER, "South", ()),
    ("kw.south2", "Priya", "Shah", Role.KEYWORKER, "South", ()),
    ("sp.south", "Gareth", "Evans", Role.SENIOR_PRACTITIONER, "South", ()),
    ("kw.east", "Chloe", "Turner", Role.KEYWORKER, "East", ()),
    ("kw.east2", "Sam", "Adeyemi", Role.KEYWORKER, "East", ()),
    ("sp.east", "Fiona", "Walsh", Role.SENIOR_PRACTITIONER, "East", ()),
    ("mgr.all", "Mark", "Holloway", Role.MANAGER, None, ("North", "South", "East")),
    ("support", "Sue", "Porter", Role.SUPPORT, None, ()),
    ("ig", "Imran", "Gill", Role.INFORMATION_GOVERNANCE, None, ()),
)
PRESCRIBERS = {"North": "Dr Anand Rao", "South": "Dr Claire Hughes", "East": "Dr Peter Lomax"}
PHARMACIES = {
    "North": ("Boots, Northgate", "Well Pharmacy, Moor Lane", "Hillside Pharmacy"),
    "South": ("Lloyds, Market Square", "Rowlands, Station Road", "Riverside Chemist"),
    "East": ("Day Lewis, Church Street", "Asda Pharmacy, Eastway", "Cohens Chemist, Bridge Street"),
}


def _words(*lines: str) -> tuple[str, ...]:
    return tuple(" ".join(lines).split())


GIVEN_NAMES = _words(
    "David Paul Mark Andrew Michael Stephen Lee Darren Craig Wayne Jason Gary Dean Scott Ryan Daniel Jamie",
    "Liam Kieran Connor Jordan Callum Nathan Adam Carl Shaun Stuart Neil Kevin Anthony Christopher Matthew",
    "James John Robert Simon Martin Ian Tony Sean Danny Gavin Ricky Mohammed Imran Tariq Kwame Tomasz Piotr",
    "Dylan Sarah Emma Claire Lisa Michelle Nicola Kelly Joanne Donna Tracey Leanne Gemma Stacey Kirsty",
    "Hayley Danielle Charlotte Amy Laura Rebecca Jade Chantelle Samantha Natalie Zoe Louise Karen Julie",
    "Amanda Rachel Jennifer Sharon Angela Shabana Agnieszka Chloe Megan Shannon Kayleigh Siobhan Bernadette",
)
FAMILY_NAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White",
    "Roberts Green Hall Wood Jackson Clarke Patel Hughes Edwards Lewis Harris Martin Cooper Ward Morris",
    "Moore King Baker Hill Turner Phillips Parker Collins Bell Murphy Kelly Watson Bailey Carter Mitchell",
    "Shaw Lloyd Griffiths Owen Price Morgan Rees Jenkins Kaur Begum Hussain Ali Ahmed Khan Mahmood Nowak",
    "Kowalski McDonald Campbell Stewart Reid Murray Doherty Gallagher Byrne Quinn Brennan Fletcher Holmes",
    "Chapman Barker Hartley Marsden Pickering Sutcliffe Ashworth Dobson Naylor Ramsden Stanley Webb Fox Dixon",
)

# Primary problem drug and its weight; heroin users are the service's majority, most on OST.
PRIMARY_DRUGS = (("heroin", 66), ("crack", 9), ("cocaine", 6), ("alcohol", 14), ("cannabis", 5))
OTHER_SUBSTANCES = {
    "heroin": (("crack", 0.55), ("alcohol", 0.25), ("benzodiazepines", 0.2), ("cannabis", 0.25)),
    "crack": (("heroin", 0.2), ("alcohol", 0.35), ("cannabis", 0.3)),
    "cocaine": (("alcohol", 0.6), ("cannabis", 0.3), ("ketamine", 0.1)),
    "alcohol": (("cannabis", 0.2), ("cocaine", 0.2), ("benzodiazepines", 0.1)),
    "cannabis": (("alcohol", 0.3), ("cocaine", 0.15), ("amphetamines", 0.1)),
}
# Substance code -> TOP section 1 prefix; benzodiazepines and ketamine go in "other problem substance".
TOP_PREFIX = {
    "heroin": "opiates",
    "crack": "crack",
    "cocaine": "cocaine",
    "alcohol": "alcohol",
    "cannabis": "cannabis",
    "amphetamines": "amphetamines",
    "benzodiazepines": "other",
    "ketamine": "other",
}
OTHER_NAMES = {"benzodiazepines": "Street benzodiazepines (diazepam)", "ketamine": "Ketamine"}
# Average amount on a using day at the worst (units, grams or spliffs): a range to draw each patient's from.
AMOUNTS = {
    "alcohol": (14, 38),
    "opiates": (0.3, 1.0),
    "crack": (0.2, 1.0),
    "cocaine": (0.5, 2.0),
    "amphetamines": (0.5, 1.5),
    "cannabis": (2, 8),
    "other": (0.1, 0.4),
}
CO_MORBIDITIES = (
    "Depression, on sertraline from the GP.",
    "Hepatitis C: antibody positive, referred for treatment.",
    "Hepatitis C treated and cleared.",
    "COPD; smokes 20 a day.",
    "Anxiety and PTSD; under the community mental health team.",
    "Deep vein thrombosis from injecting in the groin.",
    "Epilepsy, on levetiracetam.",
    "Chronic back pain; co-prescribed pregabalin by the GP (monitoring).",
    "Bipolar disorder, under the CMHT.",
    "Type 2 diabetes.",
    "Abscesses and leg ulcers; wound care at the practice nurse.",
)
# Exit reasons and their weights. After a death or a transfer no recovery check-up is owed (docs/design.md
# rule 7 amended), and the demo holds none.
EXIT_REASONS = (
    ("completed_drug_free", 30),
    ("completed_occasional", 8),
    ("transferred", 15),
    ("dropped_out", 30),
    ("transferred_custody", 9),
    ("declined", 8),
    ("died", 2),
)
# The safety check at exit (Intro, App. B): the relapse risk by exit reason (not asked after a death), and, where
# the discussion of the risk of death and the skills to reduce it could not be had, why not.
EXIT_RELAPSE_RISK = {
    "completed_drug_free": (("low", 60), ("moderate", 35), ("high", 5)),
    "completed_occasional": (("low", 45), ("moderate", 45), ("high", 10)),
    "transferred": (("low", 35), ("moderate", 50), ("high", 15)),
    "transferred_custody": (("moderate", 40), ("high", 60)),  # tolerance will be lost by release
    "dropped_out": (("moderate", 40), ("high", 60)),
    "declined": (("moderate", 55), ("high", 45)),
}
EXIT_DISCUSSED_NOTES = (
    "Naloxone kit given and its use shown; knows their tolerance will be lower.",
    "Naloxone kit checked and in date; talked through not using alone.",
    "",
)
EXIT_NOT_DISCUSSED_NOTE = (
    "Stopped attending and could not be reached before discharge: overdose-risk and naloxone advice sent by "
    "letter to the last address."
)
PLANNED_EXITS = ("completed_drug_free", "completed_occasional", "transferred")
TRAJECTORIES = (("improving", 45), ("plateaued", 30), ("deteriorating", 25))

SELF_REPORT = {
    "improving": (
        "Feels settled on the prescription and hasn't used on top for weeks; sleeping better.",
        "Says this is the longest they have been clean in years; wants to start reducing slowly.",
        "Back in touch with family and looking for work; happy with how things are going.",
    ),
    "plateaued": (
        "Things are steady but still using now and then, mostly when money comes in.",
        "Feels stuck: not getting worse, not getting better. Wants something to do in the day.",
        "Using less than at the start but can't see how to stop completely.",
    ),
    "deteriorating": (
        "Finding things hard since the relationship ended; using more and missing the chemist.",
        "Says the dose is not holding them; using on top most days and worried about money.",
        "Struggling with housing and has been using again; wants more support.",
    ),
}
FAMILY_COMMENTS = (
    "Mother says they are more like their old self and visiting more often.",
    "Partner is worried about money going missing and asks for more contact with the service.",
    "Sister would like to know how she can help; offered the family support group.",
    "Partner says things are calmer at home since the prescription was stabilised.",
)
OTHER_PARTICIPANTS = (  # chance (times the patient's offending, for probation), name, role (§2.6)
    ("probation", "Probation officer, NPS", "probation"),
    (0.12, "Recovery worker, peer support", "recovery_worker"),
    (0.05, "Social worker, children's services", "social_worker"),
    (0.04, "Dispensing pharmacist", "pharmacist"),
)
# Interventions that could not be had (§2.14): kind, category, what and why.
UNMET_NEEDS = (
    (
        "residential_rehab",
        "setting",
        "Residential rehabilitation agreed; the funding panel has a 14-week wait.",
    ),
    (
        "inpatient_detox",
        "setting",
        "Inpatient detox needed (alcohol and benzodiazepines); no bed for 12 weeks.",
    ),
    ("housing", "setting", "Sofa-surfing; no supported housing vacancy in the area."),
    ("mental_health", "intervention", "CMHT declined trauma work until substance use is more stable."),
    ("psychosocial", "intervention", "Wants the structured group programme; the waiting list is 10 weeks."),
    ("education_employment", "intervention", "Ready for IPS employment support; the local service is full."),
    ("more_frequent_keyworking", "intensity", "Needs weekly keywork; caseload sizes allow fortnightly only."),
)
GOALS = {
    CoreDomain.DRUG_ALCOHOL_USE: (
        "Stop using {drug} on top of the prescription",
        "Cut down {drug} to no more than two days a week",
        "Stay abstinent from {drug}",
    ),
    CoreDomain.HEALTH: (
        "Register with a GP and have a hepatitis C test",
        "Have the leg wound dressed weekly until it heals",
        "Attend the mental health assessment and follow the plan",
    ),
    CoreDomain.OFFENDING: (
        "Complete the probation order without further offences",
        "Stop shoplifting to pay for drugs",
    ),
    CoreDomain.SOCIAL_FUNCTIONING: (
        "Find stable housing",
        "Start volunteering two days a week",
        "Rebuild contact with the children through the family centre",
        "Sort out benefits and pay off rent arrears",
    ),
}
ACTIONS = (  # owner, owner's name when someone else, what
    (ActionOwner.PATIENT, "", "Go to the SMART Recovery group on Tuesdays"),
    (ActionOwner.KEYWORKER, "", "Refer to the housing options team"),
    (ActionOwner.PRESCRIBER, "", "Review the dose at the next clinic"),
    (ActionOwner.OTHER, "Housing officer, Riverside Housing", "Complete the tenancy support referral"),
    (ActionOwner.PATIENT, "", "Book the GP appointment"),
    (ActionOwner.KEYWORKER, "", "Complete the recovery capital assessment together"),
)
CONTACT_NOTES = (
    "Care-plan goals reviewed; no change.",
    "Goals reviewed; next steps agreed.",
    "Went through the housing referral and the benefits claim.",
    "Naloxone kit checked and in date.",
    "Talked about triggers and the plan for the weekend.",
)
