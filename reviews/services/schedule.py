"""The scheduling adapter: builds reviews.scheduling.ReviewFacts from the record, asks the pure policy for every
item the episode owes, and stores each as a reviews.models.OwedItem row (kind, target, deadline, reasons; indexed),
with the first of them in the episode's next_review_* columns, so that caseloads, lists, dashboards and reminders
filter and sort in SQL and no item hides another (docs/conventions.md 2; healthchecks stores alert_after the same
way).

episode_schedule_refresh runs inside the transaction of every service that changes an input (a review, a
pharmacy report, a circumstance, an exit, a check-up). episodes_schedule_recompute is the nightly safety net
over every open episode; it reads each input with one query over all episodes, whatever their number, and
writes what changed with one UPDATE on PostgreSQL.
"""

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import cache, partial
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from patients.models import EpisodeCircumstance, TreatmentEpisode
from patients.models.record import SCHEDULE_FIELDS
from recovery_reviews.formatting import day
from recovery_reviews.parallel_reads import parallel_reads_apply, reads_at_once, written_beside
from reviews.models import OwedItem
from reviews.scheduling import (
    KINDS,
    Policy,
    ReviewDue,
    ReviewFacts,
    next_review,
    owed,
)
from reviews.services.schedule_facts import fact_reads, facts_assembled, open_episodes
from reviews.services.schedule_writes import (
    columns_prepared,
    columns_written,
    items_prepared,
    items_written,
    owed_items_replace,
    schedule_columns_write,
)
from reviews.services.transitions import NOT_BENEFITING

logger = logging.getLogger(__name__)

RECORD_ERROR_KIND = "record_error"
# The nightly recompute computes and writes this many episodes at a time: each chunk is written while the next is
# computed (episodes_schedule_recompute).
RECOMPUTE_CHUNK = 20_000


@cache
def policy() -> Policy:
    """The policy with the overrides of settings.REVIEW_POLICY (validated: a bad name or value fails loudly)."""
    return Policy.from_overrides(settings.REVIEW_POLICY)


@dataclass(frozen=True)
class RecomputeResult:
    episodes: int
    changed: int
    errors: int


EPISODE_FIELDS = ("pk", "entry_date", "exit_date", "exit_reason", *SCHEDULE_FIELDS)


class EpisodeRow(NamedTuple):
    """An episode as the recompute reads it (EPISODE_FIELDS): a tuple, not a model instance, at England scale."""

    pk: int
    entry_date: date
    exit_date: date | None
    exit_reason: str
    next_review_kind: str
    next_review_target: date | None
    next_review_deadline: date | None
    next_review_reasons: list
    first_review_completed_on: date | None
    schedule_computed_at: object


def _episode_rows(episodes) -> list[EpisodeRow]:
    """The episodes of a queryset as EpisodeRow, in id order: one query. The reasons are read as JSON text and
    decoded once for each distinct text (most are shared by many episodes). On PostgreSQL schedule_computed_at,
    the recompute's compare-and-set token, is read as the server's text and given back as it came
    (schedule_writes): compared, never read as a moment, it need not be made a datetime (300,000 of them: 2 s)."""
    decoded = _json_decoder(list)
    rows = episodes.order_by("pk").annotate(reasons_text=Cast("next_review_reasons", TextField()))
    fields = [f if f != "next_review_reasons" else "reasons_text" for f in EPISODE_FIELDS]
    if connection.vendor == "postgresql":
        rows = rows.annotate(token=_token())
        fields[-1] = "token"
    return [
        EpisodeRow(*row[:7], decoded(row[7]), *row[8:])
        for row in rows.values_list(*fields).iterator(chunk_size=5000)
    ]


def _token() -> Cast:
    """schedule_computed_at as text, the compare-and-set token on PostgreSQL (_episode_rows)."""
    return Cast("schedule_computed_at", TextField())


def _tokens() -> dict[int, str | None]:
    """Every open episode's token (_episode_rows), by id: read first, before any fact, when the reads run at
    once (episodes_schedule_recompute)."""
    return dict(
        TreatmentEpisode.objects.filter(open_episodes())
        .annotate(token=_token())
        .values_list("pk", "token")
        .iterator(chunk_size=5000)
    )


def _json_decoder(kind):
    """A decoder of JSON texts into `kind` (list or tuple) that decodes each distinct text once; None is empty."""
    seen = {None: kind()}

    def decoded(text):
        try:
            return seen[text]
        except KeyError:
            value = seen[text] = kind(json.loads(text) or ())
            return value

    return decoded


def _facts_by_episode(
    episodes: list, today: date, *, all_open: bool = False, missed: dict | None = None
) -> dict:
    """ReviewFacts for each episode, from one query per kind of input whatever the number of episodes.

    With all_open the inputs are filtered by a subquery over every open episode rather than a list of ids. With
    `missed` (episode id -> missed days of reports not entered in error, already read) the missed doses are not
    read again.
    """
    reads = fact_reads(episodes, today, all_open=all_open, missed=missed is None)
    inputs = {name: read() for name, read in reads.items()}
    if missed is not None:
        inputs["missed"] = missed
    return facts_assembled(episodes, inputs, policy())


class Item(NamedTuple):
    """One owed item as stored (an OwedItem row), comparable with what is stored already."""

    kind: str
    target: date
    deadline: date
    reasons: tuple[str, ...]
    element_end: date | None = None


class Stored(NamedTuple):
    """What the adapter stores for one episode: its owed items, the first of them (the episode's next_review_*
    columns) and the date of its first completed review."""

    items: tuple[Item, ...]
    first_review: date | None
    reasons: tuple[str, ...] = ()  # why nothing is owed, when that is stored (back in treatment)

    @property
    def columns(self) -> tuple:
        """The episode's next_review_kind, _target, _deadline and _reasons."""
        if not self.items:
            return "", None, None, list(self.reasons)
        first = self.items[0]
        return first.kind, first.target, first.deadline, list(first.reasons)


def _item_order(item: Item) -> tuple:
    """The policy's order of owed items (reviews.scheduling.owed): target, deadline, kind, element end."""
    kind = KINDS.index(item.kind) if item.kind in KINDS else -1
    return item.target, item.deadline, kind, item.element_end or date.min


def _schedule_values(facts: ReviewFacts, today: date) -> Stored:
    """Every item the facts owe. Inconsistent facts do not drop the episode out of every list: it owes one item,
    "needs correction today", with the policy's message.

    The first completed review's date is stored beside the schedule for the first-review timeliness report
    (§1.3: within 3 months, no later than 6), so that it reads one column instead of every episode's reviews."""
    first = min(facts.completed_reviews, default=None)
    try:
        items = owed(facts, policy=policy())
    except ValueError as error:
        reason = f"The record needs correcting before a review date can be set: {error}"
        return Stored((Item(RECORD_ERROR_KIND, today, today, (reason,)),), first)
    return Stored(
        tuple(Item(due.kind, due.target, due.deadline, tuple(due.reasons), due.element_end) for due in items),
        first,
    )


def back_in_treatment_reason(back_on: date) -> str:
    return (
        f"The patient is back in treatment from {day(back_on)} (a later episode): the recovery check-ups of this "
        "episode stop, and the later episode's own reviews follow (§1.7)."
    )


def _back_in_treatment_on(episodes: list[TreatmentEpisode], *, all_open: bool = False) -> dict[int, date]:
    """Rule 7c (§1.7 "rapid access back into treatment"): for each ended episode whose patient has a later
    episode, begun on or after its exit, the entry date of the first such episode. One query for all the
    episodes (filtered like _facts_by_episode's with all_open), none when none of them has ended.

    A later episode counts whether it is still open or has since ended too: once the patient is back in
    treatment, the earlier episode owes nothing more ("nothing more", whatever happens next), and the later
    episode owes its own strategic reviews and, after its own exit, its own check-ups. Rule 7's check-ups of
    two exits at once would be one patient called twice, with the earlier series out of date."""
    ended = [e.pk for e in episodes if e.exit_date is not None]
    if not ended:
        return {}
    later = (
        TreatmentEpisode.objects.filter(
            patient_id=OuterRef("patient_id"), entry_date__gte=OuterRef("exit_date")
        )
        .exclude(pk=OuterRef("pk"))
        .order_by("entry_date", "pk")
        .values("entry_date")[:1]
    )
    rows = TreatmentEpisode.objects.filter(exit_date__isnull=False)
    rows = rows.filter(open_episodes()) if all_open else rows.filter(pk__in=ended)
    return dict(
        rows.annotate(back_on=Subquery(later)).filter(back_on__isnull=False).values_list("pk", "back_on")
    )


def _stored_values(facts: ReviewFacts, today: date, back_on: date | None) -> Stored:
    """_schedule_values, except that an ended episode whose patient is back in treatment since `back_on` owes
    nothing, with the reason stored (docs/design.md rule 7c). A record that needs correcting still says so."""
    values = _schedule_values(facts, today)
    if back_on is None or (values.items and values.items[0].kind == RECORD_ERROR_KIND):
        return values
    return Stored((), values.first_review, (back_in_treatment_reason(back_on),))


def _current_values(episode: TreatmentEpisode, items: Iterable[Item]) -> Stored:
    reasons = () if episode.next_review_target else tuple(episode.next_review_reasons or ())
    return Stored(tuple(sorted(items, key=_item_order)), episode.first_review_completed_on, reasons)


def _unchanged(values: Stored, episode: TreatmentEpisode, items: Iterable[Item]) -> bool:
    """Whether what is stored (the items, and the episode's columns) is what the policy says now."""
    columns = (
        episode.next_review_kind,
        episode.next_review_target,
        episode.next_review_deadline,
        list(episode.next_review_reasons or []),
    )
    return values == _current_values(episode, items) and values.columns == columns


ITEM_COLUMNS = ("episode_id", "kind", "target", "deadline", "reasons", "element_end")


def _items_stored(episodes: Q | list[int]) -> dict[int, list[Item]]:
    """The owed items stored for these episodes (ids, or a filter on the episode), by episode: one query."""
    rows = OwedItem.objects.filter(
        episode_id__in=episodes
        if isinstance(episodes, list)
        else TreatmentEpisode.objects.filter(episodes).values("pk")
    )
    stored = defaultdict(list)
    decoded = _json_decoder(tuple)  # each distinct text decoded once, as in _episode_rows
    columns = [c if c != "reasons" else "reasons_text" for c in ITEM_COLUMNS]
    rows = rows.annotate(reasons_text=Cast("reasons", TextField())).values_list(*columns)
    # Not .iterator(): a server-side cursor is planned for its first rows (PostgreSQL's cursor_tuple_fraction),
    # and over a subquery of every open episode that plan took 6.6 s against about 3 s for all 300,000 rows at once.
    for episode_id, kind, target, deadline, reasons, element_end in rows:
        stored[episode_id].append(Item(kind, target, deadline, decoded(reasons), element_end))
    return stored


def facts_for_episode(episode: TreatmentEpisode, *, today: date | None = None) -> ReviewFacts:
    today = today or timezone.localdate()
    return _facts_by_episode([episode], today)[episode.pk]


def episode_schedule_refresh(episode: TreatmentEpisode, *, today: date | None = None) -> bool:
    """Recompute and store one episode's owed items. Call it inside the transaction of the change that caused
    it: the episode row is locked, so two changes to one episode at once are stored one after the other, each
    from fresh facts. Returns whether what is stored changed; `episode` is updated too."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = (
            TreatmentEpisode.objects.select_for_update()
            .only("pk", "entry_date", "exit_date", "exit_reason", *SCHEDULE_FIELDS)
            .get(pk=episode.pk)
        )
        back_on = _back_in_treatment_on([locked]).get(locked.pk)
        values = _stored_values(facts_for_episode(locked, today=today), today, back_on)
        items = _items_stored([locked.pk]).get(locked.pk, [])
        changed = not _unchanged(values, locked, items)
        now = timezone.now()
        kind, target, deadline, reasons = values.columns
        TreatmentEpisode.objects.filter(pk=locked.pk).update(
            next_review_kind=kind,
            next_review_target=target,
            next_review_deadline=deadline,
            next_review_reasons=reasons,
            first_review_completed_on=values.first_review,
            schedule_computed_at=now,
        )
        if values.items != _current_values(locked, items).items:
            owed_items_replace({locked.pk: values})
    (
        episode.next_review_kind,
        episode.next_review_target,
        episode.next_review_deadline,
        episode.next_review_reasons,
    ) = values.columns
    episode.first_review_completed_on = values.first_review
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
    not_benefiting: bool = False,
) -> ReviewDue | None:
    """What the policy would make of a review completed on `completed_on` with this agreed next date, so that a
    senior practitioner sees why before saving (§1.3-1.5). `not_benefiting`: this review finds no appearance of
    benefit, or benefit less than anticipated (rule 3c). Raises ValueError for impossible dates."""
    today = today or timezone.localdate()
    facts = facts_for_episode(episode, today=today)
    # After this review only deterioration on or after it still calls a re-review (rule 4).
    events = [
        d for d in (facts.adherence_deteriorated_on, adherence_deteriorated_on) if d and d >= completed_on
    ]
    deteriorated = min(events, default=None)
    # Rule 3c reads the last completed review, which this one would become; a recorded circumstance still counts.
    factors = set(facts.earlier_review_factors) - {NOT_BENEFITING}
    if not_benefiting or _not_benefiting_recorded(episode, today):
        factors.add(NOT_BENEFITING)
    proposed = replace(
        facts,
        completed_reviews=tuple(sorted((*facts.completed_reviews, completed_on))),
        earlier_review_factors=frozenset(factors),
        adherence_deteriorated_on=deteriorated,
        agreed_next_date=agreed_next_date,
        extension_justified=extension_justified,
    )
    return next_review(proposed, policy=policy())


def _not_benefiting_recorded(episode: TreatmentEpisode, today: date) -> bool:
    return EpisodeCircumstance.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=today),
        episode=episode,
        code=NOT_BENEFITING,
        started_on__lte=today,
    ).exists()


def episodes_schedule_recompute(*, today: date | None = None) -> RecomputeResult:
    """Recompute every open episode (the periodic safety net). Reads with a fixed number of queries and writes
    only what changed. A row changed by a service since it was read here is left alone (compare-and-set on
    schedule_computed_at), so the sweep never overwrites a fresher answer: each episode's token is read before
    any of its facts, so that a service committing between two reads is always seen as a change of token.

    The safety events the pharmacy reports of these episodes store (runs of missed doses read across reports,
    docs/design.md rule 4b) are stored again too, the same safety net for records loaded in bulk (the seeders).
    When it replaces many owed items, the kept counts of the items are rebuilt in its transaction instead of a
    change row an item (docs/design.md, Figures kept between requests).

    On PostgreSQL outside a transaction (the nightly task, the command) the reads run at once, each on a
    connection of its own (recovery_reviews.parallel_reads): the tokens are read first, alone, and an episode
    whose row, read later, carries another token is left for the next run, as a service has just stored it. The
    episodes are then computed a chunk at a time (RECOMPUTE_CHUNK), and each chunk's changes are written, in one
    transaction for the whole run, on a thread and connection of their own while the next chunk is computed
    (recovery_reviews.parallel_reads.written_beside); elsewhere each chunk is written before the next is computed."""
    from patients.services.evidence import safety_events_recompute  # imports this module: read when called

    today = today or timezone.localdate()
    tokens = _tokens() if parallel_reads_apply() else None
    missed: dict[int, list[date]] = {}  # read once, for the safety events and the schedule (rule 4b)
    reads = {  # the longest first: they start first when run at once
        "safety_events": partial(
            safety_events_recompute,
            episodes=TreatmentEpisode.objects.filter(open_episodes()),
            missed_out=missed,
            missed_out_run=policy().missed_dose_safety_run,
        ),
        "episodes": partial(_episode_rows, TreatmentEpisode.objects.filter(open_episodes())),
        "stored": partial(_items_stored, open_episodes()),
        **fact_reads([], today, all_open=True, missed=False),
    }
    # In turn, on this connection: the episodes (and their tokens) first, as they are listed.
    if tokens is None:
        reads = {"episodes": reads.pop("episodes"), **reads}
    inputs = reads_at_once(reads)
    episodes, stored = inputs["episodes"], inputs["stored"]
    if tokens is not None:
        episodes = [e for e in episodes if tokens.get(e.pk, e) == e.schedule_computed_at]
    inputs["missed"] = missed
    back = _back_in_treatment_on(episodes, all_open=True)
    now = timezone.now()
    errors = 0

    def writes():
        """Each chunk's write, as its changes are known: (the owed item rows it may replace, the write)."""
        nonlocal errors
        rules = policy()
        for start in range(0, len(episodes), RECOMPUTE_CHUNK):
            chunk = episodes[start : start + RECOMPUTE_CHUNK]
            facts = facts_assembled(chunk, inputs, rules)
            changed, items_changed = [], set()
            for episode in chunk:
                values = _stored_values(facts[episode.pk], today, back.get(episode.pk))
                errors += bool(values.items) and values.items[0].kind == RECORD_ERROR_KIND
                items = stored.get(episode.pk, ())
                if not _unchanged(values, episode, items):
                    changed.append((episode, values))
                    if values.items != _current_values(episode, items).items:
                        items_changed.add(episode.pk)
            if changed:
                rows = sum(
                    len(values.items) + len(stored.get(episode.pk, ()))
                    for episode, values in changed
                    if episode.pk in items_changed
                )
                yield rows, _chunk_write(changed, items_changed, stored, now)

    written = set().union(*written_beside(writes(), partial(_writes_committed, today=today)))
    logger.info("Recomputed %d episodes: %d changed, %d need correcting", len(episodes), len(written), errors)
    return RecomputeResult(episodes=len(episodes), changed=len(written), errors=errors)


def _writes_committed(writes, *, today: date) -> list[set[int]]:
    """The recompute's writes in one transaction (reviews.dashboards.owed_counts.writes_counted: many items
    replaced, and their kept counts are rebuilt in it instead of a change row an item). A transaction of its own
    on PostgreSQL (recovery_reviews.parallel_reads.written_beside) checks its foreign keys as each statement runs,
    while the next chunk is computed, rather than all at once when it commits."""
    from reviews.dashboards import owed_counts  # imports this module too (reviews.status)

    own = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if own:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return owed_counts.writes_counted(writes, today=today)


def _chunk_write(changed: list, items_changed: set[int], stored: dict, now) -> Callable[[], set[int]]:
    """The write of one chunk's changes: the episodes' columns compare-and-set on schedule_computed_at, then the
    items of those written whose items changed. Only an episode read with items stored may have some: a service
    that stored items since moved schedule_computed_at, and that episode was not written. The write returns the
    ids written. On PostgreSQL its statements' parameters are made ready here, before it is called (the recompute
    makes them while the previous chunk is being written): the items' for every episode changed, made again for
    those written only when a service stored one of them in the meantime (rare)."""
    replaced = {episode.pk: values for episode, values in changed if episode.pk in items_changed}
    had_items = replaced.keys() & stored.keys()

    def items(among: set[int]) -> dict:
        return {pk: values for pk, values in replaced.items() if pk in among}

    if connection.vendor != "postgresql":

        def write() -> set[int]:
            written = schedule_columns_write(changed, now)
            owed_items_replace(items(written), stored=had_items)
            return written

        return write
    columns = columns_prepared(changed, now)
    prepared = items_prepared(replaced, stored=had_items)

    def write() -> set[int]:
        written = columns_written(columns)
        if len(written) < len(changed):  # compare-and-set left some: their items are not replaced
            if kept := items(written):
                items_written(items_prepared(kept, stored=had_items))
        elif replaced:
            items_written(prepared)
        return written

    return write


def episodes_schedule_store(episode_ids: list[int], *, today: date | None = None) -> int:
    """Store the schedule of these episodes, whatever was stored before (docs/design.md, Review scheduling policy):
    the steps of episodes_schedule_recompute for these alone, in the caller's transaction (records loaded in bulk,
    such as an imported caseload, whose episodes have nothing stored yet). Returns how many need correcting."""
    if not episode_ids:
        return 0
    today = today or timezone.localdate()
    episodes = _episode_rows(TreatmentEpisode.objects.filter(pk__in=episode_ids))
    facts = _facts_by_episode(episodes, today)
    back = _back_in_treatment_on(episodes)
    values = {e.pk: _stored_values(facts[e.pk], today, back.get(e.pk)) for e in episodes}
    written = schedule_columns_write([(e, values[e.pk]) for e in episodes], timezone.now())
    owed_items_replace({pk: v for pk, v in values.items() if pk in written})
    return sum(1 for v in values.values() if v.items and v.items[0].kind == RECORD_ERROR_KIND)
