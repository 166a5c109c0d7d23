"""The reasons behind a status open on tap, click or Enter, never on hover alone
(docs/design.md, Accessible on every device): on the review list they are in a disclosure, and no page offers them as a tooltip."""

import re
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse

from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(team, alice):
    patient = PatientFactory(team=team, keyworker=alice, family_name="Overdue")
    episode = EpisodeFactory(patient=patient, entry_date=date.today() - relativedelta(months=7))
    episode_schedule_refresh(episode)
    return episode


def test_the_review_lists_reasons_are_in_a_disclosure(client, mona, overdue):
    client.force_login(mona)
    page = client.get(reverse("reviews:list")).content.decode()
    row = page.split('data-testid="list-row"')[1].split("</tr>")[0]
    disclosure = re.search(
        r'<details class="status-details" data-testid="status-reasons">(.*?)</details>', row, re.S
    )
    assert disclosure, "the status opens its reasons"
    assert "<summary>" in disclosure.group(1) and "status-overdue" in disclosure.group(1)
    assert "first strategic review" in disclosure.group(1).lower() or "§1.3" in disclosure.group(1)
    assert "tooltip" not in row and " title=" not in row
    assert "Tap, click or press Enter on a status" in page


def test_no_page_offers_a_status_as_a_tooltip(client, alice, overdue):
    client.force_login(alice)
    for url in (reverse("patients:detail", args=[overdue.patient.pk]), reverse("patients:caseload")):
        page = client.get(url).content.decode()
        assert 'data-bs-toggle="tooltip"' not in page, url
