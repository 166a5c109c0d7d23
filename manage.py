#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_reviews.settings")
    if sys.argv[1:2] == ["rundemo"]:
        # DEBUG is off unless set (docs/design.md, How it runs); the local demo turns it on for itself, before the
        # settings load, and its Celery worker inherits it. An explicit DJANGO_DEBUG=0 still wins.
        os.environ.setdefault("DJANGO_DEBUG", "1")
    # Which command runs, for the settings: one that serves nothing needs no secret key (recovery_reviews/settings.py).
    os.environ["RECOVERY_REVIEWS_COMMAND"] = sys.argv[1] if len(sys.argv) > 1 else ""
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
