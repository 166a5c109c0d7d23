"""CSV exports are data, never formulas (docs/design.md, Access and audit): a cell that a spreadsheet would run
gets a leading single quote, as OWASP's "CSV Injection" page advises, in the helper and in every export."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from recovery_reviews.csv_export import csv_writer, neutralised
from reviews.models import UnmetNeedCategory, UnmetNeedKind
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import EpisodeFactory, PatientFactory, UnmetNeedFactory

TODAY = date(2026, 5, 1)
HYPERLINK = '=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Smith, Jo", "Smith, Jo"),
        ("O'Neill", "O'Neill"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(cell, written):
    assert neutralised(cell) == written


def test_numbers_dates_and_none_are_written_as_they_are():
    assert neutralised(-3) == -3 and neutralised(1.5) == 1.5 and neutralised(None) is None


def test_the_writer_neutralises_every_cell_and_the_csv_module_still_quotes():
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["Name", "Count"])
    writer.writerows([[HYPERLINK, -1], ["Evans, Jo", 2]])
    assert out.getvalue() == (
        'Name,Count\r\n"\'=HYPERLINK(""http://evil.example"",""x"")",-1\r\n"Evans, Jo",2\r\n'
    )


def test_the_writer_returns_the_line_so_that_a_streamed_export_can_yield_it():
    class Echo:
        def write(self, value):
            return value

    assert csv_writer(Echo()).writerow(["@me", 1]) == "'@me,1\r\n"


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_today")
def test_the_unmet_needs_csv_writes_a_formula_in_a_team_name_as_text(client, team, mona, alice):
    team.name = HYPERLINK
    team.save()
    episode = EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice))
    UnmetNeedFactory(
        episode=episode,
        recorded_on=date(2026, 4, 10),
        recorded_by=alice,
        category=UnmetNeedCategory.SETTING,
        kind=UnmetNeedKind.HOUSING,
    )
    client.force_login(mona)
    response = client.get(reverse("reviews:unmet_needs_csv"), {"start": "2026-01-01", "end": "2026-04-30"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["Team"] for row in rows] == ["'" + HYPERLINK]


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_today")
def test_the_review_list_csv_writes_a_formula_in_a_family_name_as_text(client, mona, alice):
    patient = PatientFactory(team=alice.team, keyworker=alice, family_name=HYPERLINK, given_name="@Jo")
    episode_schedule_refresh(EpisodeFactory(patient=patient, entry_date=date(2025, 10, 1)))
    client.force_login(mona)
    response = client.get(reverse("reviews:list_csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["Patient"] for row in rows] == ["'" + HYPERLINK + ", @Jo"]
