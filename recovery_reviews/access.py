"""Who sees which patients (docs/conventions.md 5): the scope rule, for any queryset of patient-linked records.
patients/access.py applies it to patients and episodes, the one door every view goes through; a record outside
the user's scope is a 404, never the record.

Scope (docs/design.md, Access and audit): keyworkers see their own caseload and their team's; senior
practitioners their team's; managers the teams they manage (and their own). Support staff and anyone
without a team see no patients through the application (they use the admin, which is for superusers).
"""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from recovery_reviews.auth_backend import LOADED_FOR_ONE_REQUEST
from recovery_reviews.compiled_queries import TEAM_IDS_IN_SCOPE
from recovery_reviews.models import Role, Team


def team_ids_for_user(user) -> list[int]:
    """The teams whose patients the user sees. Kept, like the managed teams, on a user loaded for one request
    (and given to a stand-in for compiling a query, recovery_reviews/compiled_queries.py)."""
    if not user.is_authenticated:
        return []
    kept = user.__dict__.get(TEAM_IDS_IN_SCOPE)
    if kept is not None:
        return list(kept)
    ids = set()
    if user.role in (Role.KEYWORKER, Role.SENIOR_PRACTITIONER, Role.MANAGER) and user.team_id:
        ids.add(user.team_id)
    if user.role == Role.MANAGER:
        ids.update(managed_team_ids(user))
    found = sorted(ids)
    if getattr(user, LOADED_FOR_ONE_REQUEST, False):
        user.__dict__[TEAM_IDS_IN_SCOPE] = found
    return found


def managed_team_ids(user) -> list[int]:
    """The teams a manager manages. Kept on a user loaded for one request (recovery_reviews/auth_backend.py) until
    the request ends: a page asks three or four times. Any other user object reads them afresh each time."""
    kept = user.__dict__.get("managed_team_ids")
    if kept is None:
        kept = list(user.managed_teams.values_list("id", flat=True))
        if getattr(user, LOADED_FOR_ONE_REQUEST, False):
            user.__dict__["managed_team_ids"] = kept
    return kept


def teams_for_user(user) -> QuerySet[Team]:
    return Team.objects.filter(id__in=team_ids_for_user(user))


def patient_scope(user, prefix: str = "") -> Q:
    """The rows of patient-linked records the user may see; `prefix` is the path from the queried model to the
    columns holding the patient's team and keyworker (``""`` for patients and episodes themselves)."""
    if not user.is_authenticated or user.role == Role.SUPPORT:
        return Q(pk__in=[])
    scope = Q(**{f"{prefix}team_id__in": team_ids_for_user(user)})
    if user.role == Role.KEYWORKER:
        scope |= Q(**{f"{prefix}keyworker_id": user.pk})
    return scope


def can_move_patient(user, patient) -> bool:
    """Who may change a patient's keyworker, lead practitioner or team: a manager, among the teams they manage;
    a senior practitioner, within their own team. (The patient must be in the user's scope as well.)"""
    if user.role == Role.MANAGER:
        return True
    return user.role == Role.SENIOR_PRACTITIONER and user.team_id == patient.team_id


def scoped(queryset: QuerySet, user, *, episode_path: str = "episode__") -> QuerySet:
    """Restrict any queryset of episode-linked records (reviews, tests, reports...) to the user's scope."""
    return queryset.filter(patient_scope(user, prefix=episode_path))


def record_for_user(user, queryset: QuerySet, pk, *, episode_path: str = "episode__"):
    return get_object_or_404(scoped(queryset, user, episode_path=episode_path), pk=pk)
