"""The managers' review list's rows are written in Python (reviews/views/list_rows.py): held here to the output of
the template loop they replaced, kept below as it was."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.template import engines

from reviews.dashboards.forms import KIND_LABELS
from reviews.status import STATUS_LABELS
from reviews.views.list_rows import review_rows_html

LOOP = (
    "  {% for item in page.rows %}{% with patient=item.episode.patient %}\n"
    '    <tr data-testid="list-row" role="row" class="{% if item.review_status == \'overdue\' %}table-danger{% endif %}">\n'
    '      <td role="cell" class="stack-title"><a href="{{ patient.get_absolute_url }}" class="fw-semibold">{{ patient.family_name }}, {{ patient.given_name }}</a></td>\n'
    '      <td role="cell" data-label="NHS number" class="text-nowrap">{{ patient.nhs_number_display|default:"—" }}</td>\n'
    '      <td role="cell" data-label="Team">{{ patient.team }}</td>\n'
    '      <td role="cell" data-label="Keyworker">{{ patient.keyworker }}</td>\n'
    '      <td role="cell" data-label="Owed" data-testid="list-kind">{{ kinds|get_item:item.kind|default:item.kind }}</td>\n'
    '      <td role="cell" data-label="Status" class="text-nowrap">{% include "includes/status_reasons.html" with status=item.review_status label=status_labels|get_item:item.review_status reasons=item.reasons awaiting=item.awaiting_patient %}</td>\n'
    '      <td role="cell" data-label="Target" class="text-nowrap">{{ item.target|date }}</td>\n'
    '      <td role="cell" data-label="Deadline" class="text-nowrap">{{ item.deadline|date }}</td>\n'
    '      <td role="cell" data-label="Days overdue" class="text-end{% if item.days_overdue is None %} stack-empty{% endif %}" data-testid="days-overdue">{% if item.days_overdue is None %}<span aria-hidden="true">—</span><span class="visually-hidden">not overdue</span>{% else %}{{ item.days_overdue }}{% endif %}</td>\n'
    "    </tr>\n"
    "  {% endwith %}  {% empty %}\n"
    '    <tr role="row"><td role="cell" colspan="9" class="text-muted">No reviews match these filters.</td></tr>\n'
    "  {% endfor %}"
)


def patient(**changes):
    values = {
        "family_name": "O'Brien <b>",
        "given_name": "Siobhán & Co",
        "nhs_number_display": "943 476 5919",
        "team": "North & East",
        "keyworker": "kw <one>",
        "get_absolute_url": lambda: "/patients/7/?a=1&b=2",
    }
    return SimpleNamespace(**(values | changes))


def item(**changes):
    values = {
        "episode": SimpleNamespace(patient=patient()),
        "review_status": "overdue",
        "kind": "strategic_review",
        "reasons": ["Entered treatment on 1 Jun 2026: first review within 3 months (§1.3).", "A < B"],
        "awaiting_patient": False,
        "target": date(2026, 9, 1),
        "deadline": date(2026, 12, 1),
        "days_overdue": 12,
    }
    return SimpleNamespace(**(values | changes))


ROWS = {
    "none": [],
    "overdue": [item()],
    "not overdue": [item(review_status="due", days_overdue=None)],
    "awaiting the patient": [item(review_status="due", awaiting_patient=True, days_overdue=None)],
    "no NHS number, no keyworker": [
        item(episode=SimpleNamespace(patient=patient(nhs_number_display="", keyworker=None)))
    ],
    "an unknown kind, no reasons": [item(kind="something_new", reasons=[])],
    "no status": [item(review_status="", days_overdue=None)],
    "several": [item(), item(kind="recovery_check_up", review_status="upcoming", days_overdue=None), item()],
}


@pytest.mark.parametrize("rows", ROWS.values(), ids=ROWS.keys())
def test_the_rows_are_written_as_the_template_loop_wrote_them(rows):
    old = (
        engines["django"]
        .from_string(LOOP)
        .render({"page": SimpleNamespace(rows=rows), "kinds": KIND_LABELS, "status_labels": STATUS_LABELS})
    )
    if not rows:
        assert review_rows_html(rows) == ""
        return
    assert "  " + review_rows_html(rows) == old  # the loop stood after two spaces of indentation
