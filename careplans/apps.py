from django.apps import AppConfig


class CareplansConfig(AppConfig):
    name = "careplans"
    verbose_name = "Care plans"

    def ready(self):
        from careplans import audit  # noqa: F401
