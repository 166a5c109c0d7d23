"""See interop/fhir/views.py."""

from django.urls import path

from interop.fhir import views

app_name = "fhir"
urlpatterns = [
    path("Patient/<int:pk>/", views.patient_bundle_view, name="patient"),
]
