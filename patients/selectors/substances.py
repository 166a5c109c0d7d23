"""The patient's own substances (docs/design.md, Domain): the problem substances recorded on the episode and those
their recent drug tests found. The drug test form starts with a row for each, and the TOP chart shows their lines."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

from patients.models import DrugTestResult, Substance, TestResult

RECENT_TEST_MONTHS = 3  # "the last three months", as the patient page compiles drug tests (§2.9)


def recent_tests_since(today: date) -> date:
    return today - relativedelta(months=RECENT_TEST_MONTHS)


def patient_substances(episode, found=()) -> list[str]:
    """The patient's own substances, in order, each once: the episode's primary drug, its other problem
    substances, then those a recent drug test found (`found`: positive and not prescribed)."""
    ordered = [episode.primary_drug, *(episode.other_substances or []), *found]
    return [
        code
        for i, code in enumerate(ordered)
        if code and code in Substance.values and code not in ordered[:i]
    ]


def substances_found(tests, *, since: date) -> list[str]:
    """The substances found positive, and not prescribed, by the drug tests (results prefetched) taken since a
    day, most recent first: no query."""
    found = []
    for test in sorted(tests, key=lambda t: t.taken_on, reverse=True):
        if test.taken_on < since:
            continue
        for result in test.results.all():
            if result.result == TestResult.POSITIVE and not result.expected_because_prescribed:
                found.append(result.substance)
    return list(dict.fromkeys(found))


def substances_found_since(episode, *, since: date) -> list[str]:
    """substances_found for an episode whose tests are not read yet: one query, tests entered in error left out,
    most recent first."""
    rows = (
        DrugTestResult.objects.filter(
            test__episode=episode,
            test__taken_on__gte=since,
            test__entered_in_error_at__isnull=True,
            test__entered_in_error_by__isnull=True,
            result=TestResult.POSITIVE,
            expected_because_prescribed=False,
        )
        .order_by("-test__taken_on", "substance")
        .values_list("substance", flat=True)
    )
    return list(dict.fromkeys(rows))
