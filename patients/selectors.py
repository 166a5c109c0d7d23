"""Reads of the clinical record for pages (CONVENTIONS.md 3). Every queryset starts from the access door or from
an episode the door has already handed out; every page reads with a fixed number of queries, whatever the
number of rows (the compilations below work on rows already fetched)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from careplans.models import Goal, GoalProgress
from patients.models import (
    MISSED_DOSE_SAFETY_RUN,
    NON_PRESCRIBED_OPIOIDS,
    TOP_SUBSTANCES,
    Appointment,
    AppointmentStatus,
    CareTeamChange,
    CoreDomain,
    DrugTest,
    DrugTestResult,
    Patient,
    PharmacyReport,
    RecordCorrection,
    TestResult,
    TopAssessment,
    TreatmentEpisode,
)
from recovery_reviews.access import episodes_for_user, patients_for_user, scoped
from reviews.models import RecoveryCheckUp, ReviewStatus, StrategicReview
from reviews.scheduling import ReviewDue, review_status
from reviews.status import (
    AWAITING_PATIENT,
    STATUS_LABELS,
    awaiting_patient_expression,
    review_status_expression,
    status_filter,
)

EVIDENCE_MONTHS = 3  # "over the last three months" on the patient page (§2.9 compilations)

# --- The Treatment Outcomes Profile, item by item -------------------------------------------------------------


@dataclass(frozen=True)
class TopItem:
    """One item of the TOP as clinicians read it: which core domain it speaks to (§2.10), its scale, and which
    way is better. Substance use is read as days used in the past 28 (the four weeks summed)."""

    key: str
    label: str
    domain: str
    section: int
    scale: str  # "days" (0-28), "amount", "rating" (0-20) or "yes_no"
    better: str  # "lower" or "higher"

    def value(self, top: TopAssessment):
        if self.key.endswith("_days_used"):
            return top.days_used(self.key.removesuffix("_days_used"))
        return getattr(top, self.key)

    def change(self, before, after) -> str:
        """'better', 'worse', 'same', or '' when either answer is missing."""
        if before is None or after is None:
            return ""
        if before == after:
            return "same"
        if self.scale == "yes_no":
            return "better" if before and not after else "worse"
        went_up = after > before
        return "better" if went_up == (self.better == "higher") else "worse"


def _top_items() -> tuple[TopItem, ...]:
    drugs = CoreDomain.DRUG_ALCOHOL_USE
    items = []
    for prefix, label, unit in TOP_SUBSTANCES:
        items.append(TopItem(f"{prefix}_days_used", f"{label}: days used (of 28)", drugs, 1, "days", "lower"))
        items.append(
            TopItem(f"{prefix}_amount", f"{label}: {unit} on a using day", drugs, 1, "amount", "lower")
        )
    items += [
        TopItem("injecting_days", "Days injected (of 28)", drugs, 2, "days", "lower"),
        TopItem(
            "shared_needle",
            "Injected with a needle or syringe used by someone else",
            drugs,
            2,
            "yes_no",
            "lower",
        ),
        TopItem(
            "shared_paraphernalia",
            "Injected with a spoon, water or filter used by someone else",
            drugs,
            2,
            "yes_no",
            "lower",
        ),
    ]
    crime = CoreDomain.OFFENDING
    items += [
        TopItem("shoplifting_days", "Days of shoplifting (of 28)", crime, 3, "days", "lower"),
        TopItem("drug_selling_days", "Days of selling drugs (of 28)", crime, 3, "days", "lower"),
        TopItem("theft_from_vehicle", "Theft from or of a vehicle", crime, 3, "yes_no", "lower"),
        TopItem("theft_other_property", "Other property theft or burglary", crime, 3, "yes_no", "lower"),
        TopItem(
            "fraud_forgery_handling", "Fraud, forgery or handling stolen goods", crime, 3, "yes_no", "lower"
        ),
        TopItem("assault_violence", "Committed assault or violence", crime, 3, "yes_no", "lower"),
    ]
    # Section 4 holds both health (the ratings, §2.9 "physical health and psychological wellbeing") and social
    # functioning (work, education, housing).
    health, social = CoreDomain.HEALTH, CoreDomain.SOCIAL_FUNCTIONING
    items += [
        TopItem("psychological_health", "Psychological health (0-20)", health, 4, "rating", "higher"),
        TopItem("physical_health", "Physical health (0-20)", health, 4, "rating", "higher"),
        TopItem("quality_of_life", "Overall quality of life (0-20)", health, 4, "rating", "higher"),
        TopItem("paid_work_days", "Days of paid work (of 28)", social, 4, "days", "higher"),
        TopItem("education_days", "Days at college or school (of 28)", social, 4, "days", "higher"),
        TopItem("acute_housing_problem", "Acute housing problem", social, 4, "yes_no", "lower"),
        TopItem("eviction_risk", "At risk of eviction", social, 4, "yes_no", "lower"),
    ]
    return tuple(items)


TOP_ITEMS = _top_items()
DOMAIN_LABELS = dict(CoreDomain.choices)


def top_chart_data(tops: list[TopAssessment]) -> dict:
    """Series since entry for the TOP chart, one panel per core domain. Unanswered items are null (a gap in
    the line), never zero. Yes/no items are not charted: they are listed beside the chart."""
    labels = [f"{top.assessed_on.day} {top.assessed_on:%b %Y}" for top in tops]
    stages = [top.get_stage_display() for top in tops]
    panels = []
    for domain, domain_label in CoreDomain.choices:
        series = []
        for item in TOP_ITEMS:
            if item.domain != domain or item.scale not in ("days", "rating"):
                continue
            values = [item.value(top) for top in tops]
            if all(v is None for v in values):
                continue
            series.append(
                {
                    "label": item.label,
                    "data": values,
                    # a substance never used in the episode starts hidden (one click shows it)
                    "hidden": item.scale == "days" and item.better == "lower" and not any(values),
                }
            )
        ratings = all(s["label"].endswith("(0-20)") for s in series) and series
        panels.append(
            {"domain": domain, "title": domain_label, "max": 20 if ratings else 28, "series": series}
        )
    return {"labels": labels, "stages": stages, "panels": panels}


def top_latest_answers(tops: list[TopAssessment]) -> dict[str, list[tuple[str, str]]]:
    """The yes/no items of the latest TOP, by domain, as shown beside the chart ('not answered' is kept)."""
    if not tops:
        return {}
    latest = tops[-1]
    answers: dict[str, list] = {}
    for item in TOP_ITEMS:
        if item.scale == "yes_no":
            value = item.value(latest)
            shown = "not answered" if value is None else ("yes" if value else "no")
            answers.setdefault(item.domain, []).append((item.label, shown))
    return answers


# --- Caseload ---------------------------------------------------------------------------------------------------


def caseload_for_user(
    user,
    *,
    today: date,
    status: str = "",
    team_id: int | None = None,
    search: str = "",
    mine: bool = False,
    this_week: bool = False,
) -> QuerySet[TreatmentEpisode]:
    """Episodes in the user's scope with something due, soonest target first, each annotated with its status."""
    episodes = (
        episodes_for_user(user)
        .filter(next_review_target__isnull=False)
        .annotate(
            review_status=review_status_expression(today), awaiting_patient=awaiting_patient_expression()
        )
        .select_related("patient", "patient__keyworker", "patient__team")
        .order_by("next_review_target", "patient__family_name", "pk")
    )
    if status:
        episodes = episodes.filter(status_filter(status, today))
    if team_id:
        episodes = episodes.filter(team_id=team_id)
    if mine:
        episodes = episodes.filter(keyworker=user)
    if this_week:
        episodes = episodes.filter(_this_week(today))
    if search:
        episodes = episodes.filter(_search(search))
    return episodes


def _this_week(today: date) -> Q:
    """A target or a deadline in the next seven days: a review that falls due, or one about to go overdue."""
    week_end = today + timedelta(days=6)
    return Q(next_review_target__range=(today, week_end)) | Q(next_review_deadline__range=(today, week_end))


def _search(text: str, prefix: str = "patient__") -> Q:
    """By name (any word, given or family name) or by NHS number (digits typed with or without spaces)."""
    text = text.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    query = Q()
    for word in text.split():
        if not any(ch.isdigit() for ch in word):
            query &= Q(**{f"{prefix}family_name__icontains": word}) | Q(
                **{f"{prefix}given_name__icontains": word}
            )
    if len(digits) >= 3:
        query &= Q(**{f"{prefix}nhs_number__startswith": digits})
    return query


def patients_with_nothing_due(user, *, search: str, limit: int = 20) -> list[Patient]:
    """Patients in scope matching a search who are not on the caseload because nothing is due: treatment and
    its check-ups are over. Someone coming back is found here, and a new episode opened from their record."""
    if not search.strip():
        return []
    return list(
        patients_for_user(user)
        .filter(_search(search, prefix=""))
        .exclude(episodes__next_review_target__isnull=False)
        .annotate(last_exit=Max("episodes__exit_date"))
        .select_related("team", "keyworker")
        .order_by("family_name", "given_name", "pk")[:limit]
    )


def reviews_to_finish(user, *, limit: int = 15) -> list[StrategicReview]:
    """Strategic reviews the user leads that are not complete: started and not finished, or held without the
    patient and waiting on their involvement (§2.4). Until then the clock does not reset."""
    return list(
        scoped(
            StrategicReview.objects.filter(
                lead=user, status__in=[ReviewStatus.DRAFT, ReviewStatus.AWAITING_PATIENT]
            ).exclude(  # strategic reviews stop when the episode ends (§1.7); a draft is left to discard
                status=ReviewStatus.AWAITING_PATIENT, episode__exit_date__isnull=False
            ),
            user,
        )
        .select_related("episode__patient")
        .order_by("held_on", "pk")[:limit]
    )


def appointments_to_record(user, *, limit: int = 10) -> list[Appointment]:
    """The user's own booked appointments whose time has passed: what became of them is still to be recorded."""
    return list(
        scoped(
            Appointment.objects.filter(
                keyworker=user, status=AppointmentStatus.BOOKED, starts_at__lt=timezone.now()
            ),
            user,
        )
        .select_related("episode__patient")
        .order_by("starts_at")[:limit]
    )


def due_this_week(user, *, today: date, limit: int = 15) -> list[TreatmentEpisode]:
    """Across the whole scope, not only the page shown: targets and deadlines in the next seven days."""
    return list(caseload_for_user(user, today=today, this_week=True)[:limit])


def status_of(episode: TreatmentEpisode, *, today: date) -> str:
    """Rule 8 status of the stored next review, for one episode already in hand."""
    if not episode.next_review_target:
        return ""
    due = ReviewDue(episode.next_review_kind, episode.next_review_target, episode.next_review_deadline, ())
    return review_status(due, today)


# --- Safety events ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyEvent:
    on: date
    patient_id: int
    patient: str
    what: str
    action_needed: str = ""  # what is still to be done, shown first


def recent_safety_events(user, *, today: date, days: int = 28) -> list[SafetyEvent]:
    """Runs of three or more missed doses and unexpected drug test results in the last four weeks."""
    since = today - timedelta(days=days)
    reports = (
        scoped(
            PharmacyReport.objects.filter(missed_dose_run__gte=MISSED_DOSE_SAFETY_RUN, period_end__gte=since),
            user,
        )
        .select_related("episode__patient")
        .order_by("-period_end")[:20]
    )
    results = (
        scoped(
            DrugTestResult.objects.filter(test__taken_on__gte=since, test__entered_in_error_at__isnull=True),
            user,
            episode_path="test__episode__",
        )
        .filter(_unexpected())
        .select_related("test__episode__patient")
        .order_by("-test__taken_on")[:20]
    )
    events = [
        SafetyEvent(
            r.period_end,
            r.episode.patient_id,
            str(r.episode.patient),
            f"{r.missed_dose_run} consecutive missed doses at {r.pharmacy_name}"
            + (f": prescriber told on {r.prescriber_informed_on:%d %b}" if r.prescriber_informed_on else ""),
            "" if r.prescriber_informed_on else "Prescriber not yet told: tell them before dosing resumes.",
        )
        for r in reports
    ] + [
        SafetyEvent(r.test.taken_on, r.test.episode.patient_id, str(r.test.episode.patient), _describe(r))
        for r in results
    ]
    return sorted(events, key=lambda e: e.on, reverse=True)[:20]


def _unexpected() -> Q:
    return Q(result=TestResult.POSITIVE, expected_because_prescribed=False) | Q(
        result=TestResult.NEGATIVE, expected_because_prescribed=True
    )


def _describe(result: DrugTestResult) -> str:
    if result.expected_because_prescribed:
        return f"{result.get_substance_display()} negative although prescribed: is it being taken?"
    return f"{result.get_substance_display()} positive"


# --- Drug tests and pharmacy reports, compiled (§2.9) -----------------------------------------------------------


def drug_test_compilation(
    tests: list[DrugTest], *, since: date | None = None, until: date | None = None
) -> dict:
    """Drug tests (with their results prefetched) compiled for a period: the share of tests negative for
    non-prescribed opioids (stopping problem use), the share of tests where prescribed medication was present
    (compliance), and the unexpected results (to set against self-report)."""
    tests = [
        t for t in tests if (since is None or t.taken_on >= since) and (until is None or t.taken_on <= until)
    ]
    opioid_tested = opioid_negative = prescribed_tested = prescribed_present = 0
    unexpected = []
    for test in tests:
        results = list(test.results.all())
        opioid = [r for r in results if r.substance in NON_PRESCRIBED_OPIOIDS]
        if opioid:
            opioid_tested += 1
            opioid_negative += not any(r.result == TestResult.POSITIVE for r in opioid)
        prescribed = [r for r in results if r.expected_because_prescribed]
        if prescribed:
            prescribed_tested += 1
            prescribed_present += all(r.result == TestResult.POSITIVE for r in prescribed)
        unexpected += [(test, r) for r in results if r.is_unexpected]
    return {
        "tests": len(tests),
        "opioid_tested": opioid_tested,
        "opioid_negative": opioid_negative,
        "opioid_negative_share": opioid_negative / opioid_tested if opioid_tested else None,
        "prescribed_tested": prescribed_tested,
        "prescribed_present": prescribed_present,
        "prescribed_present_share": prescribed_present / prescribed_tested if prescribed_tested else None,
        "unexpected": unexpected,
    }


@dataclass(frozen=True)
class MissedRun:
    first: date
    last: date
    length: int
    report: PharmacyReport

    @property
    def is_safety_event(self) -> bool:
        return self.length >= MISSED_DOSE_SAFETY_RUN


def missed_runs(report: PharmacyReport) -> list[MissedRun]:
    """Runs of consecutive missed days in one report (its missed doses prefetched)."""
    days = sorted(m.missed_on for m in report.missed_doses.all())
    runs, start, previous = [], None, None
    for day in days:
        if previous is not None and day - previous == timedelta(days=1):
            previous = day
            continue
        if start is not None:
            runs.append(MissedRun(start, previous, (previous - start).days + 1, report))
        start = previous = day
    if start is not None:
        runs.append(MissedRun(start, previous, (previous - start).days + 1, report))
    return runs


def pharmacy_compilation(
    reports: list[PharmacyReport], *, since: date | None = None, until: date | None = None
) -> dict:
    """Pharmacy attendance for a period (§2.9): supervised doses taken of those due to be supervised (doses due
    less those collected to take home), doses missed, and the runs of missed doses; three or more in a row is
    a safety event (tolerance may be lost)."""
    reports = [
        r
        for r in reports
        if (since is None or r.period_end >= since) and (until is None or r.period_start <= until)
    ]
    supervised_due = sum(r.doses_due - r.take_home_doses_collected for r in reports)
    taken = sum(r.supervised_doses_taken for r in reports)
    runs = [run for r in reports for run in missed_runs(r)]
    return {
        "reports": len(reports),
        "supervised_due": supervised_due,
        "supervised_taken": taken,
        "supervised_share": taken / supervised_due if supervised_due else None,
        "missed": sum(len(r.missed_doses.all()) for r in reports),
        "longest_run": max((r.missed_dose_run for r in reports), default=0),
        "runs": sorted((run for run in runs if run.length >= 2), key=lambda run: run.first, reverse=True),
        "safety_events": [run for run in runs if run.is_safety_event],
        "concerns": [r for r in reports if r.concerns],
    }


# --- Care plan ------------------------------------------------------------------------------------------------------


def care_plan_progress(goals: list[Goal]) -> dict:
    """Goals by domain with their actions (prefetched), and how far the plan has come (§2.7, §2.12)."""
    by_domain = {domain: [] for domain, _ in CoreDomain.choices}
    for goal in goals:
        by_domain[goal.domain].append(goal)
    live = [g for g in goals if g.progress != GoalProgress.NO_LONGER_RELEVANT]
    achieved = sum(g.progress == GoalProgress.ACHIEVED for g in live)
    return {
        "goals": goals,
        "by_domain": [(DOMAIN_LABELS[d], d, gs) for d, gs in by_domain.items()],
        "live": len(live),
        "achieved": achieved,
        "achieved_share": achieved / len(live) if live else None,
        "self_managed": sum(g.self_managed for g in live),
        "open_actions": sum(1 for g in goals for a in g.actions.all() if a.completed_on is None),
    }


def goals_for_episode(episode: TreatmentEpisode) -> list[Goal]:
    return list(
        Goal.objects.filter(care_plan__episode=episode)
        .prefetch_related("actions")
        .order_by("domain", "created_at", "pk")
    )


# --- The patient's record -------------------------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    on: date
    kind: str
    title: str
    detail: str = ""
    flag: str = ""  # "danger" or "warning" for attention; "in-error" for an entry kept but not counted
    url: str = ""
    error_url: str = ""  # where to mark the entry as entered in error
    outcome_url: str = ""  # a booked appointment: where to record what happened


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

    @property
    def awaiting_review(self):
        return next((r for r in self.reviews if r.status == ReviewStatus.AWAITING_PATIENT), None)

    @property
    def draft_review(self):
        return next((r for r in self.reviews if r.status == ReviewStatus.DRAFT), None)

    @property
    def badge(self) -> str:
        return AWAITING_PATIENT if self.awaiting_review else ""

    @property
    def test_summary(self) -> dict:
        return drug_test_compilation(self.tests, since=self.evidence_since)

    @property
    def pharmacy(self) -> dict:
        return pharmacy_compilation(self.reports, since=self.evidence_since)

    @property
    def care_plan(self) -> dict:
        return care_plan_progress(self.goals)

    @property
    def chart(self) -> dict:
        return top_chart_data(self.tops)

    @property
    def top_answers(self) -> dict:
        return top_latest_answers(self.tops)

    @property
    def latest_top(self):
        return self.tops[-1] if self.tops else None

    @property
    def recent_tests(self):
        return self.tests[:8]

    def timeline(self) -> list[TimelineEntry]:
        return build_timeline(self)


def _standing_and_in_error(queryset) -> tuple[list, list]:
    """One read of every entry, including those entered in error, split into what counts and what was marked."""
    rows = list(queryset.select_related("entered_in_error_by"))
    return [r for r in rows if not r.is_entered_in_error], [r for r in rows if r.is_entered_in_error]


def episode_record(episode: TreatmentEpisode, *, today: date) -> EpisodeRecord:
    """Read one episode's record for the patient page: one query per kind of record."""
    tops, tops_in_error = _standing_and_in_error(
        TopAssessment.with_errors.filter(episode=episode).order_by("assessed_on", "pk")
    )
    tests, tests_in_error = _standing_and_in_error(
        DrugTest.with_errors.filter(episode=episode)
        .order_by("-taken_on", "-pk")
        .prefetch_related(Prefetch("results", queryset=DrugTestResult.objects.order_by("substance")))
    )
    reports, reports_in_error = _standing_and_in_error(
        PharmacyReport.with_errors.filter(episode=episode)
        .order_by("-period_end", "-pk")
        .prefetch_related("missed_doses")
    )
    return EpisodeRecord(
        episode=episode,
        today=today,
        status=status_of(episode, today=today),
        interventions=list(episode.interventions.order_by("-started_on", "-pk")),
        dispensing=list(
            episode.dispensing_arrangements.select_related("recorded_by").order_by(
                "-effective_from", "-recorded_at"
            )
        ),
        circumstances=list(episode.circumstances.order_by("-started_on", "-pk")),
        tops=tops,
        tests=tests,
        reports=reports,
        entered_in_error=[*tops_in_error, *tests_in_error, *reports_in_error],
        appointments=list(episode.appointments.select_related("keyworker").order_by("-starts_at")[:200]),
        reviews=list(
            StrategicReview.objects.filter(episode=episode)
            .select_related("lead")
            .prefetch_related("findings")
            .order_by("-held_on", "-pk")
        ),
        check_ups=list(RecoveryCheckUp.objects.filter(episode=episode).order_by("sequence")),
        goals=goals_for_episode(episode),
        care_team_changes=list(
            CareTeamChange.objects.filter(
                patient_id=episode.patient_id,
                changed_on__gte=episode.entry_date,
                changed_on__lte=episode.exit_date or today,
            ).select_related("from_team", "to_team", "from_keyworker", "to_keyworker", "from_lead", "to_lead")
        ),
        corrections=list(
            RecordCorrection.objects.filter(
                Q(episode=episode) | Q(episode__isnull=True), patient_id=episode.patient_id
            )
            .select_related("corrected_by")
            .order_by("corrected_at")
        ),
    )


# Entries kept but marked entered in error: their timeline kind and the date they are shown at.
IN_ERROR_ON_TIMELINE = {
    TopAssessment: ("top", "assessed_on"),
    DrugTest: ("drug_test", "taken_on"),
    PharmacyReport: ("pharmacy", "period_end"),
}


def build_timeline(record: EpisodeRecord) -> list[TimelineEntry]:
    """Appointments, TOP, drug tests, pharmacy reports, reviews and changes of treatment, newest first."""
    from django.urls import reverse

    entries = [TimelineEntry(record.episode.entry_date, "episode", "Entered treatment")]
    if record.episode.exit_date:
        entries.append(
            TimelineEntry(
                record.episode.exit_date,
                "episode",
                "Left treatment",
                record.episode.get_exit_reason_display(),
            )
        )
    for a in record.appointments:
        booked = a.status == AppointmentStatus.BOOKED
        entries.append(
            TimelineEntry(
                a.starts_at.date(),
                "appointment",
                f"Appointment with {a.keyworker}: {a.get_status_display().lower()}",
                a.review_note,
                "warning" if a.status == "missed" else "",
                outcome_url=reverse("patients:appointment_outcome", args=[a.pk]) if booked else "",
            )
        )

    def error_url(kind: str, pk: int) -> str:
        return reverse("patients:entered_in_error", args=[kind, pk])

    for top in record.tops:
        entries.append(
            TimelineEntry(
                top.assessed_on,
                "top",
                f"TOP: {top.get_stage_display().lower()}",
                error_url=error_url("top", top.pk),
            )
        )
    for test in record.tests:
        results = list(test.results.all())
        flagged = [r for r in results if r.is_unexpected]
        entries.append(
            TimelineEntry(
                test.taken_on,
                "drug_test",
                f"{test.get_method_display()} drug test",
                "; ".join(str(r) for r in results),
                "danger" if flagged else "",
                error_url=error_url("drug-test", test.pk),
            )
        )
    for report in record.reports:
        detail = f"{report.supervised_doses_taken} of {report.doses_due - report.take_home_doses_collected} supervised doses taken"
        if report.missed_dose_run:
            detail += f"; longest run of missed doses {report.missed_dose_run}"
        if report.prescriber_informed_on:
            detail += f"; prescriber told on {report.prescriber_informed_on:%d %b %Y}"
        elif report.is_safety_event:
            detail += "; prescriber not yet told"
        entries.append(
            TimelineEntry(
                report.period_end,
                "pharmacy",
                f"Pharmacy report, {report.pharmacy_name}",
                detail,
                "danger" if report.is_safety_event else "",
                error_url=error_url("pharmacy-report", report.pk),
            )
        )
    for review in record.reviews:
        entries.append(
            TimelineEntry(
                review.held_on,
                "review",
                f"Strategic review led by {review.lead}: {review.get_status_display().lower()}",
                ", ".join(f.get_code_display() for f in review.findings.all()),
                "warning" if review.status == ReviewStatus.AWAITING_PATIENT else "",
                reverse("reviews:detail", args=[review.pk]),
            )
        )
    for d in record.dispensing:
        entries.append(
            TimelineEntry(
                d.effective_from,
                "dispensing",
                f"Dispensing: {d}",
                f"{d.get_change_reason_display()}. {d.reason_note}",
            )
        )
    for i in record.interventions:
        entries.append(TimelineEntry(i.started_on, "intervention", f"Started: {i}", i.note))
        if i.ended_on:
            entries.append(TimelineEntry(i.ended_on, "intervention", f"Ended: {i}"))
    for c in record.circumstances:
        entries.append(
            TimelineEntry(c.started_on, "circumstance", f"Recorded: {c.get_code_display()}", c.note)
        )
        if c.ended_on:
            entries.append(TimelineEntry(c.ended_on, "circumstance", f"No longer: {c.get_code_display()}"))
    for check_up in record.check_ups:
        entries.append(
            TimelineEntry(
                check_up.held_on,
                "check_up",
                f"Recovery check-up {check_up.sequence}",
                check_up.get_outcome_display(),
            )
        )
    for wrong in record.entered_in_error:
        kind, dated_by = IN_ERROR_ON_TIMELINE[type(wrong)]
        entries.append(
            TimelineEntry(
                getattr(wrong, dated_by),
                kind,
                f"Entered in error: {wrong}",
                f"{wrong.entered_in_error_reason} (marked by {wrong.entered_in_error_by} on "
                f"{wrong.entered_in_error_at:%d %b %Y}; not counted as evidence)",
                "in-error",
            )
        )
    for correction in record.corrections:
        entries.append(
            TimelineEntry(
                timezone.localdate(correction.corrected_at),
                "correction",
                f"Corrected: {correction}",
                f"{correction.reason} ({correction.corrected_by})",
            )
        )
    for change in record.care_team_changes:
        entries.append(
            TimelineEntry(
                change.changed_on, "care_team", "Care team: " + "; ".join(change.changes()), change.reason
            )
        )
    return sorted(entries, key=lambda e: e.on, reverse=True)
