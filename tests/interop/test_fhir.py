"""A patient's record as FHIR R4 (docs/design.md, Interoperability): every bundle exported validates against R4
4.0.1 with fhir.resources (the Bundle and each resource with its own model), and says what the record says: the
NHS number, the episode, the OST dose, every answered TOP item with its stage (an unanswered one absent, not
zero), the contacts, the goals and the next review's dates. Served only to those who may see the patient's page,
audited as the pages are, and the same from the command."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.urls import reverse
from fhir.resources import __fhir_version__, get_fhir_model_class
from fhir.resources.bundle import Bundle
from pydantic import ValidationError

from careplans.models import ActionOwner, GoalProgress
from interop.fhir import codes
from patients.models import AppointmentStatus, InterventionKind, Medicine, TopAssessment, TopStage
from patients.services.evidence import record_mark_entered_in_error
from patients.top_questionnaire import TOP_ITEMS
from recovery_reviews.audit import patient_history
from reviews.models import CheckUpOutcome, OwedItem, ReviewStatus
from tests.support.factories import (
    AppointmentFactory,
    CarePlanFactory,
    DispensingArrangementFactory,
    EpisodeFactory,
    GoalActionFactory,
    GoalFactory,
    InterventionFactory,
    RecoveryCheckUpFactory,
    StrategicReviewFactory,
    TopAssessmentFactory,
    aware,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 5, 1)
NHS_NUMBER = "9434765919"


# --- Helpers -------------------------------------------------------------------------------------------------


def validated(bundle: dict) -> dict:
    """The bundle, after checking it is valid FHIR R4: as a Bundle, each resource with its own model, and every
    reference between its resources resolving to an entry of the bundle."""
    assert __fhir_version__ == "4.0.1"
    Bundle.parse_obj(bundle)
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(full_urls) == len(set(full_urls)), "two entries share a fullUrl"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).parse_obj(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    dangling = [ref for ref in _references(bundle) if ref not in full_urls]
    assert not dangling, f"references to no entry: {dangling}"
    return bundle


def _references(node):
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def of_type(bundle: dict, resource_type: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def ref(resource: dict) -> str:
    return f"urn:uuid:{resource['id']}"


def export(client, user, patient, **params) -> dict:
    client.force_login(user)
    response = client.get(reverse("fhir:patient", kwargs={"pk": patient.pk}), params)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/fhir+json")
    return validated(json.loads(response.content))


def top_observations(bundle: dict) -> dict[tuple[str, str], dict]:
    """TOP Observations by (item code, stage code)."""
    found = {}
    for observation in of_type(bundle, "Observation"):
        (code,) = observation["code"]["coding"]
        assert code["system"] == codes.TOP_ITEM
        stage = next(c for c in observation["component"] if c["code"]["coding"][0]["code"] == "stage")
        found[code["code"], stage["valueCodeableConcept"]["coding"][0]["code"]] = observation
    return found


# --- A record with something of everything ----------------------------------------------------------------------


@pytest.fixture
def record(patient, episode, alice, sam):
    """Pat Example's record: an NHS number, OST methadone 60 mg from entry, a care plan with a goal and an action,
    a TOP at start (partly answered) and at review, three appointments, a completed review and a review owed."""
    patient.nhs_number = NHS_NUMBER
    patient.save(update_fields=["nhs_number"])
    ost = InterventionFactory(episode=episode, medicine=Medicine.METHADONE, daily_dose_mg=Decimal("60"))
    DispensingArrangementFactory(episode=episode)
    goal = GoalFactory(
        care_plan=CarePlanFactory(episode=episode),
        target_date=date(2026, 7, 1),
        progress=GoalProgress.SOME_PROGRESS,
    )
    action = GoalActionFactory(goal=goal, owner=ActionOwner.PATIENT, target_date=date(2026, 6, 1))
    start = TopAssessmentFactory(
        episode=episode,
        stage=TopStage.START,
        **dict.fromkeys(["opiates_week4", "opiates_week3", "opiates_week2"], 7),
        opiates_week1=6,  # 27 days of the 28
        opiates_amount=Decimal("0.5"),
        crack_week4=0,  # crack's other weeks unanswered: no days-used Observation for crack
        injecting_days=0,  # answered zero: sent, as zero
        shared_needle=False,
        psychological_health=8,
        acute_housing_problem=True,
    )
    review_top = TopAssessmentFactory(
        episode=episode,
        stage=TopStage.REVIEW,
        assessed_on=date(2026, 4, 10),
        **{f"opiates_week{w}": 1 for w in (4, 3, 2, 1)},
        psychological_health=12,
    )
    appointments = [
        AppointmentFactory(episode=episode, starts_at=aware(2026, 2, 2), status=AppointmentStatus.ATTENDED),
        AppointmentFactory(
            episode=episode, starts_at=aware(2026, 2, 9), status=AppointmentStatus.MISSED, review_note=""
        ),
        AppointmentFactory(
            episode=episode, starts_at=aware(2026, 5, 4), status=AppointmentStatus.BOOKED, review_note=""
        ),
    ]
    review = StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=date(2026, 4, 10),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=date(2026, 4, 10),
    )
    owed = OwedItem.objects.create(
        episode=episode,
        kind="strategic_review",
        target=date(2026, 10, 10),
        deadline=date(2026, 10, 10),
        reasons=["6 months after the last completed review (§1.3)"],
    )
    return {
        "patient": patient,
        "episode": episode,
        "ost": ost,
        "goal": goal,
        "action": action,
        "start": start,
        "review_top": review_top,
        "appointments": appointments,
        "review": review,
        "owed": owed,
    }


# --- What the bundle says ------------------------------------------------------------------------------------------


def test_the_bundle_is_a_valid_fhir_r4_collection_with_uk_core_profiles(client, alice, record):
    bundle = export(client, alice, record["patient"])
    assert bundle["type"] == "collection"
    assert bundle["meta"]["profile"] == ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Bundle"]
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {
        "Patient",
        "EpisodeOfCare",
        "MedicationStatement",
        "CarePlan",
        "Goal",
        "Encounter",
        "Observation",
    } <= kinds
    for resource_type in (
        "Patient",
        "EpisodeOfCare",
        "Encounter",
        "MedicationStatement",
        "Observation",
        "CarePlan",
    ):
        for resource in of_type(bundle, resource_type):
            assert resource["meta"]["profile"] == [
                f"https://fhir.hl7.org.uk/StructureDefinition/UKCore-{resource_type}"
            ]


def test_validation_has_teeth(client, alice, record):
    """The check the other tests rely on refuses what R4 refuses: an Observation without its status."""
    bundle = export(client, alice, record["patient"])
    observation = of_type(bundle, "Observation")[0]
    del observation["status"]
    with pytest.raises(ValidationError):
        get_fhir_model_class("Observation").parse_obj(observation)
    with pytest.raises(ValidationError):
        get_fhir_model_class("Patient").parse_obj({"resourceType": "Patient", "birthDate": "1 June 1985"})


def test_the_patient_carries_the_nhs_number_name_and_birth_date(client, alice, record):
    bundle = export(client, alice, record["patient"])
    (patient,) = of_type(bundle, "Patient")
    assert patient["identifier"] == [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER}]
    assert patient["name"] == [{"use": "official", "family": "Example", "given": ["Pat"]}]
    assert patient["birthDate"] == "1985-06-01"
    (team,) = of_type(bundle, "Organization")
    assert team["name"] == "North" and patient["managingOrganization"]["reference"] == ref(team)


def test_a_patient_without_an_nhs_number_has_no_identifier(client, alice, patient, episode):
    bundle = export(client, alice, patient)
    (resource,) = of_type(bundle, "Patient")
    assert "identifier" not in resource


def test_a_name_recorded_in_part_is_sent_in_part(client, alice, patient, episode):
    """FHIR has no empty strings: a given name that was never recorded is left out, not sent empty."""
    patient.given_name = ""
    patient.save(update_fields=["given_name"])
    (resource,) = of_type(export(client, alice, patient), "Patient")
    assert resource["name"] == [{"use": "official", "family": "Example"}]


def test_each_episode_is_an_episode_of_care_with_its_period(client, alice, patient, episode):
    ended = EpisodeFactory(
        patient=patient,
        entry_date=date(2024, 3, 1),
        exit_date=date(2025, 2, 1),
        exit_reason="completed_drug_free",
    )
    bundle = export(client, alice, patient)
    by_start = {e["period"]["start"]: e for e in of_type(bundle, "EpisodeOfCare")}
    assert by_start["2026-01-15"]["status"] == "active" and "end" not in by_start["2026-01-15"]["period"]
    assert by_start["2024-03-01"]["status"] == "finished"
    assert by_start["2024-03-01"]["period"]["end"] == ended.exit_date.isoformat()
    (patient_resource,) = of_type(bundle, "Patient")
    assert {e["patient"]["reference"] for e in by_start.values()} == {ref(patient_resource)}
    assert by_start["2026-01-15"]["careManager"]["display"] == "Alice Keyworker"


def test_ost_is_a_medication_statement_with_its_medicine_and_daily_dose(client, alice, record):
    bundle = export(client, alice, record["patient"])
    (statement,) = of_type(bundle, "MedicationStatement")
    assert statement["status"] == "active"
    assert statement["medicationCodeableConcept"]["coding"] == [
        {"system": codes.OST_MEDICINE, "code": "methadone", "display": "Methadone (oral)"}
    ]
    (dosage,) = statement["dosage"]
    assert dosage["doseAndRate"] == [
        {"doseQuantity": {"value": 60, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}
    ]
    assert dosage["timing"] == {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
    assert dosage["route"]["coding"][0]["code"] == "26643006"  # oral
    assert statement["effectivePeriod"] == {"start": "2026-01-15"}
    (episode,) = of_type(bundle, "EpisodeOfCare")
    assert statement["context"]["reference"] == ref(episode)
    assert "Supervised consumption" in statement["note"][0]["text"]


def test_an_ended_ost_and_a_fractional_dose(client, alice, patient, episode):
    InterventionFactory(
        episode=episode,
        medicine=Medicine.BUPRENORPHINE,
        daily_dose_mg=Decimal("12.50"),
        started_on=date(2026, 1, 15),
        ended_on=date(2026, 3, 1),
    )
    InterventionFactory(episode=episode, kind=InterventionKind.PSYCHOSOCIAL, medicine="", daily_dose_mg=None)
    bundle = export(client, alice, patient)
    (statement,) = of_type(bundle, "MedicationStatement")  # only OST is a medication
    assert statement["status"] == "completed"
    assert statement["effectivePeriod"] == {"start": "2026-01-15", "end": "2026-03-01"}
    assert statement["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 12.5
    assert statement["dosage"][0]["route"]["coding"][0]["code"] == "37839007"  # sublingual


def test_every_answered_top_item_is_an_observation_with_its_value_and_stage(client, alice, record):
    bundle = export(client, alice, record["patient"])
    found = top_observations(bundle)
    start, review = record["start"], record["review_top"]
    expected = {
        (item.key, top.stage): item.value(top)
        for top in (start, review)
        for item in TOP_ITEMS
        if item.value(top) is not None
    }
    assert set(found) == set(expected)
    assert len(of_type(bundle, "Observation")) == len(expected)
    opiates = found["opiates_days_used", "start"]
    assert opiates["valueQuantity"] == {
        "value": 27,
        "unit": "days",
        "system": "http://unitsofmeasure.org",
        "code": "d",
    }
    weeks = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in opiates["component"][1:]}
    assert weeks == {"opiates_week4": 7, "opiates_week3": 7, "opiates_week2": 7, "opiates_week1": 6}
    assert found["opiates_days_used", "review"]["valueQuantity"]["value"] == 4
    assert found["opiates_amount", "start"]["valueQuantity"] == {
        "value": 0.5,
        "unit": "grams",
        "system": "http://unitsofmeasure.org",
        "code": "g",
    }
    assert found["psychological_health", "start"]["valueInteger"] == 8
    assert found["psychological_health", "review"]["valueInteger"] == 12
    assert found["acute_housing_problem", "start"]["valueBoolean"] is True
    assert found["shared_needle", "start"]["valueBoolean"] is False
    assert found["injecting_days", "start"]["effectiveDateTime"] == "2026-01-15"
    assert found["psychological_health", "review"]["effectiveDateTime"] == "2026-04-10"


def test_an_unanswered_top_item_is_left_out_not_sent_as_zero(client, alice, record):
    found = top_observations(export(client, alice, record["patient"]))
    assert ("crack_days_used", "start") not in found  # one week answered of four: not a number of days
    assert ("physical_health", "start") not in found
    assert ("eviction_risk", "start") not in found
    assert ("injecting_days", "review") not in found
    assert found["injecting_days", "start"]["valueQuantity"]["value"] == 0  # zero when zero was answered


def test_a_top_entered_in_error_is_left_out(client, alice, record):
    record_mark_entered_in_error(record=record["review_top"], reason="Wrong patient", by=alice)
    found = top_observations(export(client, alice, record["patient"]))
    assert {stage for _item, stage in found} == {"start"}


def test_the_bundle_defines_the_products_own_codes(client, alice, record):
    bundle = export(client, alice, record["patient"])
    systems = {cs["url"]: {c["code"] for c in cs["concept"]} for cs in of_type(bundle, "CodeSystem")}
    used = {
        (coding["system"], coding["code"])
        for coding in _codings(bundle)
        if coding["system"].startswith(codes.PRODUCT_FHIR_BASE)
    }
    assert used
    assert not [(system, code) for system, code in used if code not in systems.get(system, set())]
    assert systems[codes.TOP_STAGE] == {"start", "review", "exit", "post_exit"}


def _codings(node):
    if isinstance(node, dict):
        if "system" in node and "code" in node and node.get("resourceType") is None:
            yield node
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _codings(value)


def test_appointments_and_reviews_are_encounters_with_their_dates_and_status(client, alice, record):
    bundle = export(client, alice, record["patient"])
    encounters = {
        (e["type"][0]["coding"][0]["code"], e["period"]["start"]): e for e in of_type(bundle, "Encounter")
    }
    assert {key: e["status"] for key, e in encounters.items()} == {
        ("keyworker_appointment", "2026-02-02T10:00:00+00:00"): "finished",
        ("keyworker_appointment", "2026-02-09T10:00:00+00:00"): "cancelled",  # did not attend
        ("keyworker_appointment", "2026-05-04T11:00:00+01:00"): "planned",  # British Summer Time
        ("strategic_review", "2026-04-10"): "finished",
    }
    review = encounters["strategic_review", "2026-04-10"]
    assert review["period"] == {"start": "2026-04-10", "end": "2026-04-10"}
    assert review["participant"][0]["individual"]["display"] == "Sam Senior"
    (episode,) = of_type(bundle, "EpisodeOfCare")
    assert {e["episodeOfCare"][0]["reference"] for e in encounters.values()} == {ref(episode)}


def test_a_review_awaiting_the_patient_and_a_check_up_not_reached(client, alice, sam, patient):
    ended = EpisodeFactory(
        patient=patient,
        entry_date=date(2025, 1, 6),
        exit_date=date(2026, 3, 1),
        exit_reason="completed_drug_free",
    )
    StrategicReviewFactory(
        episode=ended, lead=sam, held_on=date(2025, 6, 1), status=ReviewStatus.AWAITING_PATIENT
    )
    RecoveryCheckUpFactory(episode=ended, held_on=date(2026, 3, 16), outcome=CheckUpOutcome.NOT_REACHED)
    RecoveryCheckUpFactory(episode=ended, held_on=date(2026, 3, 18), outcome=CheckUpOutcome.STABLE)
    bundle = export(client, alice, patient)
    statuses = {
        (e["type"][0]["coding"][0]["code"], e["period"]["start"]): e["status"]
        for e in of_type(bundle, "Encounter")
    }
    assert statuses == {
        ("strategic_review", "2025-06-01"): "in-progress",
        ("recovery_check_up", "2026-03-16"): "cancelled",
        ("recovery_check_up", "2026-03-18"): "finished",
    }


def test_the_care_plan_holds_the_goals_and_actions(client, alice, record):
    bundle = export(client, alice, record["patient"])
    (plan,) = of_type(bundle, "CarePlan")
    (goal,) = of_type(bundle, "Goal")
    assert plan["status"] == "active" and plan["intent"] == "plan"
    assert plan["period"] == {"start": "2026-01-15"}
    assert plan["goal"] == [{"reference": ref(goal)}]
    assert goal["description"] == {"text": record["goal"].description}
    assert goal["lifecycleStatus"] == "active"
    assert goal["target"] == [{"dueDate": "2026-07-01"}]
    assert goal["category"][0]["coding"][0]["code"] == "drug_alcohol_use"
    assert {c["code"] for c in goal["achievementStatus"]["coding"]} == {"some_progress", "improving"}
    (action,) = [a["detail"] for a in plan["activity"] if "detail" in a]
    assert action["description"] == record["action"].description
    assert action["status"] == "scheduled"
    assert action["goal"] == [{"reference": ref(goal)}]
    assert action["scheduledPeriod"] == {"end": "2026-06-01"}
    assert action["performer"][0]["reference"] == ref(of_type(bundle, "Patient")[0])


def test_the_next_review_is_a_proposed_appointment_within_target_and_deadline(client, alice, record):
    bundle = export(client, alice, record["patient"])
    (proposed,) = of_type(bundle, "Appointment")
    assert proposed["status"] == "proposed"
    assert proposed["requestedPeriod"] == [{"start": "2026-10-10", "end": "2026-10-10"}]
    assert proposed["serviceType"][0]["coding"][0]["code"] == "strategic_review"
    assert proposed["reasonCode"] == [{"text": "6 months after the last completed review (§1.3)"}]
    (plan,) = of_type(bundle, "CarePlan")
    assert {"reference": ref(proposed), "display": "Strategic review"} in [
        a["reference"] for a in plan["activity"] if "reference" in a
    ]


def test_every_item_owed_is_sent_and_a_record_error_is_not(client, alice, patient, episode):
    OwedItem.objects.create(
        episode=episode, kind="strategic_review", target=date(2026, 4, 15), deadline=date(2026, 7, 15)
    )
    OwedItem.objects.create(
        episode=episode,
        kind="element_check_up",
        target=date(2026, 5, 10),
        deadline=date(2026, 5, 24),
        element_end=date(2026, 4, 26),
    )
    OwedItem.objects.create(episode=episode, kind="record_error", target=TODAY, deadline=TODAY)
    bundle = export(client, alice, patient)
    periods = {
        a["serviceType"][0]["coding"][0]["code"]: a["requestedPeriod"][0]
        for a in of_type(bundle, "Appointment")
    }
    assert periods == {
        "strategic_review": {"start": "2026-04-15", "end": "2026-07-15"},
        "element_check_up": {"start": "2026-05-10", "end": "2026-05-24"},
    }


# --- Who may have it, and the log ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "sam", "mona"])
def test_everyone_who_sees_the_patients_page_may_export_it(client, request, record, who):
    export(client, request.getfixturevalue(who), record["patient"])


def test_another_teams_patient_is_a_404(client, olga, record):
    client.force_login(olga)
    response = client.get(reverse("fhir:patient", kwargs={"pk": record["patient"].pk}))
    assert response.status_code == 404
    assert NHS_NUMBER not in response.content.decode()


def test_only_get_is_answered(client, alice, record):
    client.force_login(alice)
    assert client.post(reverse("fhir:patient", kwargs={"pk": record["patient"].pk})).status_code == 405


def test_an_anonymous_visitor_is_sent_to_sign_in(client, record):
    response = client.get(reverse("fhir:patient", kwargs={"pk": record["patient"].pk}))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_download_is_a_file_and_is_not_kept_by_the_browser(client, alice, record):
    client.force_login(alice)
    url = reverse("fhir:patient", kwargs={"pk": record["patient"].pk})
    response = client.get(url, {"download": "1"})
    assert (
        response["Content-Disposition"] == f'attachment; filename="patient-{record["patient"].pk}-fhir.json"'
    )
    assert response["Cache-Control"] == "no-store"
    assert "Content-Disposition" not in client.get(url)


def test_the_export_is_on_the_patients_access_log_and_the_exporters(client, alice, record):
    patient = record["patient"]
    export(client, alice, patient, download="1")
    (viewed,) = patient_history(patient.pk).filter(action=LogEntry.Action.ACCESS)
    assert viewed.actor == alice
    assert viewed.changes_dict["path"][1] == f"/fhir/Patient/{patient.pk}/?download=1"
    exported = LogEntry.objects.filter(actor=alice, changes__has_key="export")
    assert [e.changes_dict["export"][1] for e in exported] == [f"FHIR R4 record of patient {patient.pk}"]


def test_a_refused_request_writes_nothing_to_the_log(client, olga, record):
    client.force_login(olga)
    client.get(reverse("fhir:patient", kwargs={"pk": record["patient"].pk}))
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


# --- Queries ------------------------------------------------------------------------------------------------------

# The session and user (2), the patient (1), the episodes (1), each kind of record (11: OST, dispensing, care plans,
# goals, actions, TOPs, appointments, reviews, check-ups, element check-ups, owed items), the two log entries (2).
QUERIES = 17


def _grow(record, alice, sam, n):
    """n more of each kind of record, on the same episode and a second, ended one."""
    episode = record["episode"]
    ended = EpisodeFactory(
        patient=record["patient"],
        entry_date=date(2024, 1, 1),
        exit_date=date(2025, 1, 1),
        exit_reason="dropped_out",
    )
    for i in range(n):
        InterventionFactory(
            episode=ended, started_on=date(2024, 1, 1) + timedelta(days=i), ended_on=date(2024, 12, 1)
        )
        TopAssessmentFactory(
            episode=ended, assessed_on=date(2024, 2, 1) + timedelta(days=i), psychological_health=i
        )
        AppointmentFactory(episode=episode, starts_at=aware(2026, 3, 1 + i))
        StrategicReviewFactory(episode=ended, lead=sam, held_on=date(2024, 6, 1) + timedelta(days=i))
        GoalActionFactory(goal=GoalFactory(care_plan=record["goal"].care_plan))


def test_the_export_takes_a_fixed_number_of_queries_whatever_the_records_size(
    client, alice, sam, record, django_assert_num_queries
):
    client.force_login(alice)
    url = reverse("fhir:patient", kwargs={"pk": record["patient"].pk})
    with django_assert_num_queries(QUERIES):
        small = client.get(url)
    _grow(record, alice, sam, 5)
    with django_assert_num_queries(QUERIES):
        large = client.get(url)
    assert len(json.loads(large.content)["entry"]) > len(json.loads(small.content)["entry"]) + 25
    validated(json.loads(large.content))


# --- The command --------------------------------------------------------------------------------------------------


def test_the_command_writes_the_same_bundle_by_id_or_nhs_number(client, alice, record, tmp_path, capsys):
    patient = record["patient"]
    out = tmp_path / "record.json"
    call_command("fhir_export", "--patient", "943 476 5919", "--as", "alice", "--out", str(out))
    from_file = validated(json.loads(out.read_text()))
    assert out.stat().st_mode & 0o077 == 0  # readable by its owner only
    call_command("fhir_export", "--patient", str(patient.pk), "--as", "alice")
    from_stdout = validated(json.loads(capsys.readouterr().out))
    from_page = export(client, alice, patient)
    for bundle in (from_file, from_stdout, from_page):
        del bundle["id"], bundle["timestamp"]
    assert from_file == from_stdout == from_page
    exports = LogEntry.objects.filter(actor=alice, changes__has_key="export").count()
    assert exports == 3
    paths = [e.changes_dict.get("path", [None, ""])[1] for e in patient_history(patient.pk)]
    assert f"manage.py fhir_export --patient 943 476 5919 --out {out}" in paths


@pytest.mark.parametrize(
    ("patient_arg", "username", "message"),
    [
        ("{pk}", "olga", "No patient {pk} that olga may see"),
        ("9434765918", "alice", "check digit is wrong"),
        ("4010232137", "alice", "No patient with NHS number 4010232137 that alice may see"),
        ("Pat Example", "alice", "neither a patient id nor an NHS number"),
        ("{pk}", "nobody", "No user 'nobody'"),
    ],
)
def test_the_command_refuses_with_a_reason(record, olga, tmp_path, patient_arg, username, message):
    pk = record["patient"].pk
    out = tmp_path / "record.json"
    with pytest.raises(CommandError, match=message.format(pk=pk)):
        call_command(
            "fhir_export", "--patient", patient_arg.format(pk=pk), "--as", username, "--out", str(out)
        )
    assert not out.exists() and not list(tmp_path.iterdir())
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_the_command_refuses_someone_who_has_left(record, alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="not an active user"):
        call_command("fhir_export", "--patient", str(record["patient"].pk), "--as", "alice")


# --- PostgreSQL ------------------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_on_postgresql_the_export_validates_and_holds_its_query_count(
    client, alice, sam, record, django_assert_num_queries
):
    _grow(record, alice, sam, 3)
    client.force_login(alice)
    with django_assert_num_queries(QUERIES):
        response = client.get(reverse("fhir:patient", kwargs={"pk": record["patient"].pk}))
    bundle = validated(json.loads(response.content))
    tops = TopAssessment.objects.filter(episode__patient=record["patient"])
    answered = sum(item.value(top) is not None for top in tops for item in TOP_ITEMS)
    assert len(of_type(bundle, "Observation")) == answered == 8 + 3  # the record's 8, one for each TOP grown
    (patient,) = of_type(bundle, "Patient")
    assert patient["identifier"][0]["value"] == NHS_NUMBER
