"""The one door to patient data (docs/conventions.md 5). Every view that shows a patient or an episode asks here; a
record outside the user's scope is a 404, never the record. Who is in scope is decided once, in
recovery_reviews.access.patient_scope (docs/design.md, Access and audit); this module applies it to patients and
episodes."""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from patients.models import Patient, TreatmentEpisode
from recovery_reviews.access import patient_scope
from recovery_reviews.compiled_queries import CompiledQuery

ID_RANGE = range(1, 2**63)  # the ids a patient can have (a bigint): any other id is no patient


def patients_for_user(user) -> QuerySet[Patient]:
    return Patient.objects.filter(patient_scope(user))


def _patient_in_scope(user, pk: int):
    return patients_for_user(user).select_related("team", "keyworker").filter(pk=pk)[:1]


# Every patient page asks: compiled once per shape of scope (recovery_reviews/compiled_queries.py).
_PATIENT_IN_SCOPE = CompiledQuery(_patient_in_scope)


def patient_for_user(user, pk) -> Patient:
    if not isinstance(pk, int) or isinstance(pk, bool) or pk not in ID_RANGE:
        return get_object_or_404(patients_for_user(user).select_related("team", "keyworker"), pk=pk)
    found = _PATIENT_IN_SCOPE.run(user=user, pk=pk)
    if not found:
        raise Http404("No patient in your scope has this id.")
    return found[0]


def episodes_for_user(user) -> QuerySet[TreatmentEpisode]:
    # The episode's own team and keyworker columns (kept equal to the patient's by trigger): scoping episodes
    # needs no join to their patients.
    return TreatmentEpisode.objects.filter(patient_scope(user))


def episode_for_user(user, pk) -> TreatmentEpisode:
    return get_object_or_404(episodes_for_user(user).select_related("patient"), pk=pk)
