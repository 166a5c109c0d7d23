"""The one door to patient data (docs/conventions.md 5). Every view that shows a patient or an episode asks here; a
record outside the user's scope is a 404, never the record. Who is in scope is decided once, in
recovery_reviews.access.patient_scope (docs/design.md, Access and audit); this module applies it to patients and
episodes."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from patients.models import Patient, TreatmentEpisode
from recovery_reviews.access import patient_scope


def patients_for_user(user) -> QuerySet[Patient]:
    return Patient.objects.filter(patient_scope(user))


def patient_for_user(user, pk) -> Patient:
    return get_object_or_404(patients_for_user(user).select_related("team", "keyworker"), pk=pk)


def episodes_for_user(user) -> QuerySet[TreatmentEpisode]:
    # The episode's own team and keyworker columns (kept equal to the patient's by trigger): scoping episodes
    # needs no join to their patients.
    return TreatmentEpisode.objects.filter(patient_scope(user))


def episode_for_user(user, pk) -> TreatmentEpisode:
    return get_object_or_404(episodes_for_user(user).select_related("patient"), pk=pk)
