"""The caseload's rows are written in Python (recovery_reviews/pages/caseload_rows.py): held here to the output of
the template loop they replaced, and of templates/includes/status_reasons.html, which other pages still include."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.template import engines
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from recovery_reviews.pages.caseload_rows import rows_html
from reviews.status import STATUS_LABELS
from reviews.status_html import esc, status_reasons_html

# The loop as templates/patients/caseload.html had it before the rows moved to Python.
LOOP = (
    "{% for row in rows %}"
    "\n"
    '      <tr data-testid="caseload-row" class="{{ row.row_class }}">\n'
    '        <td class="caseload-patient">'
    '<a href="{{ row.url }}" class="fw-semibold">{{ row.name }}</a>\n'
    '          <div class="small text-body-secondary">{{ row.team }}</div>\n'
    '          {% if row.disengaged %}<details class="risk-details small mt-1" data-testid="disengag'
    'ement-badge"><summary>'
    '<span class="badge badge-disengaged">Disengaging since {{ row.disengaged_since }}</span>'
    '</summary><ul class="mb-0 ps-3">{% for reason in row.disengaged_reasons %}<li>{{ reason }}</li>'
    "{% endfor %}</ul></details>{% endif %}\n"
    '          {% if row.risk_reasons %}<details class="risk-details small mt-1" data-testid="risk">'
    '<summary><span class="badge risk-{{ row.risk_level }}" data-testid="risk-level">{{ row.risk_lab'
    "el }}</span></summary>"
    '<ul class="mb-0 ps-3" data-testid="risk-reasons">{% for reason in row.risk_reasons %}<li>{{ rea'
    "son }}</li>{% endfor %}</ul></details>{% endif %}</td>\n"
    '        <td class="text-nowrap" data-label="NHS number">{{ row.nhs_number }}</td>\n'
    '        <td data-label="Keyworker">{{ row.keyworker }}</td>\n'
    '        <td data-label="Next">{% if row.record_error %}<span class="text-danger">Record needs c'
    "orrecting</span>{% else %}{{ row.kind_label }}{% endif %}\n"
    '          {% for item in row.also_owed %}<div class="small mt-1" data-testid="also-owed">Also o'
    'wed: {{ item.label|lower }}, {% include "includes/status_reasons.html" with status=item.status '
    "label=status_labels|get_item:item.status reasons=item.reasons %} target {{ item.target|date }},"
    " deadline {{ item.deadline|date }}</div>{% endfor %}</td>\n"
    '        <td data-label="Status">{% include "includes/status_reasons.html" with status=row.statu'
    "s label=row.status_label reasons=row.reasons vigilance=row.vigilance awaiting=row.awaiting %}\n"
    '          {% if row.days_overdue %}<div class="small fw-semibold" data-testid="days-overdue">{{'
    " row.days_overdue }} day{{ row.days_overdue|pluralize }} overdue</div>{% endif %}\n"
    '          {% if row.vigilance %}<div class="small text-body-secondary" data-testid="vigilance-c'
    'hanges">{{ row.vigilance.changes|join:"; " }}</div>{% endif %}</td>\n'
    '        <td class="text-nowrap" data-label="Target">{{ row.target }}</td>\n'
    '        <td class="text-nowrap" data-label="Deadline">{{ row.deadline }}</td>\n'
    "      </tr>\n"
    "    "
    "{% endfor %}"
)

VIGILANCE = SimpleNamespace(
    label="Within 3 months of a change",
    summary="Methadone dose reduced on 2 Nov 2026 & detox <planned>",
    changes=["Dose reduced", "Detox <planned> & booked"],
)


def _owed(
    status, kind="Recovery check-up <element>", reasons=("Rule 7b: 3 months after the element ended.",)
):
    return SimpleNamespace(
        label=kind, status=status, reasons=list(reasons), target=date(2026, 12, 3), deadline=date(2027, 1, 5)
    )


def _row(**changes):
    row = {
        "url": "/patients/7/",
        "name": "O'Brien, Siobhán <b>",
        "team": "Team A & B",
        "keyworker": "kw <one>",
        "nhs_number": "943 476 5919",
        "row_class": "table-danger",
        "record_error": False,
        "kind_label": "Strategic review",
        "also_owed": [],
        "status": "overdue",
        "status_label": STATUS_LABELS["overdue"],
        "reasons": ["Entered treatment on 1 Jun 2026: first review within 3 months (§1.3).", "A < B & C"],
        "awaiting": False,
        "vigilance": None,
        "days_overdue": 12,
        "target": "1 Sep 2026",
        "deadline": "1 Dec 2026",
        "disengaged": False,
        "risk_reasons": [],
    }
    return row | changes


ROWS = {
    "plain": [_row()],
    "one day overdue": [_row(days_overdue=1)],
    "nothing overdue, no reasons": [_row(days_overdue=0, reasons=[], row_class="", status="upcoming")],
    "no status": [_row(status="", status_label="")],
    "record error": [_row(record_error=True)],
    "awaiting and vigilance": [_row(awaiting=True, vigilance=VIGILANCE)],
    "also owed": [_row(also_owed=[_owed("due"), _owed("upcoming", reasons=())])],
    "disengaged and at risk": [
        _row(
            disengaged=True,
            disengaged_since="28 Jul",
            disengaged_reasons=["No attended appointment for 154 days <OST>."],
            risk_level="raised",
            risk_label="Raised risk",
            risk_reasons=["Disengaging since 28 Jul 2026.", "Shared needles & syringes."],
        )
    ],
    "several": [_row(), _row(name="Second", days_overdue=0, awaiting=True), _row(keyworker=None)],
}


@pytest.mark.parametrize("rows", ROWS.values(), ids=ROWS.keys())
def test_the_rows_are_written_as_the_template_loop_wrote_them(rows):
    template = engines["django"].from_string(LOOP)
    assert rows_html(rows) == template.render({"rows": rows, "status_labels": STATUS_LABELS})


INCLUDES = {
    "a status": {"status": "due", "label": "Due", "reasons": ["Six-monthly <review> & more"]},
    "no reasons": {"status": "overdue", "label": "Overdue", "reasons": []},
    "awaiting": {"status": "due", "label": "Due", "reasons": ["x"], "awaiting": True},
    "vigilance": {"status": "due", "label": "Due", "reasons": ["x"], "vigilance": VIGILANCE},
    "nothing": {"status": "", "label": "", "reasons": []},
}


@pytest.mark.parametrize("values", INCLUDES.values(), ids=INCLUDES.keys())
def test_a_status_is_written_as_the_include_writes_it(values):
    template = engines["django"].get_template("includes/status_reasons.html")
    assert status_reasons_html(**values) == template.render({**values, "status_labels": STATUS_LABELS})


def test_the_writers_escape_as_django_does():
    """reviews.status_html.esc, which the rows and cards use, writes what conditional_escape writes."""
    values = [
        'O\'Brien & "Co" <b>',
        12,
        None,
        mark_safe("<em>kept</em>"),
        gettext_lazy("Strategic review"),
    ]
    for value in values:
        assert esc(value) == conditional_escape(value)
