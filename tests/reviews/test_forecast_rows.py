"""The workload forecast's rows are written in Python (reviews/views/reports.py, forecast_rows_html): held here to
the output of the template loop they replaced, kept below as it was (inside the page's localize off)."""

import pytest
from django.template import engines
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from reviews.dashboards.forecast import WEEKS, TeamForecast
from reviews.views.reports import forecast_rows_html

LOOP = (
    "{% load l10n %}{% localize off %}"
    "{% for f in forecasts %}\n"
    '    <tr data-testid="forecast-{{ f.slug }}"><th class="text-nowrap"><a href="?team={{ f.team_id }}">{{ f.name }}</a></th>\n'
    '      <td class="text-end">{% if f.team_id in managed %}<form method="post" action="{{ f.capacity_url }}" class="d-flex gap-1 justify-content-end" novalidate data-testid="capacity-form-{{ f.team_id }}">{% csrf_token %}<input type="number" name="weekly_review_capacity" value="{{ f.capacity }}" min="0" max="500" class="form-control form-control-sm input-count" aria-label="{{ f.name }}: reviews a week"><button class="btn btn-outline-primary btn-sm" type="submit">Set</button></form>{% else %}{{ f.capacity }}{% endif %}</td>\n'
    '      <td class="text-end{% if f.backlog %} table-warning{% endif %}" title="{{ f.backlog_reviews }} reviews, {{ f.backlog_check_ups }} check-ups">{{ f.backlog }}</td>\n'
    "      {{ f.week_cells }}\n"
    '      <td class="text-end">{{ f.weeks_over_capacity }}</td></tr>\n'
    '  {% empty %}<tr><td colspan="16" class="text-muted">No teams in your scope.</td></tr>{% endfor %}'
    "{% endlocalize %}"
)
TOKEN = "t0k3n"
CSRF = '<input type="hidden" name="csrfmiddlewaretoken" value="t0k3n">'


def old_week_cells(row):
    """The view's _week_cells as it was."""
    return mark_safe(
        "".join(
            f'<td class="text-end{" table-danger fw-semibold" if week["over"] else ""}" '
            f'title="{week["reviews"]:d} reviews, {week["check_ups"]:d} check-ups">{week["total"]:d}</td>'
            for week in row.weeks
        )
    )


def forecast(team_id, name, capacity=10, reviews=None, check_ups=None, backlog=(0, 0)):
    return TeamForecast(
        team_id=team_id,
        name=name,
        capacity=capacity,
        reviews=reviews or [(team_id * 3 + week) % 14 for week in range(WEEKS)],
        check_ups=check_ups or [week % 3 for week in range(WEEKS)],
        backlog_reviews=backlog[0],
        backlog_check_ups=backlog[1],
    )


FORECASTS = {
    "managed, with a backlog": ([forecast(1, "North & East <Team>", backlog=(4, 1))], {1}),
    "not managed, no backlog": ([forecast(2, "South")], set()),
    "capacity nought, every week over": ([forecast(3, "West", capacity=0)], {3}),
    "several, some managed": ([forecast(n, f"Team {n:03d} ‘Ō’") for n in range(1, 8)], {2, 5, 7}),
}


@pytest.mark.parametrize(("forecasts", "managed"), FORECASTS.values(), ids=FORECASTS.keys())
def test_the_rows_are_written_as_the_template_loop_wrote_them(forecasts, managed):
    for row in forecasts:  # what the view set on each row for the loop
        row.slug = slugify(row.name)
        row.capacity_url = (
            reverse("reviews:capacity_set", args=[row.team_id]) if row.team_id in managed else ""
        )
        row.week_cells = old_week_cells(row)
    old = (
        engines["django"]
        .from_string(LOOP)
        .render({"forecasts": forecasts, "managed": managed, "csrf_token": TOKEN})
    )
    assert forecast_rows_html(forecasts, managed=managed, csrf=CSRF) == old
    assert old.count("capacity-form-") == len(managed & {row.team_id for row in forecasts})
