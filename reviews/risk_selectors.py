"""The reads behind disengagement (Intro, App. B) and the risk level (§2.2), for lists and for one episode, with a
fixed number of queries whatever the number of rows: the facts are annotated on the episodes' own query as
correlated subqueries (with_risk_facts), and the transitions of the last three months are one query for a page
(transitions_by_episode). The rules themselves are pure, in reviews/risk.py.
docs/design.md, Risk level and disengagement."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from django.core.exceptions import FieldError
from django.db.models import (
    BooleanField,
    Count,
    DateTimeField,
    Exists,
    Expression,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from patients.models import (
    MISSED_DOSE_SAFETY_RUN,
    Appointment,
    AppointmentStatus,
    Intervention,
    InterventionKind,
    PharmacyReport,
    TopAssessment,
    TreatmentEpisode,
)
from reviews import risk
from reviews.models import CheckUpOutcome, ElementCheckUp, RecoveryCheckUp
from reviews.services.transitions import ELEMENT_KINDS, element_row, treatment_transitions_described

_LONG_AGO = datetime(1900, 1, 1, tzinfo=UTC)  # before any appointment: "none attended yet"


def _first(queryset, field: str, order: tuple[str, ...]):
    return Subquery(queryset.order_by(*order).values(field)[:1])


def with_disengagement_facts(episodes: QuerySet, *, today: date) -> QuerySet:
    """The episodes with what the disengagement rule reads, in their own query: the last attended appointment,
    the missed ones since (how many, and when the second was), and the start of the current OST (None when not on
    OST today; rows ended in the last 28 days continue the course, as reviews.risk.ost_clock_start reads it)."""
    facts = _compiled_facts(today, episodes.db)
    return episodes.annotate(**{name: facts[name] for name in _disengagement_names(today)})


def with_risk_facts(episodes: QuerySet, *, today: date) -> QuerySet:
    """The episodes with every fact the risk level reads but the transitions: disengagement's, the latest safety
    event in a report ending in the last 28 days, the latest TOP's shared equipment, and the latest check-up held
    of each kind (an attempt that could not reach the patient is not one)."""
    return episodes.annotate(**_compiled_facts(today, episodes.db))


def _disengagement_names(today: date) -> tuple[str, ...]:
    last_attended, rest = _disengagement_expressions(today)
    return (*last_attended, *rest)


def with_risk_facts_built(episodes: QuerySet, *, today: date) -> QuerySet:
    """with_risk_facts as the ORM builds it, expression by expression: what _compiled_facts compiles, and what the
    tests hold the compiled SQL to."""
    last_attended, rest = _disengagement_expressions(today)
    return episodes.annotate(**last_attended).annotate(**rest).annotate(**_risk_expressions(today))


class CompiledFact(Expression):
    """One fact's correlated subquery as SQL compiled once (_compiled_facts). Its SQL names the outer episode by
    the episodes' table, as the ORM does when the episodes are the query's own table; used anywhere else (the
    episodes joined under another alias, or the query relabelled as another's subquery) it refuses rather than
    read another row's facts."""

    def __init__(self, sql: str, params: tuple, output_field):
        super().__init__(output_field=output_field)
        self.sql, self.params = sql, params

    def as_sql(self, compiler, connection):
        if compiler.query.base_table != TreatmentEpisode._meta.db_table:
            raise FieldError("A compiled risk fact reads the episodes' own table: use it on their own query.")
        return self.sql, self.params

    def get_group_by_cols(self):
        return [self]

    def relabeled_clone(self, change_map):
        if TreatmentEpisode._meta.db_table in change_map:
            raise FieldError("A compiled risk fact cannot follow the episodes into another query.")
        return self


# Compiled once a day per process and database: building and compiling these fourteen subqueries on every request
# was a tenth of the caseload's Python calls and a seventh of the patient page's, and took longer than PostgreSQL
# took to run them. The SQL is what the ORM compiles for the episodes' own query
# (tests/reviews/test_risk_facts_compiled.py holds it so).
# Room for today and the three stand-in days a compiled query is built with (recovery_reviews/compiled_queries.py).
@lru_cache(maxsize=8)
def _compiled_facts(today: date, alias: str) -> dict[str, CompiledFact]:
    query = with_risk_facts_built(TreatmentEpisode.objects.using(alias), today=today).query
    compiler = query.get_compiler(using=alias)
    compiled = {}
    for name, expression in query.annotations.items():
        sql, params = compiler.compile(expression)
        compiled[name] = CompiledFact(sql, tuple(params), expression.output_field)
    return compiled


@lru_cache(maxsize=2)
def _disengagement_expressions(today: date) -> tuple[dict, dict]:
    attended = Appointment.objects.filter(episode=OuterRef("pk"), status=AppointmentStatus.ATTENDED)
    missed = Appointment.objects.filter(
        episode=OuterRef("pk"),
        status=AppointmentStatus.MISSED,
        starts_at__gt=Coalesce(OuterRef("risk_last_attended_at"), Value(_LONG_AGO, DateTimeField())),
    )
    ost = Intervention.objects.filter(
        episode=OuterRef("pk"), kind=InterventionKind.OST, started_on__lte=today
    )
    recent = today - timedelta(days=risk.DAYS_WITHOUT_CONTACT_ON_OST)
    last_attended = {"risk_last_attended_at": _first(attended, "starts_at", ("-starts_at",))}
    rest = {
        "risk_missed_in_a_row": Coalesce(
            Subquery(missed.order_by().values("episode").annotate(n=Count("pk")).values("n")[:1]),
            Value(0),
            output_field=IntegerField(),
        ),
        "risk_second_missed_at": Subquery(missed.order_by("starts_at").values("starts_at")[1:2]),
        # A scalar subquery with LIMIT, not EXISTS: PostgreSQL turned the EXISTS into a hashed subplan reading every
        # current OST row of the service (180,000 rows, 100 ms at 300,000 patients) for a page of 50.
        "risk_on_ost": Coalesce(
            _first(
                ost.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today)).annotate(on=Value(True)),
                "on",
                (),
            ),
            Value(False),
            output_field=BooleanField(),
        ),
        "risk_ost_since": _first(
            ost.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=recent)), "started_on", ("started_on",)
        ),
    }
    return last_attended, rest


@lru_cache(maxsize=2)
def _risk_expressions(today: date) -> dict:
    reports = PharmacyReport.objects.filter(
        episode=OuterRef("pk"),
        safety_run__gte=MISSED_DOSE_SAFETY_RUN,
        period_end__gte=today - timedelta(days=risk.RECENT_SAFETY_EVENT_DAYS),
        period_end__lte=today,
    )
    tops = TopAssessment.objects.filter(episode=OuterRef("pk"), assessed_on__lte=today)
    check_ups = RecoveryCheckUp.objects.filter(episode=OuterRef("pk")).exclude(
        outcome=CheckUpOutcome.NOT_REACHED
    )
    element_check_ups = ElementCheckUp.objects.filter(episode=OuterRef("pk")).exclude(
        outcome=CheckUpOutcome.NOT_REACHED
    )
    latest_report, latest_top, latest_held = (
        ("-period_end", "-pk"),
        ("-assessed_on", "-pk"),
        ("-held_on", "-pk"),
    )
    return {
        "risk_safety_run": _first(reports, "safety_run", latest_report),
        "risk_safety_report_end": _first(reports, "period_end", latest_report),
        "risk_shared_needle": _first(tops, "shared_needle", latest_top),
        "risk_shared_paraphernalia": _first(tops, "shared_paraphernalia", latest_top),
        "risk_top_on": _first(tops, "assessed_on", latest_top),
        "risk_check_up_outcome": _first(check_ups, "outcome", latest_held),
        "risk_check_up_on": _first(check_ups, "held_on", latest_held),
        "risk_element_check_up_outcome": _first(element_check_ups, "outcome", latest_held),
        "risk_element_check_up_on": _first(element_check_ups, "held_on", latest_held),
    }


def _local_day(moment: datetime | None) -> date | None:
    return timezone.localtime(moment).date() if moment else None


def disengagement_of(episode: TreatmentEpisode, *, today: date) -> risk.Disengagement | None:
    """The disengagement of an episode read through with_disengagement_facts (or with_risk_facts); None once the
    episode has ended (the check-ups after treatment follow, §1.7)."""
    if episode.exit_date is not None and episode.exit_date <= today:
        return None
    return risk.disengagement(
        today=today,
        entry_date=episode.entry_date,
        last_attended=_local_day(episode.risk_last_attended_at),
        missed_in_a_row=episode.risk_missed_in_a_row,
        second_missed_on=_local_day(episode.risk_second_missed_at),
        ost_since=episode.risk_ost_since if episode.risk_on_ost else None,
    )


def risk_of(episode: TreatmentEpisode, transitions, *, today: date) -> risk.Risk:
    """The risk level of an episode read through with_risk_facts, with its transitions (reviews.services.
    transitions.Transition, as transitions_by_episode or the patient page reads them)."""
    held = [
        (episode.risk_check_up_on, episode.risk_check_up_outcome),
        (episode.risk_element_check_up_on, episode.risk_element_check_up_outcome),
    ]
    latest_on, latest_outcome = max(((on, o) for on, o in held if on), default=(None, None))
    return risk.risk_level(
        risk.risk_reasons(
            today=today,
            safety_run=episode.risk_safety_run,
            safety_report_end=episode.risk_safety_report_end,
            shared_needle=episode.risk_shared_needle,
            shared_paraphernalia=episode.risk_shared_paraphernalia,
            top_on=episode.risk_top_on,
            relapse_check_up_on=latest_on if latest_outcome == CheckUpOutcome.RELAPSE_RISK else None,
            transitions=[(t.on, t.what) for t in transitions],
            disengaged=disengagement_of(episode, today=today),
        )
    )


def transitions_of(episode: TreatmentEpisode, interventions) -> tuple:
    """Rule 3b's transitions of an episode from interventions already read (the patient page's): no query."""
    rows = [element_row(i) for i in interventions if i.kind in ELEMENT_KINDS]
    return treatment_transitions_described(rows, episode)


def transitions_by_episode(episodes: list[TreatmentEpisode]) -> dict[int, tuple]:
    """Rule 3b's transitions of each of a page's episodes, with one query whatever their number (none without
    episodes)."""
    if not episodes:
        return {}
    rows: dict[int, list] = {}
    for intervention in Intervention.objects.filter(
        episode__in=[e.pk for e in episodes], kind__in=ELEMENT_KINDS
    ).only("episode", "kind", "medicine", "daily_dose_mg", "started_on", "ended_on"):
        rows.setdefault(intervention.episode_id, []).append(element_row(intervention))
    return {e.pk: treatment_transitions_described(rows[e.pk], e) for e in episodes if e.pk in rows}


def episode_risk(episode: TreatmentEpisode, *, today: date) -> risk.Risk:
    """One episode's risk level, for a service (the strategic review's): two queries."""
    annotated = with_risk_facts(TreatmentEpisode.objects.filter(pk=episode.pk), today=today).get()
    return risk_of(annotated, transitions_by_episode([annotated]).get(episode.pk, ()), today=today)


def disengaged_episodes(*, today: date) -> list[tuple[TreatmentEpisode, risk.Disengagement]]:
    """Every open episode disengaged today, with its patient's keyworker and its lead practitioner, in one query
    (the reminder's sweep): only episodes with a missed appointment or on OST are looked at."""
    candidates = (
        TreatmentEpisode.objects.filter(Q(exit_date__isnull=True) | Q(exit_date__gt=today))
        .filter(
            Exists(Appointment.objects.filter(episode=OuterRef("pk"), status=AppointmentStatus.MISSED))
            | Exists(Intervention.objects.filter(episode=OuterRef("pk"), kind=InterventionKind.OST))
        )
        .select_related("patient__keyworker", "lead_practitioner")
    )
    found = []
    for episode in with_disengagement_facts(candidates, today=today):
        if disengaged := disengagement_of(episode, today=today):
            found.append((episode, disengaged))
    return found
