from django.urls import path

from careplans import views

app_name = "careplans"
urlpatterns = [
    path("episodes/<int:episode_pk>/", views.plan, name="plan"),
    path("episodes/<int:episode_pk>/goals/new/", views.goal_new, name="goal_new"),
    path("goals/<int:pk>/edit/", views.goal_edit, name="goal_edit"),
    path("goals/<int:pk>/actions/new/", views.action_new, name="action_new"),
    path("actions/<int:pk>/complete/", views.action_complete, name="action_complete"),
]
