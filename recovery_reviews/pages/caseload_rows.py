"""The caseload's rows written in Python, byte for byte as the template's loop and its include of
templates/includes/status_reasons.html wrote them: fifty rows a page, each with two or three includes, were half
the page's rendering, and the caseload is the page keyworkers open most (docs/design.md, The keyworker's home).
Every value is escaped as the template escaped it; tests/recovery_reviews/test_caseload_rows.py holds the
include and this module to the same output."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe

from recovery_reviews.formatting import day_or_blank
from reviews.status import STATUS_LABELS
from reviews.status_html import esc, status_reasons_html


def rows_html(rows: list[dict]) -> SafeString:
    """Every row of the caseload's table (recovery_reviews/pages/caseload.py, _row), as the loop wrote them."""
    return mark_safe("".join(_row_html(row) for row in rows))  # noqa: S308 every value is escaped


def _row_html(row: dict) -> str:
    badges = ""
    if row["disengaged"]:
        reasons = "".join(f"<li>{esc(reason)}</li>" for reason in row["disengaged_reasons"])
        badges += (
            '<details class="risk-details small mt-1" data-testid="disengagement-badge"><summary>'
            f'<span class="badge badge-disengaged">Disengaging since {esc(row["disengaged_since"])}</span>'
            f'</summary><ul class="mb-0 ps-3">{reasons}</ul></details>'
        )
    risk = ""
    if row["risk_reasons"]:
        reasons = "".join(f"<li>{esc(reason)}</li>" for reason in row["risk_reasons"])
        risk = (
            '<details class="risk-details small mt-1" data-testid="risk"><summary>'
            f'<span class="badge risk-{esc(row["risk_level"])}" data-testid="risk-level">{esc(row["risk_label"])}'
            f'</span></summary><ul class="mb-0 ps-3" data-testid="risk-reasons">{reasons}</ul></details>'
        )
    next_owed = (
        '<span class="text-danger">Record needs correcting</span>'
        if row["record_error"]
        else esc(row["kind_label"])
    )
    also = "".join(
        '<div class="small mt-1" data-testid="also-owed">Also owed: '
        f"{esc(str(item.label).lower())}, "
        + status_reasons_html(
            status=item.status, label=STATUS_LABELS.get(item.status, ""), reasons=item.reasons
        )
        + f" target {esc(day_or_blank(item.target))}, deadline {esc(day_or_blank(item.deadline))}</div>"
        for item in row["also_owed"]
    )
    status = status_reasons_html(
        status=row["status"],
        label=row["status_label"],
        reasons=row["reasons"],
        vigilance=row["vigilance"],
        awaiting=row["awaiting"],
    )
    days = row["days_overdue"]
    overdue = (
        f'<div class="small fw-semibold" data-testid="days-overdue">{days} day{"" if days == 1 else "s"} '
        "overdue</div>"
        if days
        else ""
    )
    vigilance = (
        '<div class="small text-body-secondary" data-testid="vigilance-changes">'
        f"{'; '.join(esc(change) for change in row['vigilance'].changes)}</div>"
        if row["vigilance"]
        else ""
    )
    return (
        f'\n      <tr data-testid="caseload-row" class="{esc(row["row_class"])}">'
        f'\n        <td class="caseload-patient"><a href="{esc(row["url"])}" class="fw-semibold">{esc(row["name"])}</a>'
        f'\n          <div class="small text-body-secondary">{esc(row["team"])}</div>'
        f"\n          {badges}"
        f"\n          {risk}</td>"
        f'\n        <td class="text-nowrap" data-label="NHS number">{esc(row["nhs_number"])}</td>'
        f'\n        <td data-label="Keyworker">{esc(row["keyworker"])}</td>'
        f'\n        <td data-label="Next">{next_owed}'
        f"\n          {also}</td>"
        f'\n        <td data-label="Status">{status}'
        f"\n          {overdue}"
        f"\n          {vigilance}</td>"
        f'\n        <td class="text-nowrap" data-label="Target">{esc(row["target"])}</td>'
        f'\n        <td class="text-nowrap" data-label="Deadline">{esc(row["deadline"])}</td>'
        "\n      </tr>\n    "
    )
