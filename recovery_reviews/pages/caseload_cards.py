"""The caseload's first cards' lists written in Python, byte for byte as the template's loops and their includes
wrote them: the safety events (up to twenty, each with its form to acknowledge it) and what is overdue or due (up
to twenty). They were most of the page's rendering after its rows (recovery_reviews/pages/caseload_rows.py).
Every value is escaped as the template escaped it; tests/recovery_reviews/test_caseload_cards.py holds these to
the loops and includes they replaced (docs/design.md, The keyworker's home)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from recovery_reviews.formatting import day
from reviews.status_html import esc, status_reasons_html

SAFETY_EVENTS_FIRST, DUE_FIRST = 5, 6  # shown at once; the rest behind "more"


def safety_events_html(events: list[dict], csrf: str) -> tuple[SafeString, SafeString]:
    """The safety events shown at once and those behind "more", each list as the template's loop wrote it."""
    first = "".join(
        f"\n        {_safety_event(event, csrf)}\n      " for event in events[:SAFETY_EVENTS_FIRST]
    )
    more = "".join(
        f"\n        {_safety_event(event, csrf)}\n        " for event in events[SAFETY_EVENTS_FIRST:]
    )
    return mark_safe(first), mark_safe(more)  # noqa: S308 every value is escaped


def due_items_html(items: list[dict]) -> tuple[SafeString, SafeString]:
    """What is overdue or due, shown at once and behind "more", each list as the template's loop wrote it."""
    first = "".join(f"\n        {_due_item(item)}\n      " for item in items[:DUE_FIRST])
    more = "".join(f"\n        {_due_item(item)}\n        " for item in items[DUE_FIRST:])
    return mark_safe(first), mark_safe(more)  # noqa: S308 every value is escaped


def _time(moment) -> str:
    """|date:"H:i", in the service's local time as the template wrote it."""
    return f"{timezone.localtime(moment):%H:%M}"


def _day(moment) -> str:
    """|date:"j M Y", in the service's local time."""
    return day(timezone.localtime(moment))


def _safety_event(event: dict, csrf: str) -> str:
    """templates/patients/_safety_event.html, as it was."""
    new = event["is_new"]
    state = "safety-event-new" if new else "safety-event-acknowledged"
    badge = '<span class="badge text-bg-danger me-1">New</span>' if new else ""
    action = (
        f'<br><strong class="home-danger" data-testid="action-needed">{esc(event["action_needed"])}</strong>'
        if event["action_needed"]
        else ""
    )
    ack = event["acknowledgement"]
    if ack:
        after = (
            '<p class="mb-0 small" data-testid="acknowledged">Acknowledged by '
            f"{esc(ack.acknowledged_by)} at {_time(ack.acknowledged_at)} on {_day(ack.acknowledged_at)}</p>\n  "
        )
    else:
        earlier = event["earlier_acknowledgement"]
        changed = (
            '<p class="mb-0 small" data-testid="changed-since">Changed since '
            f"{esc(earlier.acknowledged_by)} acknowledged it on {_day(earlier.acknowledged_at)} at "
            f"{_time(earlier.acknowledged_at)}, when it was: {esc(earlier.what)}.</p>"
            if earlier
            else ""
        )
        after = (
            f"{changed}\n"
            f'  <form method="post" class="mt-1" action="{esc(event["acknowledge_url"])}">{csrf}'
            '<button type="submit" class="btn btn-outline-danger btn-sm home-action" data-testid="acknowledge">'
            f'Acknowledge<span class="visually-hidden"> the {esc(event["kind_said"])} of {esc(event["patient"])}, '
            f"{esc(event['on'])}</span></button></form>"
        )
    return (
        f'\n<li class="home-item safety-event {state}" data-testid="safety-event">\n'
        f'  {badge}<a href="{esc(event["url"])}">{esc(event["patient"])}</a>, {esc(event["on"])}<br>'
        f"{esc(event['what'])}{action}\n"
        f"  {after}</li>\n"
    )


def _due_item(item: dict) -> str:
    """templates/patients/_due_item.html, as it was."""
    overdue = item["days_overdue"]
    status = status_reasons_html(status=item["status"], label=item["status_label"], reasons=item["reasons"])
    kind = "Record needs correcting" if item["record_error"] else esc(item["kind_label"])
    if overdue:
        when = (
            f'<strong data-testid="days-overdue">{overdue} day{"" if overdue == 1 else "s"} overdue</strong> '
            f"(deadline {esc(item['deadline'])})\n  "
        )
    elif item["days_past_target"]:
        when = (
            f"due since {esc(item['target'])}, "
            f'<span data-testid="deadline">deadline {esc(item["deadline"])}</span>\n  '
        )
    elif item["target_to_come"]:
        when = f"target {esc(item['target'])}"
    else:
        when = f"deadline {esc(item['deadline'])}"
    return (
        f'\n<li class="home-item{" home-item-overdue" if overdue else ""}" data-testid="due-item">'
        f'<a href="{esc(item["url"])}">{esc(item["patient"])}</a>\n'
        f"  {status}\n"
        f'  <div class="small">{kind}:\n'
        f"  {when}</div></li>\n"
    )
