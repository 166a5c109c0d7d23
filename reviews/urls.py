from reviews.views import dashboard, inbox, reports, strategic

app_name = "reviews"
urlpatterns = inbox.urlpatterns + strategic.urlpatterns + dashboard.urlpatterns + reports.urlpatterns
