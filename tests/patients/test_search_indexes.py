"""The caseload's search at England scale (docs/design.md, The keyworker's home): on PostgreSQL the indexes of
migration patients/0014 exist and serve every shape of search (a part of a name, given and family name parts, an
NHS-number prefix, a whole NHS number); everywhere, a search finds the same rows in the same order as before, and a
search that matches nothing or a one-letter search behaves as it always did."""

import random
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.access import patients_for_user
from patients.models import Patient, Substance, TreatmentEpisode
from patients.selectors import search_filter
from recovery_reviews.models import Role
from recovery_reviews.pages.caseload import caseload_for_user
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import EpisodeFactory, PatientFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 5, 1)

INDEXES = {
    "patient_family_name_trgm": ("gin", "upper((family_name)::text) gin_trgm_ops"),
    "patient_given_name_trgm": ("gin", "upper((given_name)::text) gin_trgm_ops"),
    "patient_nhs_number_prefix": ("btree", "nhs_number varchar_pattern_ops"),
}
MORE = {  # the caseload's count of what a search found, and the safety events every caseload page reads
    "episode_patient_with_target": "(patient_id) INCLUDE (team_id) WHERE (next_review_target IS NOT NULL)",
    # patients 0018 (it replaced patients 0014's drug_test_recent, keyed by the date alone)
    "drug_test_recent_order": (
        "(taken_on, id) INCLUDE (team_id, keyworker_id, episode_id) WHERE (entered_in_error_at IS NULL)"
    ),
}
NAMES = {"given": ["Jo", "John", "Sam", "Zoe"], "family": ["Adams", "Clarke", "Jones", "Smith", "Taylor"]}
KNOWN = [("Jo", "Smith"), ("John", "Smithson"), ("Sam", "Jones"), ("Joanna", "Blacksmith"), ("Ann", "Smith")]
SHAPES = {
    "a part of a name": ("smith", {"patient_family_name_trgm", "patient_given_name_trgm"}),
    "given and family name parts": ("jo smi", {"patient_family_name_trgm", "patient_given_name_trgm"}),
    "an NHS-number prefix": ("9990", {"patient_nhs_number_prefix"}),
    "a whole NHS number": ("999 000 0019", {"patient_nhs_number_prefix"}),
}


def due(team, keyworker, entry, **patient):
    episode = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=keyworker, **patient), entry_date=entry
    )
    episode_schedule_refresh(episode)
    return episode


@pytest.fixture
def manager(team):
    """A manager of three teams, North and two more (the search's target: a manager of every team)."""
    user = UserFactory(username="manon", role=Role.MANAGER, team=None)
    user.managed_teams.add(team, TeamFactory(name="East"), TeamFactory(name="West"))
    return user


def many_patients(manager, keyworker, n=3000):
    """n patients across the manager's teams, each with an episode that has a review due, as a few thousand rows
    of England look to the planner: a name found among many (made-up names mostly, a few real ones, and KNOWN
    first), random NHS numbers (ten digits; the check digit is the form's business, not the table's), and the
    statistics read."""
    rng = random.Random(14)
    teams = list(manager.managed_teams.all())

    def name(kind):
        return (
            rng.choice(NAMES[kind]) if rng.random() < 0.05 else "".join(rng.choices("bcdfgklmnprstvwz", k=7))
        )

    people = [*KNOWN, *((name("given").title(), name("family").title()) for _ in range(n - len(KNOWN)))]
    patients = Patient.objects.bulk_create(
        Patient(
            given_name=given,
            family_name=family,
            date_of_birth=date(1980, 1, 1),
            nhs_number="9990000019" if i == 0 else f"{rng.randrange(10**10):010d}",
            team=teams[i % len(teams)],
            keyworker=keyworker,
        )
        for i, (given, family) in enumerate(people)
    )
    TreatmentEpisode.objects.bulk_create(  # their team and keyworker are the patient's (patients/0004)
        TreatmentEpisode(
            patient=patient,
            entry_date=date(2026, 1, 1),
            primary_drug=Substance.HEROIN,
            team=patient.team,
            keyworker=keyworker,
            next_review_kind="first",
            next_review_target=date(2026, 4, 1) + timedelta(days=rng.randrange(90)),
            next_review_deadline=date(2026, 7, 1),
        )
        for patient in patients
    )
    if connection.vendor == "postgresql":  # as VACUUM leaves them, which cannot run in the test's transaction
        with connection.cursor() as cursor:
            for index in ("patient_family_name_trgm", "patient_given_name_trgm"):
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
            cursor.execute("ANALYZE patients_patient")
            cursor.execute("ANALYZE patients_treatmentepisode")


def plan(sql: str, params=None) -> str:
    """The plan PostgreSQL chooses when it may not read a whole table: deterministic at a few thousand rows."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN {sql}", params or None)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")


def count_sql(queryset) -> str:
    """The paginator's count of the caseload, as the page sends it."""
    with CaptureQueriesContext(connection) as captured:
        queryset.count()
    return captured.captured_queries[-1]["sql"]


def used(explained: str) -> set[str]:
    return {name for name in INDEXES if f"Index Scan on {name}" in explained or f"using {name}" in explained}


@pytest.mark.postgres
def test_the_search_indexes_exist_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [[*INDEXES, *MORE]]
        )
        found = dict(cursor.fetchall())
    assert set(found) == {*INDEXES, *MORE}
    for name, (method, expression) in INDEXES.items():
        assert f"ON public.patients_patient USING {method} ({expression})" in found[name], found[name]
    assert "ON public.patients_treatmentepisode USING btree" in found["episode_patient_with_target"]
    assert "ON public.patients_drugtest USING btree" in found["drug_test_recent_order"]
    for name, definition in MORE.items():
        assert found[name].endswith(definition), found[name]


@pytest.mark.postgres
@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_of_search_reads_the_patients_through_the_new_indexes(shape, manager, alice):
    """The patients a search finds (where the patients with nothing due start) and the caseload's count of what
    it finds (the page's rows come in target order from the episodes' own index, checked against each patient).
    At 300,000 the count joins the patients found to `episode_patient_with_target`; at a few thousand a hash join
    of the teams' episodes is as good, so that is not asserted here."""
    text, expected = SHAPES[shape]
    many_patients(manager, alice)
    patients = patients_for_user(manager).filter(search_filter(text, prefix="")).order_by("family_name", "pk")
    explained = plan(*patients.query.sql_with_params())
    assert used(explained) == expected, explained
    explained = plan(count_sql(caseload_for_user(manager, today=TODAY, search=text)))
    assert used(explained) == expected, explained


def test_the_search_finds_the_same_rows_in_the_same_order(manager, alice):
    """The indexes change how rows are found, never which, nor their order: a name part, a given and a family
    name part (either order, any case), an NHS number typed with spaces or its first digits, one letter, two
    letters, and words that match nobody; the caseload soonest target first, then family name, then episode."""
    many_patients(manager, alice, n=600)
    episodes = list(TreatmentEpisode.objects.select_related("patient"))

    def matches(patient, text):
        words = [w.upper() for w in text.split() if not any(ch.isdigit() for ch in w)]
        digits = "".join(ch for ch in text if ch.isdigit())
        names = (patient.family_name.upper(), patient.given_name.upper())
        return all(any(w in name for name in names) for w in words) and (
            len(digits) < 3 or patient.nhs_number.startswith(digits)
        )

    searches = ["smith", "SMI", "jo smi", "smi jo", "9990", "999 000 0019", "a", "j", "qx", "nobody"]
    for text in searches:
        found = caseload_for_user(manager, today=TODAY, search=text)
        expected = sorted(
            (e for e in episodes if matches(e.patient, text)),
            key=lambda e: (e.next_review_target, e.patient.family_name, e.pk),
        )
        assert [e.pk for e in found] == [e.pk for e in expected], text
        patients = Patient.objects.filter(search_filter(text, prefix=""))
        assert set(patients.values_list("pk", flat=True)) == {e.patient_id for e in expected}, text
    found = {
        text: [str(e.patient) for e in caseload_for_user(manager, today=TODAY, search=text)]
        for text in searches
    }
    assert {"Jo Smith", "Joanna Blacksmith", "John Smithson"} <= set(found["jo smi"])
    assert "Sam Jones" not in found["jo smi"] and "Ann Smith" not in found["jo smi"]
    assert found["smi jo"] == found["jo smi"] and found["SMI"] == found["smith"]
    assert found["999 000 0019"] == ["Jo Smith"] and "Jo Smith" in found["9990"] and not found["nobody"]
    assert len(found["a"]) > len(found["smith"]) > 2 and found["j"] and not found["qx"]


def get(client, **params):
    return client.get(reverse("patients:caseload"), params).content.decode()


def test_a_search_that_matches_nobody_lists_nobody(client, alice, team):
    due(team, alice, date(2026, 1, 15), given_name="Jo", family_name="Bloggs")
    client.force_login(alice)
    page = get(client, q="zzqx")
    assert "Bloggs" not in page and 'data-testid="caseload-row"' not in page
    assert 'data-testid="nothing-due"' not in page


def test_a_one_letter_search_matches_any_name_holding_the_letter(client, alice, team):
    """One letter is no trigram: PostgreSQL reads the table, and the search finds what it always found."""
    due(team, alice, date(2026, 1, 15), given_name="Jo", family_name="Bloggs")
    due(team, alice, date(2026, 1, 16), given_name="Sam", family_name="Smith")
    client.force_login(alice)
    page = get(client, q="g")
    assert "Bloggs" in page and "Smith," not in page
    page = get(client, q="S")
    assert "Bloggs" in page and "Smith" in page  # bloggS, Sam Smith
