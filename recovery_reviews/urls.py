"""The site's URLs. The patients: namespace joins the clinical record's own pages (patients/urls.py) with the
pages of the top layer that compose several apps (recovery_reviews/pages/): the app below cannot import them."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

import patients.urls
from recovery_reviews import accounts, two_factor, views
from recovery_reviews.pages import access_log, caseload, episode_exit, record

patients_urls = [
    path("", caseload.caseload, name="caseload"),
    path("<int:pk>/", record.patient_detail, name="detail"),
    path("episodes/<int:episode_pk>/exit/", episode_exit.episode_exit, name="episode_exit"),
    path(
        "safety-events/<slug:kind>/<int:pk>/acknowledge/",
        caseload.safety_event_acknowledge_view,
        name="safety_event_acknowledge",
    ),
    *patients.urls.urlpatterns,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("patients/", include((patients_urls, "patients"))),
    path("reviews/", include("reviews.urls")),
    path("care-plans/", include("careplans.urls")),
    path("", include("interop.urls")),
    *access_log.urlpatterns,
    *accounts.urlpatterns,
    *two_factor.urlpatterns,
    path("admin/", admin.site.urls),
]
