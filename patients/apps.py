from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"

    def ready(self):
        from patients import audit  # noqa: F401  (registers the clinical record with the audit log)
