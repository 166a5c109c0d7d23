"""The URLs of the clinical record's own pages. The patients: namespace also holds the caseload, the patient's
record and leaving treatment, which compose several apps: recovery_reviews/urls.py adds them."""

from django.urls import path

from patients import views

urlpatterns = [
    path("new/", views.patient_register, name="register"),
    path("handover/", views.caseload_handover, name="handover"),
    path("<int:pk>/care-team/", views.patient_move, name="move"),
    path("<int:pk>/correct/", views.details_correct, name="correct"),
    path("<int:pk>/episodes/new/", views.episode_open, name="episode_open"),
    path("episodes/<int:episode_pk>/appointments/new/", views.appointment_new, name="appointment_new"),
    path("appointments/<int:pk>/outcome/", views.appointment_outcome, name="appointment_outcome"),
    path("episodes/<int:episode_pk>/top/new/", views.top_new, name="top_new"),
    path("episodes/<int:episode_pk>/drug-tests/new/", views.drug_test_new, name="drug_test_new"),
    path(
        "episodes/<int:episode_pk>/pharmacy-reports/new/",
        views.pharmacy_report_new,
        name="pharmacy_report_new",
    ),
    path(
        "episodes/<int:episode_pk>/dispensing/new/", views.dispensing_change_new, name="dispensing_change_new"
    ),
    path("episodes/<int:episode_pk>/circumstances/new/", views.circumstance_new, name="circumstance_new"),
    path("circumstances/<int:pk>/end/", views.circumstance_end, name="circumstance_end"),
    path("episodes/<int:episode_pk>/interventions/new/", views.intervention_new, name="intervention_new"),
    path("interventions/<int:pk>/end/", views.intervention_end, name="intervention_end"),
    path("pharmacy-reports/<int:pk>/prescriber-told/", views.prescriber_informed, name="prescriber_informed"),
    path("records/<slug:kind>/<int:pk>/entered-in-error/", views.entered_in_error, name="entered_in_error"),
]
