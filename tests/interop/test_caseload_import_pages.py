"""The caseload import's pages and its command (docs/design.md, Interoperability): upload, dry run, commit, the
problems as CSV, the template, who may use them; manage.py import_caseload."""

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from interop.caseload_import.models import CaseloadImport, ImportStatus
from interop.caseload_import.parser import parse
from patients.models import Patient
from recovery_reviews.models import Role
from tests.support.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 11, 24)

HEADER = (
    "nhs_number,given_name,family_name,date_of_birth,team,keyworker,lead_practitioner,entry_date,"
    "primary_substance,other_substances,ost_medicine,ost_daily_dose_mg,dispensing,last_review_date,agreed_next_date"
)
ROW_OST = "943 476 5919,Jo,Bloggs,14/03/1981,North,alice,sam,2025-06-02,heroin,crack,methadone,60,supervised,2026-09-01,"
ROW_NEW = "401 023 2137,Sam,Smith,1990-01-31,,alice,,2026-10-01,alcohol,,,,,,"


def csv_file(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


@pytest.fixture
def north(team, alice, sam, mona):
    return team


def post_file(client, team, content: bytes, name: str = "caseload.csv"):
    return client.post(
        reverse("caseload_import:upload"),
        {"team": team.pk, "file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def test_the_page_describes_the_format_and_links_the_template(client, north, mona):
    client.force_login(mona)
    page = client.get(reverse("caseload_import:upload")).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "YYYY-MM-DD or DD/MM/YYYY" in page and "<code>ost_daily_dose_mg</code>" in page
    assert reverse("caseload_import:template") in page


def test_the_template_has_the_header_and_an_example_row_the_parser_reads(client, north, mona):
    client.force_login(mona)
    response = client.get(reverse("caseload_import:template"))
    assert response["Content-Disposition"] == 'attachment; filename="caseload-import-template.csv"'
    content = response.content
    header, example = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header[:3] == ["nhs_number", "given_name", "family_name"]
    parsed = parse(content, today=TODAY)
    assert parsed.all_problems == [] and parsed.rows[0].nhs_number == "9434765919"


def test_a_good_file_is_checked_shown_and_imported_from_the_pages(client, north, mona):
    client.force_login(mona)
    response = post_file(client, north, csv_file(ROW_OST, ROW_NEW))
    checked = CaseloadImport.objects.get()
    assert response.status_code == 302 and response["Location"] == checked.get_absolute_url()
    page = client.get(checked.get_absolute_url()).content.decode()
    assert 'data-testid="caseload-new">2<' in page and "Import 2 patients" in page
    assert not Patient.objects.exists()

    response = client.post(reverse("caseload_import:commit", args=[checked.pk]), follow=True)
    assert "Imported 2 new patients into North" in response.content.decode()
    assert Patient.objects.count() == 2
    checked.refresh_from_db()
    assert checked.status == ImportStatus.COMMITTED
    again = client.post(reverse("caseload_import:commit", args=[checked.pk]), follow=True)
    assert "This file was imported on" in again.content.decode() and Patient.objects.count() == 2


def test_row_problems_are_listed_by_line_and_downloadable(client, north, mona):
    client.force_login(mona)
    post_file(client, north, csv_file(ROW_NEW, ROW_OST.replace(",alice,", ",bob,")))
    checked = CaseloadImport.objects.get()
    page = client.get(checked.get_absolute_url()).content.decode()
    assert "No one in North has the username &#x27;bob&#x27;." in page
    assert 'data-testid="caseload-commit-form"' not in page
    assert client.post(reverse("caseload_import:commit", args=[checked.pk])).status_code == 302
    assert not Patient.objects.exists()
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("caseload_import:problems_csv", args=[checked.pk])).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert rows[0] == ["Line", "Column", "What is wrong", "How to fix it"]
    assert rows[1][:3] == ["3", "keyworker", "No one in North has the username 'bob'."]


def test_a_file_that_cannot_be_read_fails_the_form_with_the_message(client, north, mona):
    client.force_login(mona)
    response = post_file(
        client,
        north,
        csv_file(ROW_NEW).replace(b"Smith", "Sm\u00eftħ".encode("utf-8")).decode().encode("utf-16"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: " in page
    assert "The file is not UTF-8: save it as &#x27;CSV UTF-8&#x27; in Excel" in page
    assert (
        CaseloadImport.objects.get().status == ImportStatus.PROBLEMS
    )  # the attempt is kept, without the file
    assert bytes(CaseloadImport.objects.get().content) == b""


def test_an_empty_form_says_what_to_choose(client, north, mona):
    client.force_login(mona)
    page = client.post(reverse("caseload_import:upload"), {"team": north.pk}).content.decode()
    assert "Choose the caseload file to check." in page


@pytest.mark.parametrize("role", [Role.KEYWORKER, Role.SENIOR_PRACTITIONER])
def test_only_managers_reach_the_import(client, north, role):
    client.force_login(UserFactory(role=role, team=north))
    assert client.get(reverse("caseload_import:upload")).status_code == 403
    assert client.get(reverse("caseload_import:template")).status_code == 403


def test_a_manager_cannot_import_into_or_see_an_import_of_a_team_they_do_not_manage(
    client, north, mona, other_team
):
    client.force_login(mona)
    response = post_file(client, other_team, csv_file(ROW_NEW))
    assert "Choose one of the teams you manage." in response.content.decode()
    theirs = CaseloadImport.objects.create(
        team=other_team,
        filename="south.csv",
        sha256="0" * 64,
        status=ImportStatus.READY,
        uploaded_by=UserFactory(role=Role.MANAGER, team=other_team),
    )
    for name in ("caseload_import:result", "caseload_import:problems_csv"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.post(reverse("caseload_import:commit", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("caseload_import:commit", args=[theirs.pk])).status_code == 405


# The command.


@pytest.fixture
def caseload_csv(tmp_path):
    def write(*rows):
        path = tmp_path / "caseload.csv"
        path.write_bytes(csv_file(*rows))
        return str(path)

    return write


def test_the_command_dry_run_prints_counts_and_problems_and_writes_nothing(north, caseload_csv):
    out = io.StringIO()
    call_command(
        "import_caseload",
        caseload_csv(ROW_NEW, ROW_OST.replace("943 476 5919", "943 476 5918")),
        "--team",
        "north",
        stdout=out,
    )
    printed = out.getvalue()
    assert "line 3, nhs_number: The NHS number's check digit is wrong" in printed
    assert "2 rows: 1 new patients, 0 already imported, 1 problems." in printed
    assert "Dry run: nothing was written." in printed
    assert not Patient.objects.exists() and not CaseloadImport.objects.exists()


def test_the_command_commits_as_a_manager_and_a_second_run_changes_nothing(north, mona, caseload_csv):
    path = caseload_csv(ROW_OST, ROW_NEW)
    out = io.StringIO()
    call_command("import_caseload", path, "--team", "North", "--commit", "--as", "mona", stdout=out)
    assert "Imported 2 new patients into North" in out.getvalue()
    out = io.StringIO()
    call_command("import_caseload", path, "--team", "North", "--commit", "--as", "mona", stdout=out)
    assert "2 rows: 0 new patients, 2 already imported, 0 problems." in out.getvalue()
    assert Patient.objects.count() == 2
    assert list(CaseloadImport.objects.values_list("source", "status")) == [("command", "committed")] * 2


def test_the_command_exits_non_zero_when_a_commit_has_problems(north, mona, caseload_csv):
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "import_caseload",
            caseload_csv(ROW_NEW.replace("1990-01-31", "1990-02-31")),
            "--team",
            "North",
            "--commit",
            "--as",
            "mona",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert exit_.value.code == 1
    assert not Patient.objects.exists()
    assert CaseloadImport.objects.get().status == ImportStatus.PROBLEMS


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--team", "Nowhere"], "No team is called 'Nowhere'."),
        (["--team", "North", "--commit"], "--commit needs --as USERNAME"),
        (["--team", "North", "--commit", "--as", "alice"], "alice is not an active manager of North"),
    ],
)
def test_the_command_refuses_a_wrong_team_or_user(north, caseload_csv, arguments, says):
    with pytest.raises(CommandError, match=says):
        call_command("import_caseload", caseload_csv(ROW_NEW), *arguments)
    assert not Patient.objects.exists()


def test_the_benchmark_imports_its_generated_file_and_removes_it(db):
    out = io.StringIO()
    call_command("bench_import", "--rows", "30", stdout=out, stderr=io.StringIO())
    printed = out.getvalue()
    assert "30 new, 0 already imported, 0 problems" in printed and "0 new, 30 already imported" in printed
    assert "commit (check again, write, schedules, audit):" in printed
    assert not Patient.objects.exists() and not CaseloadImport.objects.exists()


def test_support_staff_read_the_imports_in_the_admin_without_the_file(client, north, mona):
    client.force_login(mona)
    post_file(client, north, csv_file(ROW_NEW))
    checked = CaseloadImport.objects.get()
    support = UserFactory(username="support", role=Role.SUPPORT, team=None, is_staff=True, is_superuser=True)
    client.force_login(support)
    assert client.get(reverse("admin:interop_caseloadimport_changelist")).status_code == 200
    page = client.get(reverse("admin:interop_caseloadimport_change", args=[checked.pk])).content.decode()
    assert checked.sha256 in page and "Smith" not in page
