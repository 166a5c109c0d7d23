from django.urls import path

from patients import views

app_name = "patients"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path(
        "episodes/<int:episode_pk>/pharmacy-reports/new/",
        views.pharmacy_report_new,
        name="pharmacy_report_new",
    ),
]
