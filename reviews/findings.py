"""Suggested responses to a review's findings: the guidance's table 'Responding to particular findings in a
review' and Appendix C ('Scenarios for possible responses to a review's findings'). A suggestion is offered,
never applied without the practitioner choosing it.

SUGGESTIONS[finding] is a Suggestion: its first item is the tuple of suggested responses (so that
SUGGESTIONS[finding][0] reads as before), then a short reason for the page, the citation, and the guidance's
own words."""

from typing import NamedTuple

from patients.models import DispensingChange
from reviews.models import Finding, Response


class Suggestion(NamedTuple):
    responses: tuple[str, ...]
    why: str  # one line for the review page, with its citation
    citation: str
    guidance: str  # the guidance's words, from the summary table and App. C


SUGGESTIONS: dict[str, Suggestion] = {
    Finding.STABLE_ADHERENCE: Suggestion(
        (Response.INTRODUCE_TAKE_HOME,),
        "App. C 1: introduce the option of some take-home doses for a patient with demonstrated stability.",
        "App. C 1",
        "The findings at review will guide consideration of modification of arrangements for dispensing, such as "
        "potential introduction of provision of take-home doses for a patient with demonstrated stability.",
    ),
    Finding.CONTINUED_GOOD_ADHERENCE: Suggestion(
        (Response.EXTEND_TAKE_HOME,),
        "App. C 1: extend take-home doses after good continued adherence since they were introduced.",
        "App. C 1",
        "... and extension of this provision after later evidence of good continued medication adherence "
        "following earlier introduction of take-home doses.",
    ),
    Finding.DETERIORATING_ADHERENCE: Suggestion(
        (Response.REINSTATE_SUPERVISION, Response.EARLIER_RE_REVIEW),
        "App. C 1: reinstate supervised dosing, with a schedule of earlier re-review.",
        "App. C 1",
        "If evidence is elicited of deterioration of adherence, then reinstatement of supervised dosing would "
        "often follow, along with a schedule of earlier re-review.",
    ),
    Finding.BENEFIT_PLATEAU: Suggestion(
        (Response.EXAMINE_PLATEAU,),
        "App. C 2: examine whether benefit has plateaued or treatment is no longer necessary; change medication "
        "only cautiously, with contingency plans.",
        "App. C 2",
        "Examine whether benefit is still being achieved and has reached a plateau (and decide whether it should "
        "be usefully continued), or whether the treatment is now no longer necessary. Any change in medical "
        "management, such as reduction or cessation of protective medication, should be applied cautiously, with "
        "contingent arrangements in place for revision of the care plan in the event of the recurrence of the "
        "condition being treated.",
    ),
    Finding.LESS_BENEFIT_THAN_EXPECTED: Suggestion(
        (Response.RECOGNISE_PARTIAL_BENEFIT, Response.SUPPLEMENTARY_INTERVENTIONS),
        "App. C 3: recognise partial benefit over the longer period; consider adjustments or supplementary "
        "interventions.",
        "App. C 3",
        "Consider the progress of the patient over the longer period and recognise partial degrees of benefit, as "
        "these can be important for the patient and for society (e.g. cessation of injecting, cessation of crime, "
        "improved physical or psychological health, improved parenting). Consider adjustments or supplementary "
        "interventions that may increase the effectiveness of the interventions.",
    ),
    Finding.NO_BENEFIT: Suggestion(
        (Response.ALTERNATIVE_TREATMENT,),
        "App. C 4: re-consider the wider range of interventions and, if agreed suitable, arrange alternative "
        "treatment.",
        "App. C 4",
        "Re-consider the wider range of available interventions and, if agreed suitable, make arrangements to "
        "access alternative treatments.",
    ),
    Finding.GOOD_PROGRESS: Suggestion(
        (Response.STEP_UP_RECOVERY_SUPPORT,),
        "App. C 5: step up recovery support (education, employment, supporting others in recovery); the "
        "clinician gradually steps back (App. C 6).",
        "App. C 5-6",
        "Step up the recovery support being provided, such as accelerating access to education and employment "
        "opportunities, and providing options to support others in their recovery. The aim of the clinician will "
        "be to gradually step back as the patient becomes more in control of managing their condition and their "
        "recovery.",
    ),
}

# Findings whose suggested responses ease supervision or step the clinician back: take-home doses introduced or
# extended (App. C 1), recovery support stepped up as the clinician steps back (App. C 5-6). The evidence pack
# never offers one without naming what in the evidence contradicts it (reviews/selectors.py contradictions).
EASING_FINDINGS = (Finding.STABLE_ADHERENCE, Finding.CONTINUED_GOOD_ADHERENCE, Finding.GOOD_PROGRESS)

# The dispensing change a response implies (App. C 1), so that the page can fill it in and the service can check
# that a response about dispensing comes with the change it names.
RESPONSE_DISPENSING = {
    Response.INTRODUCE_TAKE_HOME: DispensingChange.INTRODUCE_TAKE_HOME,
    Response.EXTEND_TAKE_HOME: DispensingChange.EXTEND_TAKE_HOME,
    Response.REINSTATE_SUPERVISION: DispensingChange.REINSTATE_SUPERVISION,
}


def suggested_responses(findings) -> list[str]:
    """The responses the guidance suggests for these findings, in order, without repeats."""
    suggested = []
    for finding in findings:
        suggestion = SUGGESTIONS.get(finding)
        for response in suggestion.responses if suggestion else ():
            if response not in suggested:
                suggested.append(response)
    return suggested


def finding_for_response(response: str, findings) -> str | None:
    """The first of these findings whose suggestion includes this response (to link the two), if any."""
    return next((f for f in findings if f in SUGGESTIONS and response in SUGGESTIONS[f].responses), None)


def suggestions_for_page(against: tuple[str, ...] = ()) -> dict:
    """The table as the review page's script reads it: finding -> responses, reason, dispensing change, and for
    a finding that eases supervision or steps the clinician back (EASING_FINDINGS), what in the evidence pack
    contradicts it (`against`, reviews/selectors.py contradictions), which the page shows beside the
    suggestion."""
    return {
        str(finding): {
            "responses": [str(r) for r in s.responses],
            "why": s.why,
            "citation": s.citation,
            "dispensing": {
                str(r): str(RESPONSE_DISPENSING[r]) for r in s.responses if r in RESPONSE_DISPENSING
            },
            "against": list(against) if finding in EASING_FINDINGS else [],
        }
        for finding, s in SUGGESTIONS.items()
    }
