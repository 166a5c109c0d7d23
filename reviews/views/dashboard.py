"""Managers' view of where reviews stand: counts by team and keyworker with a chart, and the list behind every
number, filtered, sorted, keyset-paged and exportable as CSV."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from recovery_reviews.access import teams_for_user
from recovery_reviews.audit import record_export, record_list_access
from recovery_reviews.csv_export import streaming_csv_writer
from recovery_reviews.models import Role
from reviews.dashboards import status as dashboard
from reviews.dashboards.forms import KIND_LABELS, ReviewListFilterForm, TeamChoiceForm
from reviews.dashboards.keyset import BadCursor, keyset_page
from reviews.status import STATUS_LABELS
from reviews.views.list_rows import review_rows_html

PAGE_SIZE = 50


def managers_and_senior_practitioners(view):
    """The team-wide pages: managers for the teams they manage, senior practitioners for their own team."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.role not in (Role.MANAGER, Role.SENIOR_PRACTITIONER):
            raise PermissionDenied("Team dashboards are for managers and senior practitioners.")
        return view(request, *args, **kwargs)

    return wrapper


@managers_and_senior_practitioners
def dashboard_view(request):
    today = timezone.localdate()
    form = TeamChoiceForm(request.GET or None, user=request.user)
    team = form.cleaned_data.get("team") if form.is_valid() else None
    teams = dashboard.status_counts_by_team(request.user, today=today)
    if team is None and len(teams) == 1:
        team = teams_for_user(request.user).get(pk=teams[0].id)
    keyworkers = (
        dashboard.status_counts_by_keyworker(request.user, team_id=team.pk, today=today) if team else None
    )
    statuses = [(code, STATUS_LABELS[code]) for code in dashboard.STATUSES]
    list_url = reverse("reviews:list")
    for row in teams:
        row.slug = slugify(row.name)
    _cells(teams, list_url + "?team={row.id}&status={code}", "count-{row.slug}-{code}")
    if keyworkers:
        _cells(
            keyworkers,
            list_url + f"?team={team.pk}&keyworker={{row.id}}&status={{code}}",
            "kw-count-{row.id}-{code}",
        )
    return render(
        request,
        "reviews/dashboard.html",
        {
            "today": today,
            "form": form,
            "rows": teams,
            "team": team,
            "keyworkers": keyworkers,
            "totals": _totals(teams),
            "statuses": statuses,
            "chart": _chart(teams, statuses),
            "keyworker_left": _keyworker_left(request.user, teams),
        },
    )


def _cells(rows, link: str, testid: str) -> None:
    """Each row's count cells as one piece of HTML, built here rather than by the template cell by cell (150 teams
    are 750 cells, a team's keyworkers as many again: the template's lookups were most of the page's time).
    `link` and `testid` are formats of the row (``row``) and the status (``code``); every value in them is an id,
    a status code or a slug, so nothing in a cell needs escaping but the count, a number."""
    for row in rows:
        row.cells = mark_safe(  # noqa: S308 (ids, codes, slugs and numbers only: see the docstring)
            "".join(
                f'<td class="text-end"><a href="{link.format(row=row, code=code)}" '
                f'data-testid="{testid.format(row=row, code=code)}">{row.counts[code]:d}</a></td>'
                for code in dashboard.STATUSES
            )
        )


def _keyworker_left(user, teams) -> list[tuple]:
    """(team row, patients) where a keyworker who has left still holds patients with something due."""
    counts = dashboard.patients_without_an_active_keyworker([row.id for row in teams]) if teams else {}
    return [(row, counts[row.id]) for row in teams if counts.get(row.id)]


def _totals(rows) -> dict:
    return {code: sum(row.counts[code] for row in rows) for code in dashboard.STATUSES}


def _chart(rows, statuses) -> dict:
    """Stacked bars, one per team, one colour per date status (awaiting patient is a subset, so it is not
    stacked)."""
    return {
        "type": "bar",
        "stacked": True,
        "x_title": "Team",
        "y_title": "Reviews and check-ups owed",
        "labels": [row.name for row in rows],
        "series": [
            {"code": code, "label": label, "data": [row.counts[code] for row in rows]}
            for code, label in statuses
            if code in dashboard.DATE_STATUSES
        ],
    }


def _filtered_list(request, today):
    """The list's filter form, and the owed items and sort it asks for (None for the items when it is invalid:
    the page then says what is wrong, with a 400)."""
    form = ReviewListFilterForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        return form, None, None
    filters = _filters(form)
    sort = dashboard.SORTS[filters.pop("sort")]
    return form, dashboard.review_list(request.user, today=today, **filters), sort


@managers_and_senior_practitioners
def review_list_view(request):
    today = timezone.localdate()
    form, episodes, sort = _filtered_list(request, today)
    if episodes is None:
        return render(request, "reviews/review_list.html", {"form": form, "page": None}, status=400)
    try:
        page = keyset_page(
            episodes,
            sort,
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
            size=PAGE_SIZE,
        )
    except BadCursor as error:
        messages.warning(request, f"{error} Showing the first page.")
        page = keyset_page(episodes, sort, size=PAGE_SIZE)
    record_list_access(
        request, [item.episode.patient for item in page.rows]
    )  # each patient shown, on their log
    for item in page.rows:
        item.days_overdue = days_overdue(item, today)
    return render(
        request,
        "reviews/review_list.html",
        {
            "form": form,
            "page": page,
            "sort": sort,
            "today": today,
            "kinds": KIND_LABELS,
            "status_labels": STATUS_LABELS,
            "query": _query_without_cursor(request),
            # written in Python (reviews/views/list_rows.py), byte for byte as the template's loop did
            "rows_html": review_rows_html(page.rows),
        },
    )


def days_overdue(item, today) -> int | None:
    """Days since the item's deadline when it is overdue (the deadline has passed: reviews.status), else None."""
    late = (today - item.deadline).days
    return late if late > 0 else None


def _filters(form: ReviewListFilterForm) -> dict:
    data = form.cleaned_data if form.is_bound else {}
    return {
        "team_id": data["team"].pk if data.get("team") else None,
        "keyworker_id": data["keyworker"].pk if data.get("keyworker") else None,
        "status": data.get("status", ""),
        "kind": data.get("kind", ""),
        "sort": data.get("sort") or dashboard.DEFAULT_SORT,
    }


def _query_without_cursor(request) -> str:
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("before", None)
    return query.urlencode()


CSV_HEADER = [
    "NHS number",
    "Patient",
    "Team",
    "Keyworker",
    "Review",
    "Target date",
    "Deadline",
    "Status",
    "Awaiting patient involvement",
    "Days overdue",
    "Reasons",
]


@managers_and_senior_practitioners
def review_list_csv(request):
    """Every row of the filtered list (one per item owed), streamed (no page limit), in the list's sort order."""
    today = timezone.localdate()
    form, items, sort = _filtered_list(request, today)
    if items is None:
        return render(request, "reviews/review_list.html", {"form": form, "page": None}, status=400)
    items = items.order_by(*sort.order_by())
    record_export(request, "review list CSV")
    writer = streaming_csv_writer()  # every cell neutralised: no live formula in a spreadsheet

    def rows():
        yield writer.writerow(CSV_HEADER)
        for item in items.iterator(chunk_size=2000):
            patient = item.episode.patient
            yield writer.writerow(
                [
                    patient.nhs_number,
                    f"{patient.family_name}, {patient.given_name}",
                    patient.team.name,
                    str(patient.keyworker),
                    KIND_LABELS.get(item.kind, item.kind),
                    item.target.isoformat(),
                    item.deadline.isoformat(),
                    STATUS_LABELS.get(item.review_status, ""),
                    "yes" if item.awaiting_patient else "no",
                    days_overdue(item, today) or "",
                    " ".join(item.reasons or []),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reviews-{today.isoformat()}.csv"'
    return response


urlpatterns = [
    path("dashboard/", dashboard_view, name="dashboard"),
    path("list/", review_list_view, name="list"),
    path("list.csv", review_list_csv, name="list_csv"),
]
