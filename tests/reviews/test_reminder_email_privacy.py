"""Reminder emails carry no drug-treatment details by default (docs/design.md, Reminders): ordinary mail says
only that something needs attention, with the link; the inbox, behind the sign-in, has the whole message; and
REMINDER_EMAIL_DETAIL sends the whole message by email too, for secure mail such as NHSmail."""

from datetime import date

import pytest
from django.core import mail

from reviews import reminders
from reviews.models import InboxItem
from tests.support.schedule import store_schedule

pytestmark = pytest.mark.django_db

TARGET, DEADLINE = date(2026, 4, 15), date(2026, 7, 15)
SUBJECT = "Recovery Reviews: something needs your attention"


@pytest.fixture
def overdue(episode):
    """Pat Example's strategic review, overdue on the day after its deadline."""
    store_schedule(episode, kind="strategic_review", target=TARGET, deadline=DEADLINE, reasons=["§1.3"])
    return episode


def deliver_all(today):
    for pk in reminders.reminders_sweep(today=today).to_deliver:
        assert reminders.reminder_deliver(reminder_id=pk, today=today) == "delivered"


def test_by_default_the_email_says_only_that_something_needs_attention_with_the_link(overdue, alice):
    deliver_all(DEADLINE + date.resolution)
    email = next(m for m in mail.outbox if m.to == [alice.email])
    link = f"http://127.0.0.1:8000/patients/{overdue.patient_id}/"
    assert email.subject == SUBJECT
    assert email.body == (
        f"Something in Recovery Reviews needs your attention. Sign in to see it:\n{link}\n\n"
        "This email leaves the details out on purpose: they are in your inbox in Recovery Reviews. You can turn "
        "reminder\nemails off there (Inbox, Email reminders); the in-app inbox keeps every reminder.\n"
    )
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and f'<a href="{link}">Sign in to see it</a>' in html
    for text in (email.subject, email.body, html):
        assert "Pat" not in text and "Example" not in text and "OVERDUE" not in text and "review" not in text
    item = InboxItem.objects.get(recipient=alice)
    assert item.subject.startswith("Pat Example: strategic review OVERDUE")


def test_with_detail_allowed_the_email_is_the_whole_message(overdue, alice, settings):
    settings.REMINDER_EMAIL_DETAIL = True
    deliver_all(DEADLINE + date.resolution)
    email = next(m for m in mail.outbox if m.to == [alice.email])
    item = InboxItem.objects.get(recipient=alice)
    assert (
        email.subject
        == item.subject
        == ("Pat Example: strategic review OVERDUE (target 15 Apr 2026, deadline 15 Jul 2026)")
    )
    assert email.body == item.body and "Open Pat Example's record" in email.body
