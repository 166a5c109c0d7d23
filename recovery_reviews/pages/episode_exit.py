"""Leaving treatment, as a safety check. There is a brief raised risk of death just after treatment ends, which
calls for attention to dosing, compliance and the other risks of relapse before departure, and for the patient's
skills to reduce it (Intro, App. B). So before the form the page shows what the clinician weighs: the current OST
medicine and dose, the last dose collected, adherence over the last four weeks from the pharmacy's reports (runs
of missed doses read across reports, docs/design.md rule 4b), and everything still open that the exit will end.
After it, the message says what ended with it, what is owed next or why nothing is (rule 7 amended), and asks
for the exit TOP.

A page of the top layer because it reads the review schedule and the episode's strategic reviews: a draft that
will now never be held is named, to be discarded."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html

from patients import forms, services
from patients.access import episode_for_user
from patients.models import (
    DispensingArrangement,
    ExitReason,
    Intervention,
    InterventionKind,
    PharmacyReport,
    TreatmentEpisode,
)
from patients.services.treatment import ExitRecorded
from patients.views.common import episode_form_page
from recovery_reviews.formatting import day
from reviews.models import OwedItem, ReviewStatus
from reviews.scheduling import ELEMENT_CHECK_UP, RECOVERY_CHECK_UP, nothing_owed_reason
from reviews.scheduling_missed_doses import MissedDoseRun, missed_dose_runs
from reviews.services.schedule import facts_for_episode

ADHERENCE_DAYS = 28  # "adherence over the last four weeks"


@dataclass
class Adherence:
    """The pharmacy's reports that cover any of the last four weeks, added up whole (a report gives its totals
    for its period, not day by day), and the longest run of consecutive missed doses that reaches into those
    weeks, read across every report (a run may begin in an earlier one)."""

    since: date
    reports: list[PharmacyReport] = field(default_factory=list)
    longest_run: MissedDoseRun | None = None

    @property
    def supervised_due(self) -> int:
        return sum(r.doses_due - r.take_home_doses_collected for r in self.reports)

    @property
    def supervised_taken(self) -> int:
        return sum(r.supervised_doses_taken for r in self.reports)

    @property
    def missed(self) -> int:
        return sum(len(r.missed_doses.all()) for r in self.reports)

    @property
    def covered_from(self) -> date | None:
        return min((r.period_start for r in self.reports), default=None)

    @property
    def covered_to(self) -> date | None:
        return max((r.period_end for r in self.reports), default=None)


@dataclass
class LastDose:
    """The last day of the latest pharmacy report with a dose taken or collected that is not marked missed."""

    on: date
    report: PharmacyReport
    missed_after: list[date]


@dataclass
class BeforeExit:
    """What the exit page shows before the form, read with four queries whatever the record's size."""

    today: date
    open_interventions: list[Intervention]
    dispensing: DispensingArrangement | None  # the arrangement in force today
    planned_dispensing: list[DispensingArrangement]
    adherence: Adherence
    last_dose: LastDose | None
    reports_recorded: int

    @property
    def ost(self) -> list[Intervention]:
        return [i for i in self.open_interventions if i.kind == InterventionKind.OST]

    @property
    def days_since_last_dose(self) -> int | None:
        return (self.today - self.last_dose.on).days if self.last_dose else None

    @property
    def nothing_open(self) -> bool:
        return not (self.open_interventions or self.dispensing or self.planned_dispensing)


def _last_dose(reports: list[PharmacyReport], missed: set[date]) -> LastDose | None:
    for report in reports:  # newest first
        if report.supervised_doses_taken + report.take_home_doses_collected == 0:
            continue
        on = report.period_end
        while on >= report.period_start and on in missed:
            on -= timedelta(days=1)
        if on >= report.period_start:
            after = sorted(d for d in missed if on < d <= report.period_end)
            return LastDose(on=on, report=report, missed_after=after)
    return None


def before_exit(episode: TreatmentEpisode, *, today: date) -> BeforeExit:
    """The current dose, the last dose collected, adherence over the last four weeks and what is still open."""
    interventions = list(episode.interventions.filter(ended_on__isnull=True).order_by("started_on", "pk"))
    arrangements = list(
        episode.dispensing_arrangements.filter(ended_on__isnull=True).order_by(
            "-effective_from", "-recorded_at"
        )
    )
    reports = list(  # the default manager leaves out reports entered in error
        PharmacyReport.objects.filter(episode=episode)
        .order_by("-period_end", "-pk")
        .prefetch_related("missed_doses")
    )
    missed = {d.missed_on for r in reports for d in r.missed_doses.all()}
    since = today - timedelta(days=ADHERENCE_DAYS - 1)
    runs = [run for run in missed_dose_runs(missed) if run.last >= since]
    return BeforeExit(
        today=today,
        open_interventions=interventions,
        dispensing=next((a for a in arrangements if a.effective_from <= today), None),
        planned_dispensing=sorted(
            (a for a in arrangements if a.effective_from > today), key=lambda a: a.effective_from
        ),
        adherence=Adherence(
            since=since,
            reports=[r for r in reports if r.period_end >= since and r.period_start <= today],
            longest_run=max(runs, key=lambda run: (run.length, run.last), default=None),
        ),
        last_dose=_last_dose(reports, missed),
        reports_recorded=len(reports),
    )


def _exit_message(result: ExitRecorded) -> str:
    """What ended with the episode, what is owed next or why nothing is, and the exit TOP to record."""
    episode = result.episode
    parts = [
        format_html(
            "The episode ended on {} ({}).", day(episode.exit_date), episode.get_exit_reason_display()
        )
    ]
    ended = [str(i) for i in result.interventions_ended]
    if result.dispensing_closed:
        ended.append(f"dispensing ({result.dispensing_closed})")
    parts.append(
        f"Ended with it on {day(episode.exit_date)}: {'; '.join(ended)}."
        if ended
        else "No intervention or dispensing arrangement was open."
    )
    if reason := nothing_owed_reason(facts_for_episode(episode)):
        parts.append(reason)
    else:
        # Every item owed now, each by its own target: check-up 1, and any check-up after an element still owed.
        for item in OwedItem.objects.filter(episode=episode).order_by("target", "pk"):
            if item.kind == RECOVERY_CHECK_UP:
                parts.append(
                    f"Recovery check-ups are now scheduled (§1.7): the first is due by {day(item.target)}."
                )
            elif item.kind == ELEMENT_CHECK_UP:
                parts.append(
                    f"The check-up after the element of treatment that ended on {day(item.element_end)} is still "
                    f"owed: due by {day(item.target)}, no later than {day(item.deadline)} (§1.7)."
                )
    draft = episode.strategic_reviews.filter(status=ReviewStatus.DRAFT).select_related("lead").first()
    if draft:
        parts.append(
            f"The strategic review started on {day(draft.held_on)} (lead {draft.lead}) was not completed: "
            "open it and discard it."
        )
    if episode.exit_reason != ExitReason.DIED:
        url = reverse("patients:top_new", args=[episode.pk]) + "?stage=exit"
        parts.append(format_html('<a href="{}" class="alert-link">Record the exit TOP</a>.', url))
    return format_html(" ".join(["{}"] * len(parts)), *parts)


def episode_exit(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    today = timezone.localdate()
    return episode_form_page(
        request,
        episode,
        form_class=forms.EpisodeExitForm,
        initial={"exit_date": today},
        save=lambda form: services.episode_exit(episode=episode, by=request.user, **form.cleaned_data),
        success=_exit_message,
        template="patients/episode_exit.html",
        title="End the treatment episode",
        # read only when the page is shown, not after a successful exit
        extra={"before": SimpleLazyObject(lambda: before_exit(episode, today=today))},
    )
