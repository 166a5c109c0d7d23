from reviews.views import dashboard, element_check_up, inbox, reports, strategic

app_name = "reviews"
urlpatterns = (
    inbox.urlpatterns
    + strategic.urlpatterns
    + element_check_up.urlpatterns
    + dashboard.urlpatterns
    + reports.urlpatterns
)
