"""The managers' review list's rows written in Python, byte for byte as the template's loop and its include of
templates/includes/status_reasons.html wrote them: fifty rows a page, each with an include, were two thirds of the
page's work. Every value is escaped as the template escaped it; tests/reviews/test_list_rows.py holds this to the
loop it replaced."""

from django.utils.safestring import SafeString, mark_safe

from recovery_reviews.formatting import day_or_blank
from reviews.dashboards.forms import KIND_LABELS
from reviews.status import STATUS_LABELS
from reviews.status_html import esc, status_reasons_html


def review_rows_html(rows) -> SafeString:
    """Every row of a page of the review list (reviews.dashboards.keyset, each with its days_overdue set)."""
    return mark_safe("".join(_row(item) for item in rows))  # noqa: S308 every value is escaped


def _row(item) -> str:
    patient = item.episode.patient
    status = item.review_status
    late = item.days_overdue
    overdue = (
        '<td role="cell" data-label="Days overdue" class="text-end stack-empty" data-testid="days-overdue">'
        '<span aria-hidden="true">\u2014</span><span class="visually-hidden">not overdue</span></td>'
        if late is None
        else f'<td role="cell" data-label="Days overdue" class="text-end" data-testid="days-overdue">{late}</td>'
    )
    reasons = status_reasons_html(
        status=status,
        label=STATUS_LABELS.get(status, ""),
        reasons=item.reasons,
        awaiting=item.awaiting_patient,
    )
    return (
        f'\n    <tr data-testid="list-row" role="row" class="{"table-danger" if status == "overdue" else ""}">'
        f'\n      <td role="cell" class="stack-title"><a href="{esc(patient.get_absolute_url())}" '
        f'class="fw-semibold">{esc(patient.family_name)}, {esc(patient.given_name)}</a></td>'
        f'\n      <td role="cell" data-label="NHS number" class="text-nowrap">'
        f"{esc(patient.nhs_number_display or chr(0x2014))}</td>"
        f'\n      <td role="cell" data-label="Team">{esc(patient.team)}</td>'
        f'\n      <td role="cell" data-label="Keyworker">{esc(patient.keyworker)}</td>'
        f'\n      <td role="cell" data-label="Owed" data-testid="list-kind">{esc(KIND_LABELS.get(item.kind) or item.kind)}</td>'
        f'\n      <td role="cell" data-label="Status" class="text-nowrap">{reasons}</td>'
        f'\n      <td role="cell" data-label="Target" class="text-nowrap">{day_or_blank(item.target)}</td>'
        f'\n      <td role="cell" data-label="Deadline" class="text-nowrap">{day_or_blank(item.deadline)}</td>'
        f"\n      {overdue}"
        "\n    </tr>\n    "
    )
