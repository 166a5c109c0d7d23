"""Reminders: every reminder sent once, none lost through outages (docs/reminders.md;
docs/conventions.md 6, 7, 13).

The shared machinery is kind-blind: sweep.py claims what the registered kinds owe today and finds the stranded
claims, delivery.py leases, delivers to the inbox and by email, withdraws and retries; inbox.py holds the
inbox's own writes. What a reminder is about lives in kinds/, one module per kind behind kinds/base.Kind.
"""

from reviews.reminders.delivery import (
    DELIVERED,
    SKIPPED,
    WITHDRAWN,
    ReminderDeliveryFailed,
    reminder_deliver,
)
from reviews.reminders.inbox import email_reminders_set, inbox_item_open, inbox_mark_all_read
from reviews.reminders.sweep import SweepResult, reminders_sweep

__all__ = [
    "DELIVERED",
    "SKIPPED",
    "WITHDRAWN",
    "ReminderDeliveryFailed",
    "SweepResult",
    "email_reminders_set",
    "inbox_item_open",
    "inbox_mark_all_read",
    "reminder_deliver",
    "reminders_sweep",
]
