from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from recovery_reviews import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("patients/", include("patients.urls")),
    path("reviews/", include("reviews.urls")),
    path("care-plans/", include("careplans.urls")),
    path("admin/", admin.site.urls),
]
