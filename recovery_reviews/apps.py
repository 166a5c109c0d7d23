from django.apps import AppConfig


class RecoveryReviewsConfig(AppConfig):
    name = "recovery_reviews"
    verbose_name = "Organisation and audit"
