"""The Celery app, configured from Django settings (the CELERY_ prefix)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_reviews.settings")

app = Celery("recovery_reviews")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
