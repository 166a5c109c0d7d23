import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_reviews.settings")
application = get_wsgi_application()

# What start-up made (modules, models, settings: some 100,000 objects) lives as long as the process. Frozen, the
# cyclic collector's full passes skip it instead of walking it every few requests: a report of 150 teams paused
# 60 ms on every twelfth request before.
gc.freeze()
