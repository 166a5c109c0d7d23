from django.apps import AppConfig


class RecoveryReviewsConfig(AppConfig):
    name = "recovery_reviews"
    verbose_name = "Organisation and audit"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from recovery_reviews.middleware import session_started

        user_logged_in.connect(session_started, dispatch_uid="recovery_reviews.session_started")
        from recovery_reviews.audit import register
        from recovery_reviews.models import Team, User

        register(Team)  # a capacity change is a decision the commissioners may ask about
        # Who may see which patients: every change of a person's role, team or managed teams, before and after.
        register(
            User,
            include_fields=[
                "username",
                "first_name",
                "last_name",
                "email",
                "is_active",
                "is_staff",
                "is_superuser",
                "role",
                "team",
            ],
            m2m_fields={"managed_teams"},
        )
