from django.shortcuts import render

from patients.selectors import caseload_for_user
from recovery_reviews.access import patient_for_user
from recovery_reviews.audit import record_access


def caseload(request):
    episodes = caseload_for_user(request.user)[:200]
    return render(request, "patients/caseload.html", {"episodes": episodes})


def patient_detail(request, pk):
    patient = patient_for_user(request.user, pk)
    record_access(request, patient)
    episodes = patient.episodes.order_by("-entry_date")
    return render(request, "patients/detail.html", {"patient": patient, "episodes": episodes})
