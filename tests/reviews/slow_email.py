"""For the Celery integration test: the file email backend with a slow mail server in front of it.

Before each message it leaves a marker naming the reminder in `<EMAIL_FILE_PATH>/../sending/`, then waits, then
writes the message; so the test can kill the worker while a message is being sent and not yet accepted."""

import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend

SEND_SECONDS = 0.3


class SlowFileBackend(EmailBackend):
    def send_messages(self, email_messages):
        sending = Path(self.file_path).parent / "sending"
        sending.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            (sending / message.extra_headers.get("X-Recovery-Reviews-Reminder", "unknown")).touch()
        time.sleep(SEND_SECONDS)
        return super().send_messages(email_messages)
