"""The caseload's first cards' lists are written in Python (recovery_reviews/pages/caseload_cards.py): held here to
the output of the template loops and includes they replaced, kept below as they were."""

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.template import engines
from django.test import RequestFactory

from recovery_reviews.forms import csrf_input
from recovery_reviews.pages.caseload_cards import due_items_html, safety_events_html
from reviews.status import STATUS_LABELS

# templates/patients/_safety_event.html and _due_item.html, as they were.
SAFETY_EVENT = (
    "{% comment %}One safety event on the keyworker's home: new ones stand out with the button to acknowledge them; an acknowledged\n"
    "one stays, quiet, saying who acknowledged it and when. Its links and day come worked out (recovery_reviews/pages/caseload.py,\n"
    "_safety_items).{% endcomment %}\n"
    '<li class="home-item safety-event {% if event.is_new %}safety-event-new{% else %}safety-event-acknowledged{% endif %}" data-testid="safety-event">\n'
    '  {% if event.is_new %}<span class="badge text-bg-danger me-1">New</span>{% endif %}<a href="{{ event.url }}">{{ event.patient }}</a>, {{ event.on }}<br>{{ event.what }}{% if event.action_needed %}<br><strong class="home-danger" data-testid="action-needed">{{ event.action_needed }}</strong>{% endif %}\n'
    '  {% if event.acknowledgement %}<p class="mb-0 small" data-testid="acknowledged">Acknowledged by {{ event.acknowledgement.acknowledged_by }} at {{ event.acknowledgement.acknowledged_at|date:"H:i" }} on {{ event.acknowledgement.acknowledged_at|date:"j M Y" }}</p>\n'
    '  {% else %}{% if event.earlier_acknowledgement %}<p class="mb-0 small" data-testid="changed-since">Changed since {{ event.earlier_acknowledgement.acknowledged_by }} acknowledged it on {{ event.earlier_acknowledgement.acknowledged_at|date:"j M Y" }} at {{ event.earlier_acknowledgement.acknowledged_at|date:"H:i" }}, when it was: {{ event.earlier_acknowledgement.what }}.</p>{% endif %}\n'
    '  <form method="post" class="mt-1" action="{{ event.acknowledge_url }}">{% csrf_token %}<button type="submit" class="btn btn-outline-danger btn-sm home-action" data-testid="acknowledge">Acknowledge<span class="visually-hidden"> the {{ event.kind_said }} of {{ event.patient }}, {{ event.on }}</span></button></form>{% endif %}</li>\n'
)
DUE_ITEM = (
    "{% comment %}One patient overdue or due on the keyworker's home, with its days overdue; its link, labels and days come\n"
    "worked out (recovery_reviews/pages/caseload.py, _due_items).{% endcomment %}\n"
    '<li class="home-item{% if item.days_overdue %} home-item-overdue{% endif %}" data-testid="due-item"><a href="{{ item.url }}">{{ item.patient }}</a>\n'
    '  {% include "includes/status_reasons.html" with status=item.status label=item.status_label reasons=item.reasons %}\n'
    '  <div class="small">{% if item.record_error %}Record needs correcting{% else %}{{ item.kind_label }}{% endif %}:\n'
    '  {% if item.days_overdue %}<strong data-testid="days-overdue">{{ item.days_overdue }} day{{ item.days_overdue|pluralize }} overdue</strong> (deadline {{ item.deadline }})\n'
    '  {% elif item.days_past_target %}due since {{ item.target }}, <span data-testid="deadline">deadline {{ item.deadline }}</span>\n'
    "  {% elif item.target_to_come %}target {{ item.target }}{% else %}deadline {{ item.deadline }}{% endif %}</div></li>\n"
)
# The loops of templates/patients/caseload.html, as they were, with the includes inline.
SAFETY_LOOPS = (
    '{% for event in safety_events|slice:":5" %}\n        ' + SAFETY_EVENT + "\n      {% endfor %}|"
    '{% for event in safety_events|slice:"5:" %}\n        ' + SAFETY_EVENT + "\n        {% endfor %}"
)
DUE_LOOPS = (
    '{% for item in due_this_week|slice:":6" %}\n        ' + DUE_ITEM + "\n      {% endfor %}|"
    '{% for item in due_this_week|slice:"6:" %}\n        ' + DUE_ITEM + "\n        {% endfor %}"
)
TOKEN = "t0k3n-<&>"
CSRF = '<input type="hidden" name="csrfmiddlewaretoken" value="t0k3n-&lt;&amp;&gt;">'


def render(template: str, context: dict) -> tuple[str, str]:
    first, more = engines["django"].from_string(template).render(context).split("|")
    return first, more


def ack(by, at, what="3 consecutive missed doses at Boots"):
    return SimpleNamespace(acknowledged_by=by, acknowledged_at=at, what=what)


def event(**changes):
    values = {
        "is_new": True,
        "url": "/patients/7/",
        "patient": "Siobhán O'Brien <b>",
        "on": "21 Nov 2026",
        "what": "3 consecutive missed doses at Boots & Co",
        "action_needed": "Prescriber not yet told: tell them before dosing resumes.",
        "acknowledgement": None,
        "earlier_acknowledgement": None,
        "acknowledge_url": "/patients/safety-events/missed_doses/9/acknowledge/?mine=on&status=due",
        "kind_said": "missed doses",
    }
    return values | changes


SUMMER = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 Jul in London
EVENTS = {
    "none": [],
    "new, action needed": [event()],
    "new, nothing to do": [event(action_needed="", kind_said="drug test result")],
    "acknowledged": [event(is_new=False, action_needed="", acknowledgement=ack("kw <one>", SUMMER))],
    "changed since acknowledged": [event(earlier_acknowledgement=ack("Sam & Co", SUMMER, what="old <run>"))],
    "seven": [event(), event(is_new=False, acknowledgement=ack("kw", SUMMER))] * 3 + [event(patient="Last")],
}


@pytest.mark.parametrize("events", EVENTS.values(), ids=EVENTS.keys())
def test_the_safety_events_are_written_as_the_loops_and_include_wrote_them(events):
    assert safety_events_html(events, CSRF) == render(
        SAFETY_LOOPS, {"safety_events": events, "csrf_token": TOKEN}
    )


def item(**changes):
    values = {
        "url": "/patients/8/",
        "patient": "Pat <Example>",
        "status": "overdue",
        "status_label": STATUS_LABELS["overdue"],
        "reasons": ["Entered treatment on 1 Jun 2026: first review within 3 months (§1.3).", "A < B"],
        "record_error": False,
        "kind_label": "Strategic review",
        "days_overdue": 12,
        "days_past_target": 0,
        "target_to_come": False,
        "target": "1 Sep 2026",
        "deadline": "1 Dec 2026",
    }
    return values | changes


ITEMS = {
    "none": [],
    "overdue by a day": [item(days_overdue=1)],
    "overdue": [item()],
    "due, past its target": [item(status="due", days_overdue=0, days_past_target=3)],
    "target to come": [item(status="due_soon", days_overdue=0, target_to_come=True)],
    "deadline only": [item(status="due", days_overdue=0)],
    "record error, no reasons": [item(record_error=True, reasons=[])],
    "no status": [item(status="", status_label="", days_overdue=0)],
    "eight": [item(), item(days_overdue=0, target_to_come=True)] * 4,
}


@pytest.mark.parametrize("items", ITEMS.values(), ids=ITEMS.keys())
def test_what_is_due_is_written_as_the_loops_and_include_wrote_it(items):
    assert due_items_html(items) == render(
        DUE_LOOPS, {"due_this_week": items, "status_labels": STATUS_LABELS}
    )


def test_the_hidden_field_is_what_the_csrf_token_tag_writes(rf: RequestFactory):
    request = rf.post("/")
    tag = engines["django"].from_string("{% csrf_token %}").render(request=request)
    masked = re.compile(r'value="[^"]+"')
    assert masked.sub('value=""', csrf_input(request)) == masked.sub('value=""', tag)
    assert len(masked.findall(csrf_input(request))) == 1
