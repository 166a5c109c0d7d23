"""The caseload import's pages (docs/design.md, Interoperability), under /caseload-import/."""

from django.urls import path

from interop.caseload_import import views

app_name = "caseload_import"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("template.csv", views.template_csv, name="template"),
    path("<int:pk>/", views.result, name="result"),
    path("<int:pk>/problems.csv", views.problems_csv, name="problems_csv"),
    path("<int:pk>/commit/", views.commit, name="commit"),
]
