"""The patient's record: the patient page, composed from the clinical record (patients), the care plan (careplans)
and the strategic reviews and check-ups (reviews) of the episode shown. Everything on it is read with a fixed number
of queries, one per kind of record, whatever the number of rows (the query count is pinned in the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from dateutil.relativedelta import relativedelta
from django.db.models import Prefetch, Q
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from careplans.selectors import care_plan_progress, goals_for_episode
from patients.access import patient_for_user
from patients.models import (
    Appointment,
    CareTeamChange,
    Circumstance,
    DispensingArrangement,
    DrugTest,
    DrugTestResult,
    EpisodeCircumstance,
    ExitReason,
    Intervention,
    PharmacyReport,
    RecordCorrection,
    Substance,
    TopAssessment,
    TopStage,
    TreatmentEpisode,
)
from patients.selectors import drug_test_compilation, pharmacy_compilation, top_chart_data, top_latest_answers
from patients.selectors.substances import patient_substances, substances_found
from patients.top_questionnaire import top_items_for_substances
from recovery_reviews.access import can_move_patient
from recovery_reviews.audit import record_access
from recovery_reviews.compiled_queries import CompiledQuery
from recovery_reviews.pages.timeline import TimelineEntry, build_timeline
from reviews.models import ElementCheckUp, RecoveryCheckUp, ReviewStatus, StrategicReview
from reviews.risk_selectors import disengagement_of, risk_of, transitions_of, with_risk_facts
from reviews.scheduling import NO_CHECK_UP_EXITS, nothing_owed_reason
from reviews.selectors import episode_transition_vigilance
from reviews.services.schedule import facts_for_episode
from reviews.services.strategic import check_up_standing
from reviews.status import AWAITING_PATIENT, STATUS_LABELS, owed_items_by_episode, status_of

EVIDENCE_MONTHS = 3  # "over the last three months" on the patient page (§2.9 compilations)
TIMELINE_SHOWN = 40


@dataclass
class EpisodeRecord:
    """Everything the patient page shows about one episode, read with a fixed number of queries."""

    episode: TreatmentEpisode
    today: date
    status: str = ""
    interventions: list = field(default_factory=list)
    dispensing: list = field(default_factory=list)
    circumstances: list = field(default_factory=list)
    tops: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    reports: list = field(default_factory=list)
    appointments: list = field(default_factory=list)
    reviews: list = field(default_factory=list)
    check_ups: list = field(default_factory=list)
    goals: list = field(default_factory=list)
    care_team_changes: list = field(default_factory=list)
    entered_in_error: list = field(default_factory=list)  # TOPs, tests and reports kept but not counted
    corrections: list = field(default_factory=list)
    nothing_owed_reason: str = ""  # an ended episode that owes nothing: why (died, transferred, all held)
    owed_items: list = field(default_factory=list)  # every item owed, first first (docs/design.md rule 7b)
    element_check_ups: list = field(default_factory=list)  # check-ups after an element, and attempts at them

    @property
    def also_owed(self) -> list:
        """Every item owed after the first, which the page shows beside it: none is hidden (rule 7b)."""
        return self.owed_items[1:]

    @property
    def first_element_end(self):
        """The element end the first item follows, when it is a check-up after an element (rule 7b)."""
        first = self.owed_items[0] if self.owed_items else None
        return first.element_end if first is not None else None

    @property
    def evidence_since(self) -> date:
        return self.today - relativedelta(months=EVIDENCE_MONTHS)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, "")

    @property
    def current_interventions(self):
        return [i for i in self.interventions if i.ended_on is None or i.ended_on >= self.today]

    @property
    def past_interventions(self):
        return [i for i in self.interventions if i.ended_on is not None and i.ended_on < self.today]

    @property
    def current_dispensing(self):
        return next((d for d in self.dispensing if d.effective_from <= self.today), None)

    @property
    def planned_dispensing(self):
        return [d for d in self.dispensing if d.effective_from > self.today]

    @property
    def current_circumstances(self):
        return [c for c in self.circumstances if c.is_current(self.today)]

    @cached_property
    def awaiting_review(self):
        return next((r for r in self.reviews if r.status == ReviewStatus.AWAITING_PATIENT), None)

    @cached_property
    def pending_decisions(self) -> list:
        """The dispensing and intervention changes decided at the review awaiting the patient, pending their
        involvement (§2.4): read only when such a review exists."""
        review = self.awaiting_review
        return list(review.pending_decisions.select_related("intervention")) if review else []

    @property
    def consider_complex_needs(self) -> bool:
        """Rule 3c: a co-morbidity on record prompts the keyworker to consider complex needs (§1.6); it does not
        set it, because whether a condition makes the needs complex is a clinical judgement."""
        return (
            self.episode.is_open
            and bool(self.episode.co_morbidities.strip())
            and not any(c.code == Circumstance.COMPLEX_NEEDS for c in self.current_circumstances)
        )

    @property
    def check_ups_owed_after_exit(self) -> bool:
        """Rule 7 (amended): after death or a transfer no check-ups are owed, so none is offered."""
        return self.episode.exit_reason not in NO_CHECK_UP_EXITS

    @cached_property
    def draft_review(self):
        return next((r for r in self.reviews if r.status == ReviewStatus.DRAFT), None)

    @property
    def badge(self) -> str:
        return AWAITING_PATIENT if self.awaiting_review else ""

    @cached_property
    def test_summary(self) -> dict:
        return drug_test_compilation(self.tests, since=self.evidence_since)

    @cached_property
    def pharmacy(self) -> dict:
        return pharmacy_compilation(self.reports, since=self.evidence_since)

    @property
    def care_plan(self) -> dict:
        return care_plan_progress(self.goals)

    @property
    def vigilance(self):
        """Within 3 months of a transition (a medication change, an element of treatment started or ended) since
        the last completed review, with what changed and when (App. C 2; docs/design.md rule 3b): from the
        interventions and reviews already read, so it costs no query."""
        return episode_transition_vigilance(self.episode, self.interventions, self.reviews, today=self.today)

    @property
    def risk(self):
        """The risk level with its reasons (§2.2), from the facts annotated on the episode (with_risk_facts, in the
        query that read it) and the interventions already read: no query. None for an episode read without
        them. docs/design.md, Risk level and disengagement."""
        if not hasattr(self.episode, "risk_safety_run"):
            return None
        return risk_of(self.episode, transitions_of(self.episode, self.interventions), today=self.today)

    @property
    def disengagement(self):
        """Two missed appointments in a row, or 28 days on OST without one attended, since when and why (Intro,
        App. B): from the facts annotated on the episode, no query."""
        if not hasattr(self.episode, "risk_on_ost"):
            return None
        return disengagement_of(self.episode, today=self.today)

    @cached_property
    def own_substances(self) -> list[str]:
        """The patient's own substances: the episode's problem substances, then those the drug tests of the last
        three months found (docs/design.md, Domain): from the tests already read, no query."""
        return patient_substances(self.episode, substances_found(self.tests, since=self.evidence_since))

    @property
    def other_substance_labels(self) -> list[str]:
        """The episode's other problem substances, by name."""
        names = dict(Substance.choices)
        return [names.get(code, code) for code in self.episode.other_substances or []]

    @cached_property
    def chart(self) -> dict:
        """The TOP since entry, the lines of the patient's own substances shown (top_chart_data)."""
        return top_chart_data(self.tops, own_items=top_items_for_substances(self.own_substances))

    @cached_property
    def chart_columns(self) -> list[tuple[str, str]]:
        """The chart's table alternative: a column per TOP, its date and its stage."""
        return list(zip(self.chart["labels"], self.chart["stages"], strict=True))

    @cached_property
    def chart_head(self) -> str:
        """The chart tables' column headers (the same for every panel), as the template's loop wrote them."""
        return mark_safe(  # noqa: S308 every value is escaped
            "".join(
                f'<th scope="col" class="text-end text-nowrap">{conditional_escape(label)}'
                f'<span class="d-block fw-normal text-muted">{conditional_escape(stage)}</span></th>'
                for label, stage in self.chart_columns
            )
        )

    @cached_property
    def chart_rows(self) -> dict[str, str]:
        """Each panel's table rows, by domain, as the template's loop wrote them: a row per TOP item, a cell per
        TOP, an unanswered item said in words (not zero). The figures are whole numbers, written as the template
        wrote them (no thousands separator)."""
        return {
            panel["domain"]: mark_safe(  # noqa: S308 every value is escaped
                "".join(
                    f'<tr><th scope="row" class="fw-normal">{conditional_escape(series["label"])}</th>'
                    + "".join(_chart_cell(value) for value in series["data"])
                    + "</tr>\n      "
                    for series in panel["series"]
                )
            )
            for panel in self.chart["panels"]
        }

    @cached_property
    def top_answers(self) -> dict:
        return top_latest_answers(self.tops)

    @property
    def latest_top(self):
        return self.tops[-1] if self.tops else None

    @property
    def exit_top_missing(self) -> bool:
        """An ended episode has no exit TOP (one entered in error does not count). Not asked after a death."""
        episode = self.episode
        return (
            episode.exit_date is not None
            and episode.exit_reason != ExitReason.DIED
            and not any(t.stage == TopStage.EXIT for t in self.tops)
        )

    @property
    def recent_tests(self):
        return self.tests[:8]

    @cached_property
    def check_up_standing(self):
        """After exit: the check-up owed, its attempts that could not reach the patient, and early signs of relapse
        at the latest held (docs/design.md rule 7c)."""
        return check_up_standing(self.check_ups) if self.episode.exit_date else None

    def timeline(self) -> list[TimelineEntry]:
        return build_timeline(self)


def _chart_cell(value) -> str:
    if value is None:
        return '<td class="text-end"><span class="text-muted">not answered</span></td>'
    shown = str(value) if type(value) is int else conditional_escape(formats.localize(value))
    return f'<td class="text-end">{shown}</td>'


# What the page shows of a person joined to a record (User.__str__: the full name, or else the username).
PERSON_SHOWN = ("first_name", "last_name", "username")


def with_people(queryset, *paths: str):
    """The records with the people at these paths joined, reading of each person only their name: a person has
    sixteen columns, and a patient page joins a dozen of them (to records that are mostly empty) where it shows
    names alone. Reading any other column of such a person would be a query of its own: the page's query pins
    (tests/patients/test_views_record.py) hold that it does not."""
    own = [f.name for f in queryset.model._meta.concrete_fields]
    return queryset.select_related(*paths).only(
        *own, *(f"{path}__{name}" for path in paths for name in PERSON_SHOWN)
    )


def _standing_and_in_error(rows: list) -> tuple[list, list]:
    """Every entry, including those entered in error (one read), split into what counts and what was marked."""
    return [r for r in rows if not r.is_entered_in_error], [r for r in rows if r.is_entered_in_error]


def _nothing_owed_reason(episode: TreatmentEpisode, today: date) -> str:
    """Why an ended episode owes nothing (docs/design.md rule 7 amended: the person died, another service now
    reviews them, or every check-up was held), from the policy. Read only for such an episode."""
    if episode.exit_date is None or episode.next_review_target is not None:
        return ""
    try:
        return nothing_owed_reason(facts_for_episode(episode, today=today)) or ""
    except ValueError:  # inconsistent facts: the stored schedule says so
        return ""


# The queries of one episode's records, by the episode's id, compiled once (recovery_reviews/compiled_queries.py):
# every patient page reads the same dozen.
_TOPS = CompiledQuery(
    lambda episode: with_people(
        TopAssessment.with_errors.filter(episode_id=episode).order_by("assessed_on", "pk"),
        "entered_in_error_by",
    )
)
_TESTS = CompiledQuery(
    lambda episode: with_people(
        DrugTest.with_errors.filter(episode_id=episode)
        .order_by("-taken_on", "-pk")
        .prefetch_related(Prefetch("results", queryset=DrugTestResult.objects.order_by("substance"))),
        "entered_in_error_by",
    )
)
_REPORTS = CompiledQuery(
    lambda episode: with_people(
        PharmacyReport.with_errors.filter(episode_id=episode)
        .order_by("-period_end", "-pk")
        .prefetch_related("missed_doses"),
        "entered_in_error_by",
    )
)
_CARE_TEAM_CHANGES = CompiledQuery(
    lambda patient, start, end: with_people(
        CareTeamChange.objects.filter(
            patient_id=patient, changed_on__gte=start, changed_on__lte=end
        ).select_related("from_team", "to_team"),
        "from_keyworker",
        "to_keyworker",
        "from_lead",
        "to_lead",
    )
)
_CORRECTIONS = CompiledQuery(
    lambda patient, episode: with_people(
        RecordCorrection.objects.filter(
            Q(episode_id=episode) | Q(episode__isnull=True), patient_id=patient
        ).order_by("corrected_at"),
        "corrected_by",
    )
)
_INTERVENTIONS = CompiledQuery(
    lambda episode: Intervention.objects.filter(episode_id=episode).order_by("-started_on", "-pk")
)
_DISPENSING = CompiledQuery(
    lambda episode: with_people(
        DispensingArrangement.objects.filter(episode_id=episode), "recorded_by"
    ).order_by("-effective_from", "-recorded_at")
)
_CIRCUMSTANCES = CompiledQuery(
    lambda episode: EpisodeCircumstance.objects.filter(episode_id=episode).order_by("-started_on", "-pk")
)
_APPOINTMENTS = CompiledQuery(
    lambda episode: with_people(Appointment.objects.filter(episode_id=episode), "keyworker").order_by(
        "-starts_at"
    )[:200]
)
_REVIEWS = CompiledQuery(
    lambda episode: (
        with_people(StrategicReview.objects.filter(episode_id=episode), "lead")
        .prefetch_related("findings")
        .order_by("-held_on", "-pk")
    )
)
_CHECK_UPS = CompiledQuery(
    lambda episode: RecoveryCheckUp.objects.filter(episode_id=episode).order_by("sequence", "held_on", "pk")
)
_ELEMENT_CHECK_UPS = CompiledQuery(
    lambda episode: with_people(ElementCheckUp.objects.filter(episode_id=episode), "held_by")
)


def _of(episode: TreatmentEpisode, rows: list) -> list:
    """Rows read through the episode's own related manager know their episode; these, read by its id, are told."""
    for row in rows:
        row.episode = episode
    return rows


def episode_record(episode: TreatmentEpisode, *, today: date) -> EpisodeRecord:
    """Read one episode's record for the patient page: one query per kind of record (and, for an ended episode
    that owes nothing, the policy's facts, to say why)."""
    pk, patient = episode.pk, episode.patient_id
    tops, tops_in_error = _standing_and_in_error(_TOPS.run(episode=pk))
    tests, tests_in_error = _standing_and_in_error(_TESTS.run(episode=pk))
    reports, reports_in_error = _standing_and_in_error(_REPORTS.run(episode=pk))
    return EpisodeRecord(
        episode=episode,
        today=today,
        status=status_of(episode, today=today),
        interventions=_of(episode, _INTERVENTIONS.run(episode=pk)),
        dispensing=_of(episode, _DISPENSING.run(episode=pk)),
        circumstances=_of(episode, _CIRCUMSTANCES.run(episode=pk)),
        tops=tops,
        tests=tests,
        reports=reports,
        entered_in_error=[*tops_in_error, *tests_in_error, *reports_in_error],
        appointments=_of(episode, _APPOINTMENTS.run(episode=pk)),
        reviews=_REVIEWS.run(episode=pk),
        check_ups=_CHECK_UPS.run(episode=pk),
        goals=goals_for_episode(episode),
        care_team_changes=_CARE_TEAM_CHANGES.run(
            patient=patient, start=episode.entry_date, end=episode.exit_date or today
        ),
        corrections=_CORRECTIONS.run(patient=patient, episode=pk),
        nothing_owed_reason=_nothing_owed_reason(episode, today),
        owed_items=owed_items_by_episode([episode.pk], today=today).get(episode.pk, []),
        element_check_ups=_ELEMENT_CHECK_UPS.run(episode=pk),
    )


def _timeline_html(entries: list[TimelineEntry]) -> str:
    """The timeline's entries as the template's loop wrote them, byte for byte (the loop's tags, filters and
    whitespace), without a template node per cell: the page's longest loop."""
    esc = conditional_escape
    parts = []
    for entry in entries:
        on = "" if entry.on in (None, "") else formats.date_format(timezone.template_localtime(entry.on))
        flag = f" flag-{esc(entry.flag)}" if entry.flag else ""
        if entry.url:
            title = f'<a href="{esc(entry.url)}">{esc(entry.title)}</a>'
        elif entry.flag == "in-error":
            title = f"<s>{esc(entry.title)}</s>"
        else:
            title = f"<span>{esc(entry.title)}</span>"
        error = (
            f'<a class="small text-muted ms-2 entered-in-error-link" href="{esc(entry.error_url)}">'
            "entered in error?</a>"
            if entry.error_url
            else ""
        )
        outcome = (
            f'<a class="small ms-2" href="{esc(entry.outcome_url)}">record the outcome</a>'
            if entry.outcome_url
            else ""
        )
        detail = (
            f'<div class="small text-muted ms-4">{esc(Truncator(entry.detail).chars(220))}</div>'
            if entry.detail
            else ""
        )
        parts.append(
            f'\n        <li class="timeline-entry kind-{esc(entry.kind)}{flag}">'
            f'\n          <span class="text-muted text-nowrap small me-2">{esc(on)}</span>'
            f"\n          {title}\n          {error}\n          {outcome}\n          {detail}\n        </li>\n        "
        )
    return mark_safe("".join(parts))  # noqa: S308 every value above is escaped


_EPISODES = CompiledQuery(
    lambda patient, today: with_risk_facts(
        TreatmentEpisode.objects.filter(patient_id=patient)
        .select_related("lead_practitioner")
        .order_by("-entry_date"),
        today=today,
    )
)


def _of_patient(patient, episode: TreatmentEpisode) -> TreatmentEpisode:
    episode.patient = patient  # as the patient's own related manager would have told it
    return episode


def patient_detail(request, pk):
    patient = patient_for_user(request.user, pk)
    record_access(request, patient)
    today = timezone.localdate()
    # the risk level's facts ride on the episodes' own query (reviews/risk_selectors.py): no query more
    episodes = [_of_patient(patient, e) for e in _EPISODES.run(patient=patient.pk, today=today)]
    chosen = request.GET.get("episode", "")
    episode = next((e for e in episodes if str(e.pk) == chosen), episodes[0] if episodes else None)
    record = episode_record(episode, today=today) if episode else None
    timeline = record.timeline() if record else []
    show_all = request.GET.get("timeline") == "all"
    shown = timeline if show_all else timeline[:TIMELINE_SHOWN]
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "episodes": episodes,
            "episode": episode,
            "record": record,
            "today": today,
            "timeline": shown,
            "timeline_html": _timeline_html(shown),
            "timeline_hidden": 0 if show_all else max(0, len(timeline) - TIMELINE_SHOWN),
            # Nobody opens treatment for a person recorded as having died.
            "can_open_episode": not any(e.is_open or e.exit_reason == ExitReason.DIED for e in episodes),
            "can_move": can_move_patient(request.user, patient),
            "status_labels": STATUS_LABELS,
        },
    )
