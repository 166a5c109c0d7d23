"""Suggested responses to a review's findings: the guidance's table 'Responding to particular findings in a
review' and Appendix C. A suggestion is offered, never applied without the practitioner choosing it."""

from reviews.models import Finding, Response

SUGGESTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    Finding.STABLE_ADHERENCE: ((Response.INTRODUCE_TAKE_HOME,), "App. C 1: introduce some take-home doses."),
    Finding.CONTINUED_GOOD_ADHERENCE: ((Response.EXTEND_TAKE_HOME,), "App. C 1: extend take-home doses."),
    Finding.DETERIORATING_ADHERENCE: (
        (Response.REINSTATE_SUPERVISION, Response.EARLIER_RE_REVIEW),
        "App. C 1: reinstate supervised dosing, with a schedule of earlier re-review.",
    ),
    Finding.BENEFIT_PLATEAU: (
        (Response.EXAMINE_PLATEAU,),
        "App. C 2: examine whether benefit has plateaued; any change in medication cautiously, with contingency plans.",
    ),
    Finding.LESS_BENEFIT_THAN_EXPECTED: (
        (Response.RECOGNISE_PARTIAL_BENEFIT, Response.SUPPLEMENTARY_INTERVENTIONS),
        "App. C 3: recognise partial benefit over the longer period; consider supplementary interventions.",
    ),
    Finding.NO_BENEFIT: (
        (Response.ALTERNATIVE_TREATMENT,),
        "App. C 4: re-consider the range of interventions.",
    ),
    Finding.GOOD_PROGRESS: ((Response.STEP_UP_RECOVERY_SUPPORT,), "App. C 5: step up recovery support."),
}


def suggested_responses(findings) -> list[str]:
    """The responses the guidance suggests for these findings, in order, without repeats."""
    suggested = []
    for finding in findings:
        for response in SUGGESTIONS.get(finding, ((), ""))[0]:
            if response not in suggested:
                suggested.append(response)
    return suggested
