"""The sweep: claim every reminder owed today, once, and find the stranded ones.

docs/reminders.md, "The sweep"; docs/conventions.md 6 (claim before you send).

It asks every registered kind what it owes today and claims the lot. Each reminder (episode, kind, target,
stage, recipient) is a row under the unique constraint reminder_sent_once, inserted by

    INSERT INTO reviews_reminder (...) VALUES (...), (...) ON CONFLICT (episode, kind, target, stage, recipient)
    DO NOTHING RETURNING id

which PostgreSQL and SQLite (3.35+) both run, and which returns exactly the rows this statement inserted: a
row that exists, or that a concurrent sweep inserted first, is not returned (PostgreSQL waits for the other
transaction and then skips the row; SQLite serialises writers). So a sweep knows which reminders are its own
and never counts another's; ``bulk_create(ignore_conflicts=True)`` could not say. Claims are inserted in one
total order (episode, kind, target, stage, recipient), so that two sweeps at once wait on each other instead of
deadlocking.

Catch-up: the kinds read what is owed *today* from stored dates, not what changed since the last run, so a
sweep after an outage claims whatever was missed; and a reminder claimed earlier whose delivery never ran
(its message lost with the broker, its worker killed) or whose retries ran out is *stranded*: undelivered,
unleased, and claimed longer ago than REMINDER_REDELIVER_AFTER_SECONDS. Each sweep returns those again.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from reviews.models import Reminder
from reviews.reminders import kinds
from reviews.reminders.kinds.base import Claim

# The reminder's identity (the unique constraint reminder_sent_once) first, then what else a claim writes.
CLAIM_COLUMNS = (
    "episode",
    "kind",
    "target",
    "stage",
    "recipient",
    "deadline",
    "claimed_at",
    "attempts",
    "last_error",
)
CLAIM_BATCH = 2000  # rows per INSERT: 18,000 parameters, inside SQLite's 32,766 and PostgreSQL's 65,535
STRANDED_PER_SWEEP = 5000  # a long outage's backlog is re-enqueued over a few sweeps, oldest first


@dataclass(frozen=True)
class SweepResult:
    claimed: list[int] = field(default_factory=list)  # inserted by this sweep, nobody else's
    stranded: list[int] = field(default_factory=list)  # claimed earlier, still undelivered and unleased

    @property
    def to_deliver(self) -> list[int]:
        return self.claimed + self.stranded


def reminders_sweep(*, today: date | None = None) -> SweepResult:
    """Claim every reminder owed today that nobody has claimed, and find the stranded ones.

    Returns the ids to deliver; the caller enqueues them once its transaction has committed.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    owed = sorted({claim for kind in kinds.registered() for claim in kind.owed(today)})
    with transaction.atomic():
        claimed = _claim(owed, now)
    return SweepResult(claimed=claimed, stranded=_stranded(now))


def _claim(owed: list[Claim], now) -> list[int]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the ids of the rows this statement inserted."""
    if not owed:
        return []
    if connection.vendor == "postgresql":
        return _claim_postgresql(owed, now)
    ops, meta = connection.ops, Reminder._meta
    columns = [ops.quote_name(meta.get_field(name).column) for name in CLAIM_COLUMNS]
    insert = (
        f"INSERT INTO {ops.quote_name(meta.db_table)} ({', '.join(columns)}) VALUES {{rows}} "
        f"ON CONFLICT ({', '.join(columns[:5])}) DO NOTHING RETURNING {ops.quote_name(meta.pk.column)}"
    )
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    claimed_at = ops.adapt_datetimefield_value(now)
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(owed), CLAIM_BATCH):
            batch = owed[start : start + CLAIM_BATCH]
            params = []
            for episode, kind, target, stage, recipient, deadline in batch:
                target, deadline = ops.adapt_datefield_value(target), ops.adapt_datefield_value(deadline)
                params += [episode, kind, target, stage, recipient, deadline, claimed_at, 0, ""]
            cursor.execute(insert.format(rows=", ".join([row] * len(batch))), params)
            ids += [row[0] for row in cursor.fetchall()]
    return sorted(ids)


def _claim_postgresql(owed: list[Claim], now) -> list[int]:
    """The same INSERT in one statement whatever the number of claims: the rows passed as arrays, unnested in
    their order (WITH ORDINALITY ... ORDER BY), so that they are inserted in the one total order."""
    ops, meta = connection.ops, Reminder._meta
    columns = [ops.quote_name(meta.get_field(name).column) for name in CLAIM_COLUMNS]
    insert = f"""
        INSERT INTO {ops.quote_name(meta.db_table)} ({", ".join(columns)})
        SELECT v.episode, v.kind, v.target, v.stage, v.recipient, v.deadline, %s, 0, ''
          FROM unnest(%s::bigint[], %s::varchar[], %s::date[], %s::varchar[], %s::bigint[], %s::date[])
               WITH ORDINALITY AS v(episode, kind, target, stage, recipient, deadline, position)
         ORDER BY v.position
            ON CONFLICT ({", ".join(columns[:5])}) DO NOTHING
     RETURNING {ops.quote_name(meta.pk.column)}
    """
    with connection.cursor() as cursor:
        cursor.execute(insert, [now, *(list(column) for column in zip(*owed, strict=True))])
        return sorted(row[0] for row in cursor.fetchall())


def _stranded(now) -> list[int]:
    """Undelivered, unleased reminders claimed long enough ago that their delivery message is presumed lost."""
    claimed_before = now - timedelta(seconds=settings.REMINDER_REDELIVER_AFTER_SECONDS)
    return list(
        Reminder.objects.filter(delivered_at__isnull=True, claimed_at__lt=claimed_before)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:STRANDED_PER_SWEEP]
    )
