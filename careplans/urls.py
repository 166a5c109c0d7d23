app_name = "careplans"
urlpatterns = []
