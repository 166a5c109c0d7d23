"""The scheduling adapter: builds reviews.scheduling.ReviewFacts from the record, asks the pure policy for the
next review, and stores kind, target, deadline and reasons on the episode (indexed columns), so that caseloads
and dashboards filter and sort in SQL (docs/conventions.md 2; healthchecks stores alert_after the same way).

episode_schedule_refresh runs inside the transaction of every service that changes an input (a review, a
pharmacy report, a circumstance, an exit, a check-up). episodes_schedule_recompute is the nightly safety net
over every open episode; it reads each input with one query over all episodes, whatever their number, and
writes what changed with one UPDATE on PostgreSQL.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from patients.models import EpisodeCircumstance, MissedDose, TreatmentEpisode
from patients.models.evidence import MISSED_DOSE_SAFETY_RUN
from patients.models.record import SCHEDULE_FIELDS
from reviews.models import Finding, RecoveryCheckUp, ReviewFinding, ReviewStatus, StrategicReview
from reviews.scheduling import Policy, ReviewDue, ReviewFacts, next_review

logger = logging.getLogger(__name__)

RECORD_ERROR_KIND = "record_error"


@cache
def policy() -> Policy:
    """The policy with the overrides of settings.REVIEW_POLICY (validated: a bad name or value fails loudly)."""
    return Policy.from_overrides(settings.REVIEW_POLICY)


@dataclass(frozen=True)
class RecomputeResult:
    episodes: int
    changed: int
    errors: int


def _open_episodes() -> Q:
    """Episodes that may still owe a review or check-up: open ones, and ended ones with something still due."""
    return (
        Q(exit_date__isnull=True) | Q(next_review_target__isnull=False) | Q(schedule_computed_at__isnull=True)
    )


def _facts_by_episode(episodes: list[TreatmentEpisode], today: date, *, all_open: bool = False) -> dict:
    """ReviewFacts for each episode, from one query per kind of input whatever the number of episodes.

    With all_open the inputs are filtered by a subquery over every open episode rather than a list of ids.
    """
    open_episodes = TreatmentEpisode.objects.filter(_open_episodes())

    def scope(path: str) -> dict:
        return {f"{path}__in": open_episodes} if all_open else {f"{path}_id__in": [e.pk for e in episodes]}

    # Rule 6 (§2.4): only reviews that involved the patient count, from the date they became complete.
    completed = defaultdict(list)
    for row in (
        StrategicReview.objects.filter(status=ReviewStatus.COMPLETED, **scope("episode"))
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

    factors = defaultdict(set)
    for episode_id, code in (
        EpisodeCircumstance.objects.filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=today), started_on__lte=today, **scope("episode")
        )
        .values_list("episode_id", "code")
        .iterator(chunk_size=5000)
    ):
        factors[episode_id].add(code)

    # Rule 4 (App. C 1): deteriorating adherence is a run of missed opioid-substitute doses, dated by its last
    # missed dose, or a review finding, dated by the review. Each event calls a re-review within 28 days, so
    # the earliest event since the last completed review is the one that binds.
    adherence_events = defaultdict(list)
    for episode_id, last_missed in (
        MissedDose.objects.filter(
            report__missed_dose_run__gte=MISSED_DOSE_SAFETY_RUN,
            report__entered_in_error_at__isnull=True,  # a report entered in error calls no re-review
            **scope("report__episode"),
        )
        .values("report_id")
        .annotate(last=Max("missed_on"))
        .values_list("report__episode_id", "last")
        .iterator(chunk_size=5000)
    ):
        adherence_events[episode_id].append(last_missed)
    for episode_id, found_on in (
        ReviewFinding.objects.filter(
            code=Finding.DETERIORATING_ADHERENCE,
            review__completed_on__isnull=False,
            **scope("review__episode"),
        )
        .values_list("review__episode_id", "review__completed_on")
        .iterator(chunk_size=5000)
    ):
        adherence_events[episode_id].append(found_on)

    check_ups = defaultdict(list)
    for episode_id, sequence in (
        RecoveryCheckUp.objects.filter(**scope("episode"))
        .values_list("episode_id", "sequence")
        .iterator(chunk_size=5000)
    ):
        check_ups[episode_id].append(sequence)

    facts = {}
    for episode in episodes:
        reviews = completed.get(episode.pk, [])
        last = reviews[-1] if reviews else None
        since = last[0] if last else episode.entry_date
        events = [day for day in adherence_events.get(episode.pk, ()) if day >= since]
        facts[episode.pk] = ReviewFacts(
            entry_date=episode.entry_date,
            completed_reviews=tuple(r[0] for r in reviews),
            earlier_review_factors=frozenset(factors.get(episode.pk, ())),
            adherence_deteriorated_on=min(events, default=None),
            agreed_next_date=last[1] if last else None,
            extension_justified=bool(last and last[2] and last[3] and last[4]),
            exit_date=episode.exit_date,
            completed_check_ups=tuple(sorted(check_ups.get(episode.pk, ()))),
        )
    return facts


def _schedule_values(facts: ReviewFacts, today: date) -> tuple:
    """(kind, target, deadline, reasons, first review) for the stored columns. Inconsistent facts do not drop
    the episode out of every list: it is shown as needing correction today, with the policy's message.

    The first completed review's date is stored beside the schedule for the first-review timeliness report
    (§1.3: within 3 months, no later than 6), so that it reads one column instead of every episode's reviews."""
    first = min(facts.completed_reviews, default=None)
    try:
        due: ReviewDue | None = next_review(facts, policy=policy())
    except ValueError as error:
        return (
            RECORD_ERROR_KIND,
            today,
            today,
            [f"The record needs correcting before a review date can be set: {error}"],
            first,
        )
    if due is None:
        return "", None, None, [], first
    return due.kind, due.target, due.deadline, list(due.reasons), first


def _current_values(episode: TreatmentEpisode) -> tuple:
    return (
        episode.next_review_kind,
        episode.next_review_target,
        episode.next_review_deadline,
        list(episode.next_review_reasons or []),
        episode.first_review_completed_on,
    )


def facts_for_episode(episode: TreatmentEpisode, *, today: date | None = None) -> ReviewFacts:
    today = today or timezone.localdate()
    return _facts_by_episode([episode], today)[episode.pk]


def episode_schedule_refresh(episode: TreatmentEpisode, *, today: date | None = None) -> bool:
    """Recompute and store one episode's next review. Call it inside the transaction of the change that
    caused it: the episode row is locked, so two changes to one episode at once are stored one after the
    other, each from fresh facts. Returns whether the stored schedule changed; `episode` is updated too."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = (
            TreatmentEpisode.objects.select_for_update()
            .only("pk", "entry_date", "exit_date", *SCHEDULE_FIELDS)
            .get(pk=episode.pk)
        )
        values = _schedule_values(facts_for_episode(locked, today=today), today)
        changed = values != _current_values(locked)
        now = timezone.now()
        TreatmentEpisode.objects.filter(pk=locked.pk).update(
            next_review_kind=values[0],
            next_review_target=values[1],
            next_review_deadline=values[2],
            next_review_reasons=values[3],
            first_review_completed_on=values[4],
            schedule_computed_at=now,
        )
    (
        episode.next_review_kind,
        episode.next_review_target,
        episode.next_review_deadline,
        episode.next_review_reasons,
        episode.first_review_completed_on,
    ) = values
    episode.schedule_computed_at = now
    episode.entry_date, episode.exit_date = locked.entry_date, locked.exit_date
    return changed


def schedule_preview(
    episode: TreatmentEpisode,
    *,
    completed_on: date,
    agreed_next_date: date | None,
    extension_justified: bool,
    today: date | None = None,
    adherence_deteriorated_on: date | None = None,
) -> ReviewDue | None:
    """What the policy would make of a review completed on `completed_on` with this agreed next date, so that a
    senior practitioner sees why before saving (§1.3-1.5). Raises ValueError for impossible dates."""
    facts = facts_for_episode(episode, today=today)
    # After this review only deterioration on or after it still calls a re-review (rule 4).
    events = [
        d for d in (facts.adherence_deteriorated_on, adherence_deteriorated_on) if d and d >= completed_on
    ]
    deteriorated = min(events, default=None)
    proposed = ReviewFacts(
        entry_date=facts.entry_date,
        completed_reviews=tuple(sorted((*facts.completed_reviews, completed_on))),
        earlier_review_factors=facts.earlier_review_factors,
        adherence_deteriorated_on=deteriorated,
        agreed_next_date=agreed_next_date,
        extension_justified=extension_justified,
        exit_date=facts.exit_date,
        completed_check_ups=facts.completed_check_ups,
    )
    return next_review(proposed, policy=policy())


def episodes_schedule_recompute(*, today: date | None = None) -> RecomputeResult:
    """Recompute every open episode (the periodic safety net). Reads with a fixed number of queries and writes
    only what changed. A row changed by a service since it was read here is left alone (compare-and-set on
    schedule_computed_at), so the sweep never overwrites a fresher answer."""
    today = today or timezone.localdate()
    episodes = list(
        TreatmentEpisode.objects.filter(_open_episodes())
        .only("pk", "entry_date", "exit_date", *SCHEDULE_FIELDS)
        .order_by("pk")
    )
    facts = _facts_by_episode(episodes, today, all_open=True)
    now = timezone.now()
    changed, errors = [], 0
    for episode in episodes:
        values = _schedule_values(facts[episode.pk], today)
        errors += values[0] == RECORD_ERROR_KIND
        if values != _current_values(episode):
            changed.append((episode, values))
    with transaction.atomic():
        written = _write_changes(changed, now)
    logger.info("Recomputed %d episodes: %d changed, %d need correcting", len(episodes), written, errors)
    return RecomputeResult(episodes=len(episodes), changed=written, errors=errors)


def _write_changes(changed: list, now) -> int:
    if not changed:
        return 0
    if connection.vendor == "postgresql":
        return _write_changes_postgresql(changed, now)
    written = 0
    for episode, (kind, target, deadline, reasons, first_review) in changed:
        seen = episode.schedule_computed_at
        unchanged_since_read = (
            {"schedule_computed_at": seen} if seen else {"schedule_computed_at__isnull": True}
        )
        written += TreatmentEpisode.objects.filter(pk=episode.pk, **unchanged_since_read).update(
            next_review_kind=kind,
            next_review_target=target,
            next_review_deadline=deadline,
            next_review_reasons=reasons,
            first_review_completed_on=first_review,
            schedule_computed_at=now,
        )
    return written


def _write_changes_postgresql(changed: list, now) -> int:
    """One UPDATE ... FROM unnest(...) for every changed episode, compare-and-set on schedule_computed_at."""
    import json

    table = TreatmentEpisode._meta.db_table
    sql = f"""
        UPDATE {table} AS e
           SET next_review_kind = v.kind, next_review_target = v.target, next_review_deadline = v.deadline,
               next_review_reasons = v.reasons::jsonb, first_review_completed_on = v.first_review,
               schedule_computed_at = %s
          FROM unnest(%s::bigint[], %s::varchar[], %s::date[], %s::date[], %s::text[], %s::date[],
                      %s::timestamptz[])
               AS v(id, kind, target, deadline, reasons, first_review, seen)
         WHERE e.id = v.id AND e.schedule_computed_at IS NOT DISTINCT FROM v.seen
    """
    params = [
        now,
        [e.pk for e, _ in changed],
        [v[0] for _, v in changed],
        [v[1] for _, v in changed],
        [v[2] for _, v in changed],
        [json.dumps(v[3]) for _, v in changed],
        [v[4] for _, v in changed],
        [e.schedule_computed_at for e, _ in changed],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
