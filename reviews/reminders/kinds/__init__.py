"""The registry of reminder kinds: one module per kind, each a subclass of kinds.base.Kind, registered
below (docs/reminders.md, "Adding a kind"). The sweep reminds of every registered kind; a delivery finds its
kind by the Reminder.kind value stored on the row."""

from reviews.reminders.kinds import disengagement, review_due, safety_event
from reviews.reminders.kinds.base import Kind

_registered: dict[str, Kind] = {}  # by name, in the order registered


def register(kind: Kind) -> Kind:
    """Add a kind. Refused when its name, one of its Reminder.kind values or one of its stages is another
    registered kind's: the delivery must find one kind by value, and the claim's identity (reminder_sent_once:
    episode, kind, target, stage, recipient) carries the kind, and each kind keeps stages of its own so that a
    reminder's stage says whose it is."""
    for other in _registered.values():
        if (
            other.name == kind.name
            or set(other.values) & set(kind.values)
            or set(other.stages) & set(kind.stages)
        ):
            raise ValueError(f"{kind!r} shares a name, a value or a stage with {other!r}.")
    _registered[kind.name] = kind
    return kind


def unregister(kind: Kind) -> None:
    del _registered[kind.name]


def registered() -> tuple[Kind, ...]:
    return tuple(_registered.values())


def for_value(value: str) -> Kind | None:
    """The kind whose claims carry this Reminder.kind value; None if no registered kind does (a row claimed by
    an early version for a value no kind sends, such as "record_error")."""
    for kind in _registered.values():
        if value in kind.values:
            return kind
    return None


register(review_due.ReviewDue())
register(safety_event.SafetyEvent())
register(disengagement.Disengagement())
