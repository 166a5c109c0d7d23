"""Django's database sessions, read on every request through SQL compiled once (recovery_reviews/compiled_queries.py):
the same query Django's own store sends, the session's key and the time its values. Writing is Django's own."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from recovery_reviews.compiled_queries import CompiledQuery

_UNEXPIRED = CompiledQuery(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).order_by()[:1]
)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        found = _UNEXPIRED.run(key=self.session_key, now=timezone.now())
        if not found:  # as when Django's get() finds none: a new session
            self._session_key = None
            return None
        return found[0]
