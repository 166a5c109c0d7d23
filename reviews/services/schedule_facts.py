"""The facts of the review scheduling policy read from the record (reviews.services.schedule, the adapter;
docs/design.md, Review scheduling policy): one query for each kind of input whatever the number of episodes,
each a read of its own so that the nightly recompute can run them at once (recovery_reviews.parallel_reads),
and the assembly of each episode's reviews.scheduling.ReviewFacts from them.
"""

from collections import defaultdict
from datetime import date
from functools import partial

from django.db.models import Q

from patients.models import EpisodeCircumstance, Intervention, MissedDose, TreatmentEpisode
from reviews.models import (
    CheckUpOutcome,
    ElementCheckUp,
    Finding,
    RecoveryCheckUp,
    ReviewFinding,
    ReviewStatus,
    StrategicReview,
)
from reviews.scheduling import Policy, ReviewFacts
from reviews.scheduling_missed_doses import missed_dose_deterioration
from reviews.services.transitions import (
    ELEMENT_KINDS,
    NOT_BENEFITING,
    NOT_BENEFITING_FINDINGS,
    ElementRow,
    transitions_and_element_ends,
)


def open_episodes() -> Q:
    """Episodes that may still owe a review or check-up: open ones, and ended ones with something still due."""
    return (
        Q(exit_date__isnull=True) | Q(next_review_target__isnull=False) | Q(schedule_computed_at__isnull=True)
    )


def _relapse_risk_on(held: tuple[date, str] | None, episode: TreatmentEpisode) -> date | None:
    """Rule 7c: the latest held check-up (an attempt that could not reach the patient is not held), when it found
    early signs of relapse. For an ended episode only a check-up after exit counts."""
    if held is None or held[1] != CheckUpOutcome.RELAPSE_RISK:
        return None
    if episode.exit_date is not None and held[0] < episode.exit_date:
        return None
    return held[0]


def fact_reads(episodes: list, today: date, *, all_open: bool = False, missed: bool = True) -> dict:
    """The reads of every input of the facts, each a callable with no argument that runs one query whatever the
    number of episodes and returns the input by episode id, under the name the assembly (facts_assembled) takes
    it by. With all_open the inputs are filtered by a subquery over every open episode
    rather than a list of ids (`episodes` is not read). Without `missed` the missed doses are left to the
    caller (the recompute reads them with the safety events)."""
    every_open = TreatmentEpisode.objects.filter(open_episodes())

    def scope(path: str) -> dict:
        return {f"{path}__in": every_open} if all_open else {f"{path}_id__in": [e.pk for e in episodes]}

    reads = {
        "completed": partial(_completed_reviews, scope("episode")),
        "factors": partial(_circumstances, scope("episode"), today),
        "missed": partial(_missed_days, scope("report__episode")),
        "adherence_findings": partial(_adherence_findings, scope("review__episode")),
        "no_benefit_findings": partial(_no_benefit_findings, scope("review__episode")),
        "elements": partial(_elements, scope("episode")),
        "check_ups": partial(_check_ups, scope("episode")),
        "element_check_ups": partial(_element_check_ups, scope("episode")),
    }
    if not missed:
        del reads["missed"]
    return reads


def _completed_reviews(scope: dict) -> dict:
    """Rule 6 (§2.4): only reviews that involved the patient count, from the date they became complete."""
    completed = defaultdict(list)
    for row in (
        StrategicReview.objects.filter(status=ReviewStatus.COMPLETED, **scope)
        .order_by("episode_id", "completed_on", "pk")
        .values_list(
            "episode_id",
            "completed_on",
            "agreed_next_date",
            "clear_continuing_benefit",
            "no_significant_change_envisaged",
            "patient_agrees_interval",
        )
        .iterator(chunk_size=5000)
    ):
        completed[row[0]].append(row[1:])
    return completed


def _grouped(rows, into: type = list) -> dict:
    """(episode id, value) rows as a list (or set) of values by episode id."""
    grouped = defaultdict(into)
    add = list.append if into is list else set.add
    for episode_id, value in rows:
        add(grouped[episode_id], value)
    return grouped


def _circumstances(scope: dict, today: date) -> dict:
    """Rule 3 (§1.6): the codes of the circumstances current today."""
    current = EpisodeCircumstance.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=today), started_on__lte=today, **scope
    )
    return _grouped(current.values_list("episode_id", "code").iterator(chunk_size=5000), set)


def _missed_days(scope: dict) -> dict:
    """Rule 4 with 4b (App. C 1): the missed days of each episode's pharmacy reports, a report entered in error
    left out (it calls no re-review)."""
    doses = MissedDose.objects.filter(report__entered_in_error_at__isnull=True, **scope)
    return _grouped(doses.values_list("report__episode_id", "missed_on").iterator(chunk_size=5000))


def _findings(codes, scope: dict, into: type) -> dict:
    """The completed reviews' dates that found any of `codes`, by episode id."""
    found = ReviewFinding.objects.filter(code__in=codes, review__completed_on__isnull=False, **scope)
    rows = found.values_list("review__episode_id", "review__completed_on").iterator(chunk_size=5000)
    return _grouped(rows, into)


def _adherence_findings(scope: dict) -> dict:
    """Rule 4 (App. C 1): deteriorating adherence found at a review, dated by the review."""
    return _findings([Finding.DETERIORATING_ADHERENCE], scope, list)


def _no_benefit_findings(scope: dict) -> dict:
    """Rule 3c (App. C 3-4): the reviews that found no appearance of benefit, or benefit less than anticipated."""
    return _findings(NOT_BENEFITING_FINDINGS, scope, set)


def _elements(scope: dict) -> dict:
    """Rule 3b (§1.6, App. C 2): the starts and ends of OST, detox, residential and inpatient treatment, OST dose
    reductions and changes of medicine."""
    elements = defaultdict(list)
    for episode_id, *row in (
        Intervention.objects.filter(kind__in=ELEMENT_KINDS, **scope)
        .order_by("episode_id", "started_on", "pk")
        .values_list("episode_id", "kind", "medicine", "daily_dose_mg", "started_on", "ended_on")
        .iterator(chunk_size=5000)
    ):
        elements[episode_id].append(ElementRow(*row))
    return elements


def _check_ups(scope: dict) -> tuple[dict, dict]:
    """Rules 7 and 7c (§1.7): the check-ups held, and the latest of them. An attempt that could not reach the
    patient is kept on the record but holds nothing: the same check-up stays owed, and it is not the latest held
    check-up."""
    check_ups = defaultdict(list)
    latest_check_up = {}
    for episode_id, sequence, held_on, outcome in (
        RecoveryCheckUp.objects.filter(**scope)
        .exclude(outcome=CheckUpOutcome.NOT_REACHED)
        .order_by("episode_id", "held_on", "sequence")
        .values_list("episode_id", "sequence", "held_on", "outcome")
        .iterator(chunk_size=5000)
    ):
        check_ups[episode_id].append(sequence)
        latest_check_up[episode_id] = (held_on, outcome)
    return check_ups, latest_check_up


def _element_check_ups(scope: dict) -> dict:
    """Rule 7b (§1.7): the check-ups held after an element ended (an attempt that could not reach the patient
    holds nothing, as with rule 7)."""
    held = ElementCheckUp.objects.filter(**scope).exclude(outcome=CheckUpOutcome.NOT_REACHED).order_by()
    return _grouped(held.values_list("episode_id", "element_end").iterator(chunk_size=5000), set)


def facts_assembled(episodes: list, inputs: dict, rules: Policy) -> dict:
    """ReviewFacts for each episode from the inputs _fact_reads read, by name."""
    completed, factors, missed = inputs["completed"], inputs["factors"], inputs["missed"]
    adherence_findings, no_benefit_findings = inputs["adherence_findings"], inputs["no_benefit_findings"]
    elements, element_check_ups = inputs["elements"], inputs["element_check_ups"]
    check_ups, latest_check_up = inputs["check_ups"]
    # Rule 4 with 4b (App. C 1): deteriorating adherence is a run of three or more missed opioid-substitute doses,
    # read across all the episode's pharmacy reports together (a report entered in error calls no re-review), dated
    # on the run's third missed day; or a review finding, dated by the review. Each event calls a re-review within
    # 28 days, so the earliest event since the last completed review is the one that binds.
    from patients.services.evidence import holds_run  # imports the adapter, which imports this module

    run = rules.missed_dose_safety_run
    facts = {}
    for episode in episodes:
        pk, entry_date, exit_date = episode.pk, episode.entry_date, episode.exit_date
        reviews = completed.get(pk, ())
        last = reviews[-1] if reviews else None
        since = last[0] if last else entry_date
        events = [day for day in adherence_findings.get(pk, ()) if day >= since]
        missed_days = missed.get(pk)
        # Most episodes have no run of `run` missed days at all: only those that do are read run by run.
        if missed_days and holds_run(missed_days, run):
            missed_run = missed_dose_deterioration(missed_days, since, policy=rules)
            if missed_run is not None:
                events.append(missed_run)
        factors_now = factors.get(pk, frozenset())
        if last and last[0] in no_benefit_findings.get(pk, ()):
            factors_now = factors_now | {NOT_BENEFITING}
        held = latest_check_up.get(pk)
        rows = elements.get(pk)
        transitions, ends = transitions_and_element_ends(rows, episode) if rows else ((), ())
        ends_held = element_check_ups.get(pk) if ends else None
        facts[pk] = ReviewFacts(
            entry_date=entry_date,
            completed_reviews=tuple([r[0] for r in reviews]),
            earlier_review_factors=frozenset(factors_now),
            adherence_deteriorated_on=min(events) if events else None,
            agreed_next_date=last[1] if last else None,
            extension_justified=bool(last and last[2] and last[3] and last[4]),
            exit_date=exit_date,
            completed_check_ups=tuple(sorted(check_ups[pk])) if pk in check_ups else (),
            transitions=transitions,
            exit_reason=(episode.exit_reason or None) if exit_date else None,
            element_ends=ends,
            # A check-up held for an end since corrected to another day is not this end's: that one is owed.
            element_check_ups=tuple(sorted(ends_held.intersection(ends))) if ends_held else (),
            relapse_risk_on=_relapse_risk_on(held, episode) if held else None,
        )
    return facts
