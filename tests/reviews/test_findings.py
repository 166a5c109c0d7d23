"""The guidance's table 'Responding to particular findings in a review' and App. C, as the review page offers it."""

import pytest

from reviews.findings import (
    RESPONSE_DISPENSING,
    SUGGESTIONS,
    finding_for_response,
    suggested_responses,
    suggestions_for_page,
)
from reviews.models import Finding, Response

# One row per row of the guidance's table: finding, the responses it suggests, where the guidance says so.
TABLE = [
    (Finding.STABLE_ADHERENCE, [Response.INTRODUCE_TAKE_HOME], "App. C 1"),
    (Finding.CONTINUED_GOOD_ADHERENCE, [Response.EXTEND_TAKE_HOME], "App. C 1"),
    (
        Finding.DETERIORATING_ADHERENCE,
        [Response.REINSTATE_SUPERVISION, Response.EARLIER_RE_REVIEW],
        "App. C 1",
    ),
    (Finding.BENEFIT_PLATEAU, [Response.EXAMINE_PLATEAU], "App. C 2"),
    (
        Finding.LESS_BENEFIT_THAN_EXPECTED,
        [Response.RECOGNISE_PARTIAL_BENEFIT, Response.SUPPLEMENTARY_INTERVENTIONS],
        "App. C 3",
    ),
    (Finding.NO_BENEFIT, [Response.ALTERNATIVE_TREATMENT], "App. C 4"),
    (Finding.GOOD_PROGRESS, [Response.STEP_UP_RECOVERY_SUPPORT], "App. C 5"),
]


@pytest.mark.parametrize(("finding", "responses", "citation"), TABLE)
def test_each_finding_suggests_the_guidances_responses_with_its_citation(finding, responses, citation):
    suggestion = SUGGESTIONS[finding]
    assert list(suggestion.responses) == responses
    assert suggestion.citation.startswith(citation)
    assert suggestion.why.startswith(citation)
    assert len(suggestion.guidance) > 60  # the guidance's own words, not a paraphrase of a word


def test_every_finding_but_other_has_a_suggestion():
    assert set(SUGGESTIONS) == set(Finding.values) - {Finding.OTHER}


def test_deteriorating_adherence_says_what_the_guidance_says():
    guidance = SUGGESTIONS[Finding.DETERIORATING_ADHERENCE].guidance
    assert "reinstatement of supervised dosing" in guidance and "earlier re-review" in guidance


def test_suggested_responses_keep_the_order_and_drop_repeats():
    assert suggested_responses(["deteriorating_adherence"]) == ["reinstate_supervision", "earlier_re_review"]
    assert suggested_responses(["good_progress", "good_progress", "other"]) == ["step_up_recovery_support"]
    assert suggested_responses(["no_benefit", "less_benefit_than_expected"]) == [
        "alternative_treatment",
        "recognise_partial_benefit",
        "supplementary_interventions",
    ]


def test_a_response_is_linked_to_the_finding_that_suggested_it():
    findings = ["good_progress", "deteriorating_adherence"]
    assert finding_for_response("earlier_re_review", findings) == "deteriorating_adherence"
    assert finding_for_response("alternative_treatment", findings) is None


def test_responses_about_dispensing_name_the_change_they_imply():
    assert RESPONSE_DISPENSING == {
        "introduce_take_home": "introduce_take_home",
        "extend_take_home": "extend_take_home",
        "reinstate_supervision": "reinstate_supervision",
    }


def test_the_page_gets_the_table_as_plain_values():
    page = suggestions_for_page()
    assert page["deteriorating_adherence"] == {
        "responses": ["reinstate_supervision", "earlier_re_review"],
        "why": SUGGESTIONS[Finding.DETERIORATING_ADHERENCE].why,
        "citation": "App. C 1",
        "dispensing": {"reinstate_supervision": "reinstate_supervision"},
        "against": [],  # reinstating supervision eases nothing: no contradiction is named beside it
    }


def test_a_suggestion_that_eases_or_steps_back_carries_what_contradicts_it():
    """App. C 1, 5-6: introducing or extending take-home doses, and the clinician stepping back, are never
    suggested without what in the evidence pack stands against them (reviews/selectors.py contradictions)."""
    page = suggestions_for_page(("10 of 13 drug tests since entry were positive for heroin.",))
    eased = {finding for finding, s in page.items() if s["against"]}
    assert eased == {"stable_adherence", "continued_good_adherence", "good_progress"}
    assert page["good_progress"]["against"] == ["10 of 13 drug tests since entry were positive for heroin."]


def test_the_first_item_of_a_suggestion_is_still_its_responses():
    """The demo seeder reads SUGGESTIONS[finding][0]."""
    assert SUGGESTIONS[Finding.GOOD_PROGRESS][0] == (Response.STEP_UP_RECOVERY_SUPPORT,)
