"""The patient's record, the drug test and the TOP form, as a screen reader and a keyworker on a phone meet them:
every answer labelled (a repeated row by a label naming its row), the drug test starting with the patient's own
substances and medicine, one name for each substance on the TOP, the drug tests and the charts, and the TOP chart's
figures in a table (docs/design.md, Accessible on every device; docs/design.md, Domain)."""

import json
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from patients import services
from patients.models import TOP_SUBSTANCES, Substance
from patients.models import TestResult as Result
from patients.top_questionnaire import TOP_SUBSTANCE_LABELS, TOP_SUBSTANCE_TESTS, top_items_for_substances
from tests.support.factories import (
    CircumstanceFactory,
    DrugTestFactory,
    DrugTestResultFactory,
    InterventionFactory,
    TopAssessmentFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
TODAY = date(2026, 5, 1)


class Page(HTMLParser):
    """What a screen reader would name: each label's text by the id it is for, each input's id by its name, the
    selected option of each select, and every table header's text. The row template (__prefix__) is left out."""

    def __init__(self, html: str):
        super().__init__()
        self.labels: dict[str, str] = {}
        self.inputs: dict[str, dict] = {}
        self.selected: dict[str, str] = {}
        self.headers: list[str] = []
        self._label_for = None
        self._in_th = False
        self._select = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name") or ""
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden" and name:
            if "__prefix__" not in name:
                self.inputs[name] = attrs
            self._select = name if tag == "select" else None
        elif tag == "option" and "selected" in attrs and self._select:
            self.selected[self._select] = attrs.get("value", "")
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
            self.labels[self._label_for] = text
            self._label_for = None
        elif tag == "th" and self._in_th:
            self.headers.append(text)
            self._in_th = False
        elif tag == "select":
            self._select = None

    def label_of(self, name: str) -> str:
        return self.labels.get(self.inputs[name]["id"], "")


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def drug_test_page(client, episode) -> str:
    return client.get(reverse("patients:drug_test_new", args=[episode.pk])).content.decode()


def rows_of(page: Page) -> list[tuple[str, bool]]:
    """The drug test's rows as they start: (substance, ticked as prescribed)."""
    rows, n = [], 0
    while f"results-{n}-substance" in page.inputs:
        ticked = "checked" in page.inputs[f"results-{n}-expected_because_prescribed"]
        rows.append((page.selected.get(f"results-{n}-substance", ""), ticked))
        n += 1
    return rows


def found_in_a_test(episode, taken_on, *results, in_error=False):
    test = DrugTestFactory(episode=episode, taken_on=taken_on)
    for substance, result, prescribed in results:
        DrugTestResultFactory(
            test=test, substance=substance, result=result, expected_because_prescribed=prescribed
        )
    if in_error:
        services.record_mark_entered_in_error(
            record=test, reason="Another patient's sample.", by=episode.patient.keyworker
        )
    return test


# --- The drug test starts with the patient's own substances and medicine ---------------------------------------


def test_the_drug_test_starts_with_the_patients_medicine_substances_and_what_recent_tests_found(
    logged_in, episode
):
    episode.other_substances = ["alcohol", "benzodiazepines"]
    episode.save()
    InterventionFactory(episode=episode, medicine="methadone", daily_dose_mg=60)
    found_in_a_test(
        episode,
        date(2026, 4, 10),
        ("crack", Result.POSITIVE, False),
        ("heroin", Result.NEGATIVE, False),
        ("methadone", Result.POSITIVE, True),
    )
    found_in_a_test(episode, date(2026, 1, 20), ("cocaine", Result.POSITIVE, False))  # over three months ago
    found_in_a_test(episode, date(2026, 4, 20), ("ketamine", Result.POSITIVE, False), in_error=True)
    found_in_a_test(episode, date(2026, 4, 21), ("cannabis", Result.NEGATIVE, False))  # tested, not found
    rows = rows_of(Page(drug_test_page(logged_in, episode)))
    assert rows == [
        ("methadone", True),  # the OST medicine prescribed now, a positive expected
        ("heroin", False),  # the primary drug
        ("alcohol", False),  # the episode's other problem substances
        ("benzodiazepines", False),
        ("crack", False),  # found by a test in the last three months
        ("", False),  # two rows for any other substance
        ("", False),
    ]


def test_an_ended_prescription_is_not_ticked_and_a_medicine_used_illicitly_is_a_row(logged_in, episode):
    InterventionFactory(episode=episode, medicine="buprenorphine", daily_dose_mg=8, ended_on=date(2026, 3, 1))
    found_in_a_test(episode, date(2026, 4, 2), ("methadone", Result.POSITIVE, False))
    rows = rows_of(Page(drug_test_page(logged_in, episode)))
    assert rows == [("heroin", False), ("methadone", False), ("", False), ("", False)]


def test_every_answer_of_every_row_is_labelled_with_its_row(logged_in, episode):
    InterventionFactory(episode=episode, medicine="methadone", daily_dose_mg=60)
    html = drug_test_page(logged_in, episode)
    page = Page(html)
    assert len(rows_of(page)) == 4
    for n in range(4):
        assert page.label_of(f"results-{n}-substance") == f"Substance, row {n + 1}"
        assert page.label_of(f"results-{n}-result") == f"Result for row {n + 1}"
        assert page.label_of(f"results-{n}-expected_because_prescribed") == f"Prescribed, row {n + 1}"
    assert page.headers[:3] == ["Substance", "Result", "Prescribed"]
    assert all(page.label_of(name) for name in page.inputs if name != "csrfmiddlewaretoken")
    # a row added on the page is labelled too (static/js/drug_test_form.js numbers it)
    template = html.split('<template id="result-row-template">')[1].split("</template>")[0]
    assert (
        '<label class="result-label form-label" for="id_results-__prefix__-substance">Substance' in template
    )
    assert "drug_test_form.js" in html


def test_after_a_failed_send_each_row_keeps_its_label_and_says_what_is_wrong_beside_it(logged_in, episode):
    data = {
        "taken_on": "2026-04-29",
        "method": "urine",
        "results-TOTAL_FORMS": "2",
        "results-INITIAL_FORMS": "0",
        "results-0-substance": "heroin",
        "results-0-result": "negative",
        "results-1-substance": "methadone",
        "results-1-expected_because_prescribed": "on",
    }
    html = logged_in.post(reverse("patients:drug_test_new", args=[episode.pk]), data).content.decode()
    page = Page(html)
    assert page.label_of("results-1-result") == "Result for row 2"
    result = page.inputs["results-1-result"]
    assert result["aria-describedby"] == "error_1_id_results-1-result" and "title" not in result
    assert (
        "Give the result, or untick &#x27;prescribed&#x27;."
        in html.split('id="error_1_id_results-1-result"')[1][:120]
    )
    assert rows_of(page) == [("heroin", False), ("methadone", True)]  # what was sent, not the defaults


# --- One name for each substance --------------------------------------------------------------------------------


def test_a_top_substance_is_named_as_the_drug_test_names_it():
    for prefix, tests in TOP_SUBSTANCE_TESTS.items():
        if tests:
            assert TOP_SUBSTANCE_LABELS[prefix] == Substance(tests[0]).label
    assert TOP_SUBSTANCE_LABELS["opiates"] == "Heroin / illicit opioids"
    assert TOP_SUBSTANCE_LABELS["crack"] == "Crack cocaine"
    # the TOP form's own wording is kept as the question asked
    assert {p: w for p, w, _u in TOP_SUBSTANCES}["opiates"] == "Opiates (illicit)"


def test_the_top_form_the_drug_test_and_the_chart_use_the_same_name(logged_in, episode):
    weeks = {f"{p}_week{w}": 1 for p in ("opiates", "crack") for w in (1, 2, 3, 4)}
    TopAssessmentFactory(episode=episode, **weeks)
    found_in_a_test(episode, date(2026, 4, 10), ("crack", Result.POSITIVE, False))
    top = Page(logged_in.get(reverse("patients:top_new", args=[episode.pk])).content.decode())
    test = drug_test_page(logged_in, episode)
    chart = chart_of(logged_in, episode)
    labels = [s["label"] for panel in chart["panels"] for s in panel["series"]]
    for name in ("Heroin / illicit opioids", "Crack cocaine", "Cocaine (powder)"):
        assert any(h.startswith(name) for h in top.headers), name  # the TOP's row
        assert f">{name}</option>" in test  # the drug test's substance
    assert "Heroin / illicit opioids: days used (of 28)" in labels
    assert "Crack cocaine: days used (of 28)" in labels
    assert top.label_of("opiates_week1") == ""  # named by aria-label, in the same words
    assert top.inputs["opiates_week1"]["aria-label"] == "Heroin / illicit opioids, week 1"
    assert "TOP form: Opiates (illicit)" in " ".join(top.headers)


def test_the_top_forms_other_substance_has_a_label_and_no_header_is_empty(logged_in, episode):
    page = Page(logged_in.get(reverse("patients:top_new", args=[episode.pk])).content.decode())
    assert page.label_of("other_substance_name") == "Other problem substance (name)"
    assert all(page.headers), page.headers


# --- The TOP chart: the patient's own substances, axes in words, and a table with the same figures -----------


def chart_of(client, episode) -> dict:
    page = client.get(reverse("patients:detail", args=[episode.patient_id])).content.decode()
    return json.loads(
        re.search(r'<script id="top-chart-data" type="application/json">(.*?)</script>', page).group(1)
    )


def test_the_chart_shows_the_patients_own_substances_and_any_used(logged_in, episode):
    episode.other_substances = ["alcohol"]
    episode.save()
    zero = {
        f"{p}_week{w}": 0
        for p in ("alcohol", "opiates", "crack", "cocaine", "cannabis")
        for w in (1, 2, 3, 4)
    }
    TopAssessmentFactory(episode=episode, **zero | {"cocaine_week1": 2}, injecting_days=0)
    TopAssessmentFactory(
        episode=episode, assessed_on=date(2026, 4, 1), stage="review", **zero, injecting_days=0
    )
    found_in_a_test(episode, date(2026, 4, 10), ("crack", Result.POSITIVE, False))
    drugs = chart_of(logged_in, episode)["panels"][0]
    hidden = {s["label"].split(":")[0]: s["hidden"] for s in drugs["series"]}
    assert hidden == {
        "Alcohol": False,  # recorded on the episode, though never used
        "Heroin / illicit opioids": False,  # the primary drug
        "Crack cocaine": False,  # found by a recent test
        "Cocaine (powder)": False,  # used
        "Cannabis": True,  # none of these
        "Days injected (of 28)": True,
    }
    assert drugs["axis"] == "Days used in the last 28 days"


def test_a_substance_the_top_does_not_name_is_its_other_problem_substance():
    assert top_items_for_substances(["heroin", "fentanyl", "benzodiazepines", "methadone", "crack"]) == {
        "opiates",
        "other",
        "crack",
    }


def test_the_chart_has_a_table_with_the_same_figures_and_a_named_image(logged_in, episode):
    TopAssessmentFactory(
        episode=episode,
        **{f"opiates_week{w}": 7 for w in (1, 2, 3, 4)},
        psychological_health=6,
        physical_health=9,
    )
    TopAssessmentFactory(
        episode=episode,
        assessed_on=date(2026, 4, 15),
        stage="review",
        opiates_week1=1,
        psychological_health=None,
    )
    html = logged_in.get(reverse("patients:detail", args=[episode.patient_id])).content.decode()
    chart = chart_of(logged_in, episode)
    for panel in chart["panels"]:
        if not panel["series"]:
            continue
        table = html.split(f'data-testid="chart-table-{panel["domain"]}"')[1].split("</details>")[0]
        assert "<summary" in table and "Show the chart as a table" in table
        assert (
            f'<caption class="visually-hidden">{panel["title"]}: {panel["axis"].lower()}, at each TOP'
            in table
        )
        headers = re.findall(r'<th scope="col" class="text-end[^>]*>(.*?)<span', table)
        assert headers == chart["labels"]  # a column per TOP
        rows = re.findall(r'<tr><th scope="row"[^>]*>(.*?)</th>(.*?)</tr>', table, flags=re.S)
        assert [label for label, _cells in rows] == [s["label"] for s in panel["series"]]
        for (_label, cells), series in zip(rows, panel["series"], strict=True):
            shown = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", cells)]
            assert shown == ["not answered" if v is None else str(v) for v in series["data"]]
        canvas = re.search(rf'<canvas id="top-chart-{panel["domain"]}" role="img" aria-label="([^"]+)"', html)
        assert canvas.group(1).startswith(
            f"{panel['title']}: a line chart of {len(panel['series'])} TOP item"
        )
    health = next(p for p in chart["panels"] if p["domain"] == "health")
    assert health["axis"] == "Rating 0-20 (20 is best)"
    table = html.split('data-testid="chart-table-health"')[1].split("</details>")[0]
    assert re.search(
        r"Psychological health \(0-20\)</th><td[^>]*>6</td><td[^>]*><span[^>]*>not answered", table
    )


# --- The patient page ------------------------------------------------------------------------------------------


def test_the_end_links_say_what_they_end(logged_in, episode):
    InterventionFactory(episode=episode, medicine="methadone", daily_dose_mg=60)
    CircumstanceFactory(episode=episode, code="complex_needs")
    episode.other_substances = ["alcohol", "benzodiazepines"]
    episode.save()
    html = logged_in.get(reverse("patients:detail", args=[episode.patient_id])).content.decode()
    assert 'End<span class="visually-hidden"> Methadone (oral) 60 mg daily</span></a>' in html
    assert re.search(r'End<span class="visually-hidden"> Complex, co-morbid[^<]*</span></a>', html)
    assert ">end</a>" not in html
    assert "also Alcohol, Benzodiazepines" in html  # by name, not by code


def test_a_drug_tests_results_are_said_in_words_not_only_in_signs_and_colours(logged_in, episode):
    found_in_a_test(
        episode, date(2026, 4, 10), ("crack", Result.POSITIVE, False), ("methadone", Result.NEGATIVE, True)
    )
    html = logged_in.get(reverse("patients:detail", args=[episode.patient_id])).content.decode()
    tests = html.split('data-testid="drug-tests"')[1].split("</section>")[0]
    assert (
        'Crack cocaine <span aria-hidden="true">+</span><span class="visually-hidden">positive, unexpected;'
        in tests
    )
    assert '<span class="visually-hidden">negative, prescribed, unexpected;</span>' in tests
