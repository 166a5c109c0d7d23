"""An attacker's walk that grows with the product (docs/design.md, Access and audit): every URL pattern the
resolver knows that names a record, filled with the ids of another team's records, asked by each role of this team
with GET and POST, must answer 403, 404 or 405 and change nothing. A new URL with a parameter this walk cannot fill
fails the walk until its parameter is added to TARGETS, so no page is left out by forgetting it."""

from datetime import date

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from interop.caseload_import.models import CaseloadImport
from recovery_reviews.models import Role
from reviews.models import InboxItem
from tests.support.factories import (
    AppointmentFactory,
    CircumstanceFactory,
    EpisodeFactory,
    GoalActionFactory,
    GoalFactory,
    InterventionFactory,
    PatientFactory,
    PharmacyReportFactory,
    StrategicReviewFactory,
    TopAssessmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REFUSED = {403, 404, 405}


def _named_routes():
    """(namespaced name, route, the route's parameter names) for every URL of the application but the admin."""

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":
                    continue
                yield from walk(
                    pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace
                )
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, prefix + str(pattern.pattern), tuple(pattern.pattern.regex.groupindex)

    return sorted(walk(get_resolver().url_patterns))


# A one-time reset link's page is open by design: its token is the credential (recovery_reviews/accounts.py).
OPEN_BY_TOKEN = {"password_reset_confirm"}
ROUTES_WITH_RECORDS = [route for route in _named_routes() if route[2] and route[0] not in OPEN_BY_TOKEN]


@pytest.fixture
def theirs(other_team, olga):
    """One of every record another team's patient has, for the walk to aim at."""
    patient = PatientFactory(team=other_team, keyworker=olga)
    episode = EpisodeFactory(patient=patient, entry_date=date(2025, 6, 1))
    goal = GoalFactory(care_plan__episode=episode)
    return {
        "patient": patient,
        "episode": episode,
        "appointment": AppointmentFactory(episode=episode),
        "circumstance": CircumstanceFactory(episode=episode),
        "intervention": InterventionFactory(episode=episode, started_on=date(2025, 6, 1)),
        "pharmacy_report": PharmacyReportFactory(episode=episode),
        "top": TopAssessmentFactory(episode=episode),
        "review": StrategicReviewFactory(episode=episode, lead=olga, held_on=date(2025, 9, 1)),
        "goal": goal,
        "action": GoalActionFactory(goal=goal),
        "inbox_item": InboxItem.objects.create(recipient=olga, subject="For Olga", body="Hers alone."),
        "team": other_team,
        "keyworker": olga,
        "caseload_import": CaseloadImport.objects.create(
            team=other_team, filename="theirs.csv", sha256="0" * 64, status="ready", uploaded_by=olga
        ),
    }


# For each URL name, the parameters that aim it at another team's record. A new URL with a parameter is added here.
TARGETS = {
    "account_reset_link": lambda t: {"pk": t["keyworker"].pk},
    "access_log": lambda t: {"pk": t["patient"].pk},
    "patients:detail": lambda t: {"pk": t["patient"].pk},
    "ndtms:consent": lambda t: {"pk": t["patient"].pk},
    "patients:move": lambda t: {"pk": t["patient"].pk},
    "patients:correct": lambda t: {"pk": t["patient"].pk},
    "patients:episode_open": lambda t: {"pk": t["patient"].pk},
    "patients:episode_exit": lambda t: {"episode_pk": t["episode"].pk},
    "patients:appointment_new": lambda t: {"episode_pk": t["episode"].pk},
    "patients:appointment_outcome": lambda t: {"pk": t["appointment"].pk},
    "patients:top_new": lambda t: {"episode_pk": t["episode"].pk},
    "patients:drug_test_new": lambda t: {"episode_pk": t["episode"].pk},
    "patients:pharmacy_report_new": lambda t: {"episode_pk": t["episode"].pk},
    "patients:dispensing_change_new": lambda t: {"episode_pk": t["episode"].pk},
    "patients:circumstance_new": lambda t: {"episode_pk": t["episode"].pk},
    "patients:circumstance_end": lambda t: {"pk": t["circumstance"].pk},
    "patients:intervention_new": lambda t: {"episode_pk": t["episode"].pk},
    "patients:intervention_end": lambda t: {"pk": t["intervention"].pk},
    "patients:prescriber_informed": lambda t: {"pk": t["pharmacy_report"].pk},
    "patients:entered_in_error": lambda t: {"kind": "top", "pk": t["top"].pk},
    "patients:safety_event_acknowledge": lambda t: {"kind": "missed-doses", "pk": t["pharmacy_report"].pk},
    "reviews:inbox_open": lambda t: {"pk": t["inbox_item"].pk},
    "reviews:review_new": lambda t: {"episode_pk": t["episode"].pk},
    "reviews:review_preview": lambda t: {"episode_pk": t["episode"].pk},
    "reviews:check_up_new": lambda t: {"episode_pk": t["episode"].pk},
    "reviews:detail": lambda t: {"pk": t["review"].pk},
    "reviews:review_involvement": lambda t: {"pk": t["review"].pk},
    "reviews:review_discard": lambda t: {"pk": t["review"].pk},
    "reviews:element_check_up_new": lambda t: {"episode_pk": t["episode"].pk, "end": "2025-09-01"},
    "reviews:capacity_set": lambda t: {"team_pk": t["team"].pk},
    "careplans:plan": lambda t: {"episode_pk": t["episode"].pk},
    "careplans:goal_new": lambda t: {"episode_pk": t["episode"].pk},
    "careplans:goal_edit": lambda t: {"pk": t["goal"].pk},
    "careplans:action_new": lambda t: {"pk": t["goal"].pk},
    "careplans:action_complete": lambda t: {"pk": t["action"].pk},
    "fhir:patient": lambda t: {"pk": t["patient"].pk},
    "caseload_import:result": lambda t: {"pk": t["caseload_import"].pk},
    "caseload_import:problems_csv": lambda t: {"pk": t["caseload_import"].pk},
    "caseload_import:commit": lambda t: {"pk": t["caseload_import"].pk},
}


def test_every_url_that_names_a_record_is_in_the_walk():
    missing = [f"{name} ({route})" for name, route, _ in ROUTES_WITH_RECORDS if name not in TARGETS]
    assert not missing, "add these to TARGETS, aimed at another team's record: " + ", ".join(missing)


@pytest.mark.parametrize("role", [Role.KEYWORKER, Role.SENIOR_PRACTITIONER, Role.MANAGER])
def test_no_role_reaches_another_teams_record_by_any_url(client, team, role, theirs):
    user = UserFactory(role=role, team=team)
    if role == Role.MANAGER:
        user.managed_teams.add(team)
    client.force_login(user)
    before = {key: _state(obj) for key, obj in theirs.items()}
    reached = []
    for name, _route, _params in ROUTES_WITH_RECORDS:
        url = reverse(name, kwargs=TARGETS[name](theirs))
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"held_on": "2025-10-01", "ended_on": "2025-10-01"})
            if response.status_code not in REFUSED:
                reached.append(f"{method.upper()} {url} ({name}): {response.status_code}")
    assert not reached, f"a {role} of another team reached: " + "; ".join(reached)
    assert {key: _state(obj) for key, obj in theirs.items()} == before, "a refused request changed a record"


def test_the_walk_would_see_a_record_reached(client, alice, episode):
    """The same requests aimed at the user's own team's records are answered: a leak would show as one."""
    client.force_login(alice)
    ours = {"patient": episode.patient, "episode": episode}
    answered = {
        name: client.get(reverse(name, kwargs=TARGETS[name](ours))).status_code
        for name in ("patients:detail", "patients:top_new", "careplans:plan", "reviews:check_up_new")
    }
    assert answered == dict.fromkeys(answered, 200)


def _state(obj):
    """The stored row as it is now, to show that nothing was changed by the refused requests."""
    fresh = type(obj)._base_manager.filter(pk=obj.pk).values().first()
    return sorted((k, str(v)) for k, v in (fresh or {}).items() if k not in ("updated_at", "last_login"))
