"""What the manager's pages say, checked against a hand-built data set
(docs/design.md, Accessible on every device): the review list's days overdue (page and CSV), the timeliness page naming the quarters its table holds,
outcomes opening on all the manager's teams like the other reports, the tabs marking the current page, wide
tables in named regions a keyboard can scroll, and the forecast chart's numbers as a table."""

import csv
import io
import re
from datetime import date

import pytest
from django.urls import reverse

from patients.models import TopStage
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import EpisodeFactory, PatientFactory, TopAssessmentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 5, 1)


def entered(on, keyworker, family_name):
    patient = PatientFactory(team=keyworker.team, keyworker=keyworker, family_name=family_name)
    episode = EpisodeFactory(patient=patient, entry_date=on)
    episode_schedule_refresh(episode)
    return episode


@pytest.fixture
def caseload(alice):
    """On 1 May 2026 (first review: target entry + 3 months, deadline entry + 6 months)."""
    return {
        "evans": entered(date(2025, 9, 1), alice, "Evans"),  # deadline 1 Mar 2026: 61 days overdue
        "adams": entered(date(2025, 10, 1), alice, "Adams"),  # deadline 1 Apr 2026: 30 days overdue
        "baker": entered(date(2026, 1, 20), alice, "Baker"),  # due (target 20 Apr), deadline 20 Jul
        "davies": entered(date(2026, 4, 1), alice, "Davies"),  # upcoming
    }


def _rows(html: str) -> dict[str, str]:
    """Each list row's HTML, by the patient's family name."""
    rows = re.findall(r'<tr data-testid="list-row".*?</tr>', html, re.S)
    return {re.search(r'class="fw-semibold">(\w+),', row).group(1): row for row in rows}


def _days(row: str) -> str:
    cell = re.search(r'data-testid="days-overdue">(.*?)</td>', row, re.S).group(1)
    return re.sub(r"<[^>]+>", "|", cell).strip("|")


def test_the_review_list_says_how_many_days_each_overdue_item_is_past_its_deadline(client, mona, caseload):
    client.force_login(mona)
    html = client.get(reverse("reviews:list")).content.decode()
    assert '<th role="columnheader" scope="col" class="text-end">Days overdue</th>' in html
    rows = _rows(html)
    assert _days(rows["Evans"]) == "61"
    assert _days(rows["Adams"]) == "30"
    # Not overdue: a dash for the eye, "not overdue" for a screen reader, and no line in the phone's card.
    assert _days(rows["Baker"]) == "—||not overdue"
    assert "stack-empty" in rows["Baker"] and "stack-empty" not in rows["Evans"]


def test_the_csv_has_a_days_overdue_column_empty_when_not_overdue(client, mona, caseload):
    client.force_login(mona)
    response = client.get(reverse("reviews:list_csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    days = {row["Patient"].split(",")[0]: row["Days overdue"] for row in rows}
    assert days == {"Evans": "61", "Adams": "30", "Baker": "", "Davies": ""}


@pytest.mark.parametrize(
    ("params", "shown", "span"), [({}, 8, "2024 Q3 to 2026 Q2"), ({"quarters": 4}, 4, None)]
)
def test_the_timeliness_page_says_how_many_quarters_its_table_shows(
    client, mona, caseload, params, shown, span
):
    client.force_login(mona)
    html = client.get(reverse("reviews:timeliness"), params).content.decode()
    quarter_rows = re.findall(r'<tr data-testid="quarter-', html)
    assert len(quarter_rows) == shown
    assert (
        f"North: the last {shown} quarters of entry" in html
        or f"All my teams: the last {shown} quarters" in html
    )
    if span:
        assert f"{span} (this one included)" in html
    assert f"By team, over the {shown} quarters shown" in html or "By team" not in html
    # The menu says what is shown: with nothing chosen, the last 8 quarters are selected.
    selected = re.search(r'<option value="(\d+)" selected>', html).group(1)
    assert int(selected) == shown


def test_outcomes_open_on_all_the_managers_teams_and_keep_a_team_filter(
    client, mona, alice, olga, other_team
):
    mona.managed_teams.add(other_team)
    for keyworker in (alice, olga):
        episode = entered(date(2025, 6, 1), keyworker, "Outcome")
        TopAssessmentFactory(episode=episode, assessed_on=date(2025, 6, 1), stage=TopStage.START)
        TopAssessmentFactory(episode=episode, assessed_on=date(2026, 3, 1), stage=TopStage.REVIEW)
    client.force_login(mona)
    response = client.get(reverse("reviews:outcomes"))
    html = response.content.decode()
    assert response.context["report"].patients == 2
    assert "2</strong> patients in all my teams with a TOP at entry and at a review" in html
    assert re.search(r'<option value="" selected>All my teams</option>', html)
    north = client.get(reverse("reviews:outcomes"), {"team": alice.team.pk})
    assert north.context["report"].patients == 1
    assert "1</strong> patient in North with a TOP" in north.content.decode()


def test_outcomes_for_a_manager_of_one_team_name_it(client, mona, alice, team):
    client.force_login(mona)
    html = client.get(reverse("reviews:outcomes")).content.decode()
    assert "patients in North with a TOP at entry" in html


@pytest.mark.parametrize(
    ("name", "tab"),
    [
        ("reviews:dashboard", "Reviews by team"),
        ("reviews:list", "Review list"),
        ("reviews:timeliness", "First-review timeliness"),
        ("reviews:forecast", "Workload forecast"),
        ("reviews:unmet_needs", "Unmet needs"),
        ("reviews:outcomes", "Outcomes"),
    ],
)
def test_the_manager_tabs_mark_the_current_page_and_wide_tables_scroll_in_named_regions(
    client, mona, name, tab
):
    client.force_login(mona)
    html = client.get(reverse(name)).content.decode()
    assert '<nav class="manager-nav mb-3" aria-label="Manager\'s pages">' in html
    current = re.findall(r'<a class="nav-link active" aria-current="page" href="[^"]+">([^<]+)</a>', html)
    assert current == [tab]
    # Every table region is focusable and named: a keyboard can scroll it and a screen reader announces it.
    regions = re.findall(r'<div class="table-responsive"([^>]*)>', html)
    assert all('tabindex="0" role="region" aria-label="' in attributes for attributes in regions)


def test_the_forecast_charts_numbers_are_a_table_too(client, mona, caseload):
    client.force_login(mona)
    response = client.get(reverse("reviews:forecast"))
    html = response.content.decode()
    assert "<summary>The chart's numbers as a table</summary>" in html
    chart = response.context["chart"]
    assert (chart["x_title"], chart["y_title"]) == ("Week beginning", "Reviews and check-ups due")
    table = html.split('data-testid="forecast-chart-table"')[1].split("</details>")[0]
    weeks = re.findall(r'<th scope="row" class="text-nowrap">([^<]+)</th>', table)
    assert weeks[0] == "1 May 2026" and len(weeks) == 12


def test_unmet_needs_has_no_empty_column_heading(client, mona):
    client.force_login(mona)
    html = client.get(reverse("reviews:unmet_needs")).content.decode()
    assert "<th></th>" not in html
    assert "<th>Strategic review</th>" in html


def test_the_embedded_brokers_worker_looks_for_reminders_ten_times_a_second(settings):
    """kombu's filesystem transport polls once a second by default, which delivered the demo's first sweep at one
    reminder a second (some three minutes); the embedded default asks for every 0.1 s."""
    from kombu import Connection

    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("the broker is not the embedded default's filesystem transport")
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["polling_interval"] == 0.1
    with Connection(settings.CELERY_BROKER_URL, transport_options=options) as connection:
        assert connection.transport.polling_interval == 0.1
