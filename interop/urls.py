from django.urls import include, path

urlpatterns = [
    path("caseload-import/", include("interop.caseload_import.urls")),
    path("ndtms/", include("interop.ndtms.urls")),
    path("fhir/", include("interop.fhir.urls")),
]
