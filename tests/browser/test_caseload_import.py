"""The caseload import's pages in chromium (docs/design.md, Interoperability; Accessible on every device): the
upload page, its error state, the dry run with problems, ready to import, and imported, each with no axe-core
violation and nothing scrolling sideways at 390 and 1366 px; a manager uploads, reads the dry run and imports
with the keyboard and pointer as a person would. Screenshots under var/screenshots/caseload-import/."""

import pytest
from django.urls import reverse

from patients.models import Patient
from recovery_reviews.models import Role
from tests.browser.accessibility import page_problems
from tests.browser.conftest import SCREENSHOTS
from tests.support.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = SCREENSHOTS / "caseload-import"
HEADER = (
    "nhs_number,given_name,family_name,date_of_birth,team,keyworker,lead_practitioner,entry_date,"
    "primary_substance,other_substances,ost_medicine,ost_daily_dose_mg,dispensing,last_review_date,agreed_next_date"
)
GOOD = [
    "943 476 5919,Jo,Bloggs,14/03/1981,North,kw.north,sp.north,2025-06-02,heroin,crack,methadone,60,supervised,"
    "2026-09-01,",
    "401 023 2137,Sam,Smith,1990-01-31,,kw.north,,2026-10-01,alcohol,,,,,,",
]


@pytest.fixture
def manager(db):
    team = TeamFactory(name="North")
    UserFactory(username="kw.north", role=Role.KEYWORKER, team=team)
    UserFactory(username="sp.north", role=Role.SENIOR_PRACTITIONER, team=team)
    user = UserFactory(username="mgr.north", role=Role.MANAGER, team=None)
    user.managed_teams.add(team)
    return user


def _upload(page, tmp_path, content: bytes):
    path = tmp_path / "caseload.csv"
    path.write_bytes(content)
    page.goto(reverse("caseload_import:upload"))
    page.get_by_label("Caseload file (CSV, UTF-8)").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()


def test_the_import_pages_pass_axe_and_fit_a_phone_and_a_manager_imports_a_file(
    page, login, manager, tmp_path
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    login(manager)
    problems: list[str] = []
    page.goto(reverse("caseload_import:upload"))
    problems += page_problems(page, "upload", SHOTS)

    _upload(page, tmp_path, (HEADER + "\r\nZoé\r\n").encode("cp1252"))
    assert page.title().startswith("Error: ")
    assert "The file is not UTF-8" in page.get_by_test_id("form-errors").inner_text()
    problems += page_problems(page, "upload-error", SHOTS)

    bad = GOOD[0].replace("kw.north", "bob").replace("943 476 5919", "943 476 5918")
    _upload(page, tmp_path, ("\r\n".join([HEADER, bad, GOOD[1]]) + "\r\n").encode())
    assert (
        page.get_by_test_id("caseload-problems").get_by_role("row").count() == 3
    )  # a heading row, two problems
    problems += page_problems(page, "dry-run-problems", SHOTS)

    _upload(page, tmp_path, ("\r\n".join([HEADER, *GOOD]) + "\r\n").encode())
    assert page.get_by_test_id("caseload-new").inner_text() == "2"
    problems += page_problems(page, "dry-run-ready", SHOTS)

    page.get_by_role("button", name="Import 2 patients").click()
    page.wait_for_load_state()
    assert "Imported 2 new patients into North" in page.locator("main").inner_text()
    problems += page_problems(page, "imported", SHOTS)
    assert problems == []
    assert Patient.objects.count() == 2
