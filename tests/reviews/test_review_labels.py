"""The strategic review form names every input to a screen reader (docs/design.md, Accessible on every device):
each participant's name and role, and each unmet need's three inputs, have a label naming their row ("Name of
participant 2"), before and after a failed submit; and no table header of the form, the record or the evidence
pack is empty."""

import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from reviews.models import StrategicReview
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import (
    DrugTestFactory,
    DrugTestResultFactory,
    PharmacyReportFactory,
    StrategicReviewFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 4, 20)

ROW_INPUT = re.compile(r"^(participants|needs)-(\d+)-(name|role|category|kind|description)$")
LABELS = {
    "name": "Name of participant {n}",
    "role": "Role of participant {n}",
    "category": "Category of unmet need {n}",
    "kind": "What was needed, unmet need {n}",
    "description": "Why it could not be had, unmet need {n}",
}


class _Page(HTMLParser):
    """The labels (by the id they name), the visible inputs (name -> id) and the text of every table header."""

    def __init__(self):
        super().__init__()
        self.labels: dict[str, list[str]] = {}
        self.inputs: dict[str, str] = {}
        self.headers: list[str] = []
        self._label_for = None
        self._in_th = False
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden" and attrs.get("name"):
            self.inputs[attrs["name"]] = attrs.get("id", "")
        elif tag == "label":
            self._label_for, self._text = attrs.get("for"), []
        elif tag == "th":
            self._in_th, self._text = True, []

    def handle_data(self, data):
        if self._label_for is not None or self._in_th:
            self._text.append(data)

    def handle_endtag(self, tag):
        text = " ".join("".join(self._text).split())
        if tag == "label" and self._label_for is not None:
            self.labels.setdefault(self._label_for, []).append(text)
            self._label_for = None
        elif tag == "th" and self._in_th:
            self.headers.append(text)
            self._in_th = False


def parsed(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def row_labels(page: _Page) -> dict[str, list[str]]:
    """Each row input's name -> the texts of the labels that name its id."""
    return {name: page.labels.get(id_, []) for name, id_ in page.inputs.items() if ROW_INPUT.match(name)}


def assert_every_row_input_labelled(page: _Page) -> None:
    found = row_labels(page)
    assert len([n for n in found if n.startswith("participants-")]) >= 6  # the lead, the patient, three empty
    assert len([n for n in found if n.startswith("needs-")]) == 6  # two empty rows of three
    for name, texts in found.items():
        _prefix, index, field = ROW_INPUT.match(name).groups()
        assert texts == [LABELS[field].format(n=int(index) + 1)], name


@pytest.fixture
def started(client, sam, episode):
    episode_schedule_refresh(episode)
    client.force_login(sam)
    client.post(reverse("reviews:review_new", args=[episode.pk]), {"lead": sam.pk, "held_on": "2026-04-20"})
    return StrategicReview.objects.get()


def test_every_participant_and_unmet_need_input_has_a_label_naming_its_row(client, started):
    page = parsed(client.get(started.get_absolute_url()))
    assert_every_row_input_labelled(page)
    assert row_labels(page)["participants-1-role"] == ["Role of participant 2"]


def test_after_a_failed_submit_the_row_inputs_keep_their_labels(client, started):
    form = client.get(started.get_absolute_url()).context
    data = {
        "held_on": "2026-04-20",
        "overview": "",
        "participants-TOTAL_FORMS": str(form["participants"].total_form_count()),
        "participants-INITIAL_FORMS": "0",
        "needs-TOTAL_FORMS": "2",
        "needs-INITIAL_FORMS": "0",
        "participants-0-name": "Priya Shah",  # a name without a role: the role is refused beside it
        "needs-0-kind": "residential_rehab",
    }
    response = client.post(started.get_absolute_url(), data)
    content = response.content.decode()
    assert response.status_code == 200 and "Give this participant&#x27;s role (§2.6)." in content
    assert_every_row_input_labelled(parsed(response))


def test_no_table_header_of_the_form_or_the_record_is_empty(client, started, episode, sam):
    test = DrugTestFactory(episode=episode, taken_on=date(2026, 4, 2))
    DrugTestResultFactory(test=test, substance="heroin", result="negative")
    PharmacyReportFactory(episode=episode)
    form = parsed(client.get(started.get_absolute_url()))
    held = StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=date(2026, 3, 1),
        status="completed",
        completed_on=date(2026, 3, 1),
        patient_took_part=True,
    )
    record = parsed(client.get(held.get_absolute_url()))
    for page in (form, record):
        assert "Since last review" in page.headers  # the pack's tables of drug tests and pharmacy reports
        assert all(page.headers), f"an empty table header among {page.headers}"
        assert page.headers.count("Measure") == 2  # the corner of those two tables, said to a screen reader
