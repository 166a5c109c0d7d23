"""A person's inbox and their choice of reminder emails (docs/reminders.md, "The inbox"): the writes the inbox
pages make. The inbox items themselves are written by the delivery, one per reminder."""

from django.utils import timezone

from recovery_reviews.models import User
from reviews.models import InboxItem


def inbox_item_open(*, item: InboxItem) -> InboxItem:
    if item.read_at is None:
        item.read_at = timezone.now()
        item.save(update_fields=["read_at"])
    return item


def inbox_mark_all_read(*, user: User) -> int:
    return InboxItem.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def email_reminders_set(*, user: User, enabled: bool) -> None:
    """A person turns reminder emails off or on for themselves; the inbox always receives reminders."""
    User.objects.filter(pk=user.pk).update(email_reminders=enabled)
    user.email_reminders = enabled
