"""Django's ModelBackend, loading the signed-in person once a request with what every page asks of them.

Every page names the person's team in the navigation, and every read scoped to a manager asks which teams they
manage (recovery_reviews/access.py, team_ids_for_user). Django's backend loads the user alone, so the team was a
query of its own on every page and a manager's teams one on every scoped read (three or four a page). Here the
team comes with the user, and the user is marked as loaded for this request alone, so that access.py may keep the
managed teams on it until the request ends. A user object loaded any other way (a test's, a task's) is not
marked and reads the managed teams afresh each time.
"""

from django.contrib.auth import backends, get_user_model

from recovery_reviews.compiled_queries import CompiledQuery

LOADED_FOR_ONE_REQUEST = "loaded_for_one_request"

# The person signed in, with their team: one query on every request, its SQL compiled once
# (recovery_reviews/compiled_queries.py).
_USER_WITH_TEAM = CompiledQuery(
    lambda user_id: (
        get_user_model()._default_manager.select_related("team").filter(pk=user_id).order_by("pk")[:1]
    )
)


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            found = _USER_WITH_TEAM.run(user_id=user_id)
        else:
            found = list(_USER_WITH_TEAM.build(user_id=user_id))
        user = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        setattr(user, LOADED_FOR_ONE_REQUEST, True)
        return user
