"""A status with the reasons behind its dates, written in Python byte for byte as templates/includes/status_reasons.html
writes it, for the long lists written in Python (the caseload's rows and cards, the managers' review list): an
include a row was most of their rendering. tests/recovery_reviews/test_caseload_rows.py holds the two equal."""

import html

from django.utils.functional import Promise

from reviews.status import STATUS_LABELS


def esc(value) -> str:
    """Django's conditional_escape, the same text, for HTML written in Python a value at a time: without its lazy
    wrapper and a SafeString made for each value (a third of the work of writing a caseload's rows)."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


STATUS_REASONS_NOTE = (
    "A strategic review was held without the patient; it completes, and resets the clock, only once they have "
    "been involved (§2.4)."
)


def status_reasons_html(*, status, label, reasons, vigilance=None, awaiting=False) -> str:
    """templates/includes/status_reasons.html: a status with the reasons behind its dates, and for a row's first
    item the awaiting and vigilance badges."""
    parts = ["\n"]
    if status:
        listed = "".join(f"<li>{esc(reason)}</li>" for reason in reasons) or "<li>No reasons recorded.</li>"
        parts.append(
            '<details class="status-details" data-testid="status-reasons"><summary>'
            f'<span class="badge status-{esc(status)}" data-testid="status-badge">{esc(label)}</span>'
            '<span class="visually-hidden">: why these dates</span></summary>'
            f'<ul class="mb-0 ps-3 small">{listed}</ul></details>'
        )
    parts.append("\n")
    if awaiting:
        parts.append(
            '<details class="status-details" data-testid="awaiting-badge"><summary>'
            f'<span class="badge status-awaiting_patient">{esc(STATUS_LABELS["awaiting_patient"])}</span>'
            f'</summary><p class="mb-0 small">{esc(STATUS_REASONS_NOTE)}</p></details>'
        )
    parts.append("\n")
    if vigilance:
        parts.append(
            '<details class="status-details"><summary>'
            f'<span class="badge text-bg-warning" data-testid="vigilance-badge">{esc(vigilance.label)}</span>'
            f'</summary><p class="mb-0 small">{esc(vigilance.summary)}. Be vigilant until the strategic review '
            "that follows it is completed (App. C 2).</p></details>"
        )
    parts.append("\n")
    return "".join(parts)
