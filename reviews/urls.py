from django.urls import path

from reviews import views

app_name = "reviews"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
