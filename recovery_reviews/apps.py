from django.apps import AppConfig


class RecoveryReviewsConfig(AppConfig):
    name = "recovery_reviews"
    verbose_name = "Organisation and audit"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from recovery_reviews.middleware import session_started

        user_logged_in.connect(session_started, dispatch_uid="recovery_reviews.session_started")
        from recovery_reviews.audit import register
        from recovery_reviews.models import Team

        register(Team)  # a capacity change is a decision the commissioners may ask about
