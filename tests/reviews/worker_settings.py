"""Settings for the Celery worker that test_celery_integration.py starts: the project's settings (database,
broker and mail folder from the environment), a slow mail server, and short timings so that a test of a
minute sees leases lapse, stranded reminders enqueued again and Redis redeliver an unacknowledged message."""

from recovery_reviews.settings import *  # noqa: F403

EMAIL_BACKEND = "tests.reviews.slow_email.SlowFileBackend"
REMINDER_LEASE_SECONDS = 3
REMINDER_REDELIVER_AFTER_SECONDS = 2
# Redis gives an unacknowledged message again after 5 s, looking for such messages every second.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 5,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "INFO"}}  # noqa: F405
