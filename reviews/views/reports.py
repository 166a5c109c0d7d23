"""Managers' reports: first-review timeliness (§1.3), the workload forecast against capacity, the register of unmet
need (§2.14) and TOP outcomes. Reads are in reviews.dashboards; these views validate filters and render."""

from functools import lru_cache

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import get_script_prefix, path, reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from recovery_reviews.access import managed_team_ids, teams_for_user
from recovery_reviews.csv_export import csv_writer
from recovery_reviews.formatting import day_short
from recovery_reviews.forms import add_service_errors, csrf_input
from recovery_reviews.models import Role
from recovery_reviews.services import team_capacity_set
from reviews.dashboards import forecast as forecasting
from reviews.dashboards.forms import CapacityForm, PeriodFilterForm, TeamChoiceForm, TimelinessFilterForm
from reviews.dashboards.outcomes import top_outcomes
from reviews.dashboards.timeliness import first_review_timeliness, quarter_label
from reviews.dashboards.unmet_needs import recent_unmet_needs, unmet_need_counts, unmet_need_register
from reviews.views.dashboard import managers_and_senior_practitioners


def _invalid(request, template: str, form) -> HttpResponse:
    return render(request, template, {"form": form, "invalid": True}, status=400)


@managers_and_senior_practitioners
def timeliness(request):
    today = timezone.localdate()
    form = TimelinessFilterForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        return _invalid(request, "reviews/timeliness.html", form)
    data = form.cleaned_data if form.is_bound else {}
    team = data.get("team")
    report = first_review_timeliness(
        request.user, today=today, quarters=data.get("quarters") or 8, team_id=team.pk if team else None
    )
    quarters = [(q, quarter_label(q), report.by_quarter[q]) for q in report.quarters]
    chart = {
        "type": "line",
        "percent": True,
        "x_title": "Quarter of entry",
        "y_title": "Share of entrants (%)",
        "labels": [label for _, label, _ in quarters],
        "series": [
            {
                "label": f"First review within {months} months",
                "data": [_percent(cell.share(months)) for _, _, cell in quarters],
                "colour": colour,
                "line": True,
            }
            for months, colour in ((3, "#0d6efd"), (6, "#198754"))
        ],
    }
    # The heading says which quarters the table holds: the form's choice, and the first and last shown.
    span = f"{quarters[0][1]} to {quarters[-1][1]}" if quarters else ""
    return render(
        request,
        "reviews/timeliness.html",
        {
            "form": form,
            "today": today,
            "report": report,
            "quarters": quarters,
            "span": span,
            "team": team,
            "chart": chart,
        },
    )


def _percent(share):
    return None if share is None else round(share * 100, 1)


def forecast_rows_html(forecasts: list[forecasting.TeamForecast], *, managed: set[int], csrf: str) -> str:
    """The forecast table's rows, a team each, as the template's loop wrote them (tests/reviews/
    test_forecast_rows.py holds the two equal): the team's link, its capacity (a form to set it for a team the
    user manages), its backlog and its twelve weeks. Names are escaped; the rest are numbers."""
    return mark_safe("".join(_forecast_row(row, row.team_id in managed, csrf) for row in forecasts))  # noqa: S308


def _forecast_row(row: forecasting.TeamForecast, managed: bool, csrf: str) -> str:
    name, team = conditional_escape(row.name), row.team_id
    capacity = (
        f'<form method="post" action="{_capacity_url(get_script_prefix(), team)}" class="d-flex gap-1 '
        f'justify-content-end" novalidate data-testid="capacity-form-{team}">{csrf}<input type="number" '
        f'name="weekly_review_capacity" value="{row.capacity:d}" min="0" max="500" class="form-control '
        f'form-control-sm input-count" aria-label="{name}: reviews a week"><button class="btn '
        'btn-outline-primary btn-sm" type="submit">Set</button></form>'
        if managed
        else f"{row.capacity:d}"
    )
    weeks = "".join(
        f'<td class="text-end{" table-danger fw-semibold" if week["over"] else ""}" '
        f'title="{week["reviews"]:d} reviews, {week["check_ups"]:d} check-ups">{week["total"]:d}</td>'
        for week in row.weeks
    )
    return (
        f'\n    <tr data-testid="forecast-{conditional_escape(slugify(row.name))}"><th class="text-nowrap">'
        f'<a href="?team={team}">{name}</a></th>'
        f'\n      <td class="text-end">{capacity}</td>'
        f'\n      <td class="text-end{" table-warning" if row.backlog else ""}" title="{row.backlog_reviews:d} '
        f'reviews, {row.backlog_check_ups:d} check-ups">{row.backlog:d}</td>'
        f"\n      {weeks}"
        f'\n      <td class="text-end">{row.weeks_over_capacity:d}</td></tr>\n  '
    )


@lru_cache(maxsize=1024)
def _capacity_url(prefix: str, team_id: int) -> str:
    """reverse() once per team and script prefix per process: the forecast writes one a team it lists."""
    return reverse("reviews:capacity_set", args=[team_id])


@managers_and_senior_practitioners
def forecast(request):
    today = timezone.localdate()
    form = TeamChoiceForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        return _invalid(request, "reviews/forecast.html", form)
    team = form.cleaned_data.get("team") if form.is_bound else None
    forecasts = forecasting.workload_forecast(request.user, today=today, team_id=team.pk if team else None)
    shown = forecasts[0] if len(forecasts) == 1 else forecasting.combined(forecasts)
    weeks = forecasting.week_starts(today)
    chart = {
        "type": "bar",
        "stacked": True,
        "x_title": "Week beginning",
        "y_title": "Reviews and check-ups due",
        "labels": [day_short(week) for week in weeks],
        "series": [
            {"label": "Strategic reviews", "data": shown.reviews, "colour": "#0d6efd"},
            {"label": "Recovery check-ups", "data": shown.check_ups, "colour": "#20c997"},
            {
                "label": "Capacity",
                "data": [shown.capacity] * len(weeks),
                "colour": "#dc3545",
                "line": True,
                "dashed": True,
            },
        ],
    }
    managed = set(managed_team_ids(request.user)) if request.user.is_manager else set()
    return render(
        request,
        "reviews/forecast.html",
        {
            "form": form,
            "today": today,
            "weeks": weeks,
            "forecasts": forecasts,
            "shown": shown,
            "shown_weeks": list(zip(weeks, shown.weeks, strict=True)),
            "chart": chart,
            # written in Python, byte for byte as the template's loop wrote them (150 teams, 1,800 cells)
            "forecast_rows": forecast_rows_html(forecasts, managed=managed, csrf=csrf_input(request)),
        },
    )


@require_POST
def capacity_set(request, team_pk):
    if request.user.role != Role.MANAGER:
        raise PermissionDenied("Only managers set a team's review capacity.")
    team = get_object_or_404(teams_for_user(request.user), pk=team_pk)
    form = CapacityForm(request.POST)
    if form.is_valid():
        try:
            team_capacity_set(
                team=team, capacity=form.cleaned_data["weekly_review_capacity"], by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{team}: capacity set to {form.cleaned_data['weekly_review_capacity']} reviews a week.",
            )
    for errors in form.errors.values():
        messages.error(request, f"{team}: capacity not changed. {' '.join(errors)}")
    return redirect(f"{reverse('reviews:forecast')}?team={team.pk}")


def _period_form(request):
    return PeriodFilterForm(request.GET or None, user=request.user, today=timezone.localdate())


def _period(form) -> dict:
    data = form.cleaned_data
    team = data.get("team")
    return {"start": data["start"], "end": data["end"], "team_id": team.pk if team else None}


@managers_and_senior_practitioners
def unmet_needs(request):
    form = _period_form(request)
    if not form.is_valid():
        return _invalid(request, "reviews/unmet_needs.html", form)
    period = _period(form)
    counts = unmet_need_counts(request.user, **period)
    register = unmet_need_register(counts, start=period["start"], end=period["end"])
    return render(
        request,
        "reviews/unmet_needs.html",
        {
            "form": form,
            "period": period,
            "register": register,
            "quarter_labels": [quarter_label(q) for q in register.quarters],
            "recent": recent_unmet_needs(request.user, **period),
            "query": request.GET.urlencode(),
        },
    )


@managers_and_senior_practitioners
def unmet_needs_csv(request):
    """Counts by quarter, team, category and kind: no patient identifiers, ready for commissioners."""
    form = _period_form(request)
    if not form.is_valid():
        return _invalid(request, "reviews/unmet_needs.html", form)
    period = _period(form)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"unmet-needs-{period['start'].isoformat()}-to-{period['end'].isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv_writer(response)
    writer.writerow(["Quarter", "Quarter starts", "Team", "Category", "Unmet need", "Count"])
    for row in unmet_need_counts(request.user, **period):
        writer.writerow(
            [
                quarter_label(row.quarter),
                row.quarter.isoformat(),
                row.team,
                row.category_label,
                row.kind_label,
                row.count,
            ]
        )
    return response


@managers_and_senior_practitioners
def outcomes(request):
    """All the user's teams together unless one is chosen, as the other reports open."""
    form = TeamChoiceForm(request.GET or None, user=request.user)
    teams = list(form.fields["team"].queryset)
    if request.GET and not form.is_valid():
        return _invalid(request, "reviews/outcomes.html", form)
    team = form.cleaned_data.get("team") if form.is_bound else None
    # One team in scope: the figures are that team's, and the page names it.
    shown = team or (teams[0] if len(teams) == 1 else None)
    report = top_outcomes(request.user, team_id=team.pk if team else None) if teams else None
    return render(
        request, "reviews/outcomes.html", {"form": form, "team": team, "shown": shown, "report": report}
    )


urlpatterns = [
    path("timeliness/", timeliness, name="timeliness"),
    path("forecast/", forecast, name="forecast"),
    path("teams/<int:team_pk>/capacity/", capacity_set, name="capacity_set"),
    path("unmet-needs/", unmet_needs, name="unmet_needs"),
    path("unmet-needs.csv", unmet_needs_csv, name="unmet_needs_csv"),
    path("outcomes/", outcomes, name="outcomes"),
]
