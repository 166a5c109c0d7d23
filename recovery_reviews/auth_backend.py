"""Django's ModelBackend, loading the signed-in person once a request with what every page asks of them.

Every page names the person's team in the navigation, and every read scoped to a manager asks which teams they
manage (recovery_reviews/access.py, team_ids_for_user). Django's backend loads the user alone, so the team was a
query of its own on every page and a manager's teams one on every scoped read (three or four a page). Here the
team comes with the user, and the user is marked as loaded for this request alone, so that access.py may keep the
managed teams on it until the request ends. A user object loaded any other way (a test's, a task's) is not
marked and reads the managed teams afresh each time.
"""

from django.contrib.auth import backends, get_user_model

LOADED_FOR_ONE_REQUEST = "loaded_for_one_request"


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("team").filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        setattr(user, LOADED_FOR_ONE_REQUEST, True)
        return user
