from reviews.views import dashboard, inbox, strategic

app_name = "reviews"
urlpatterns = inbox.urlpatterns + strategic.urlpatterns + dashboard.urlpatterns
