from django.apps import AppConfig


class RecoveryReviewsConfig(AppConfig):
    name = "recovery_reviews"
    verbose_name = "Organisation and audit"

    def ready(self):
        from recovery_reviews.audit import register
        from recovery_reviews.models import Team

        register(Team)  # a capacity change is a decision the commissioners may ask about
