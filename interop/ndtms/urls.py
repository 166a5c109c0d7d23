"""See interop/__init__.py."""

from django.urls import path

from interop.ndtms import views

app_name = "ndtms"
urlpatterns = [
    path("", views.return_page, name="return"),
    path("download/", views.download, name="download"),
    path("consent/<int:pk>/", views.consent, name="consent"),
]
