from django.shortcuts import render
from django.urls import path


def dashboard(request):
    return render(request, "reviews/dashboard.html", {})


urlpatterns = [path("dashboard/", dashboard, name="dashboard")]
