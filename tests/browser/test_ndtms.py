"""The NDTMS return's pages in chromium (docs/design.md, Interoperability; Accessible on every device): the manager's
return page empty, with records that cannot be sent, and in its error state; the consent page and its error state;
each with no axe-core violation and nothing scrolling sideways at 390 and 1366 px. A manager checks a month with
the keyboard and pointer as a person would. Screenshots under var/screenshots/ndtms/."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from interop.ndtms.models import NdtmsAgency, NdtmsConsent
from patients.models import Substance
from recovery_reviews.models import Role
from tests.browser.accessibility import page_problems
from tests.browser.conftest import SCREENSHOTS
from tests.support.factories import (
    EpisodeFactory,
    InterventionFactory,
    PatientFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = SCREENSHOTS / "ndtms"


def test_the_ndtms_pages_pass_axe_and_fit_a_phone(page, login):
    team = TeamFactory(name="North")
    NdtmsAgency.objects.create(team=team, agency_code="N0852")
    keyworker = UserFactory(username="kw.north", role=Role.KEYWORKER, team=team)
    manager = UserFactory(username="mgr.north", role=Role.MANAGER, team=None)
    manager.managed_teams.add(team)
    episode = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=keyworker, given_name="Fen", family_name="Tanyl"),
        primary_drug=Substance.FENTANYL,
        other_substances=[Substance.KETAMINE, Substance.CRACK],
    )
    InterventionFactory(episode=episode)
    NdtmsConsent.objects.create(
        patient=episode.patient, consented=True, decided_on=episode.entry_date, recorded_by=keyworker
    )
    problems: list[str] = []
    login(manager)

    page.goto(reverse("ndtms:return"))
    problems += page_problems(page, "return-empty", SHOTS)
    last_month = date.today().replace(day=1) - timedelta(days=1)
    page.get_by_label("Month").fill(f"{last_month:%Y-%m}")
    page.get_by_role("button", name="Check the return").click()
    page.wait_for_load_state()
    assert "Records that cannot be sent" in page.content() and "Fen Tanyl" in page.content()
    assert "No record can be sent yet, so there is no file to download." in page.content()
    problems += page_problems(page, "return-problems", SHOTS)

    page.goto(reverse("ndtms:return") + f"?team={team.pk}&month=2019-01")
    assert page.title().startswith("Error: ")
    problems += page_problems(page, "return-error", SHOTS)

    page.goto(reverse("ndtms:consent", kwargs={"pk": episode.patient.pk}))
    problems += page_problems(page, "consent", SHOTS)
    page.get_by_label("Date the patient decided").fill(f"{date.today() + timedelta(days=3):%Y-%m-%d}")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_load_state()
    assert page.title().startswith("Error: ")
    problems += page_problems(page, "consent-error", SHOTS)
    page.get_by_label("Yes, they consent").check()
    page.get_by_label("Date the patient decided").fill(f"{date.today():%Y-%m-%d}")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_load_state()
    assert "consents to sharing their record with NDTMS" in page.content()
    assert not problems, "\n".join(problems)
