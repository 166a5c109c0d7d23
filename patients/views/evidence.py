"""Pages that record the evidence a review weighs (§2.9): TOP, drug tests, pharmacy reports and the prescriber told
of missed doses; and marking any of them entered in error, kept on the record but no longer counted."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from patients import forms, services
from patients.access import episode_for_user
from patients.models import (
    DrugTest,
    PharmacyReport,
    TopAssessment,
    TopStage,
)
from patients.selectors.evidence import MissedRun, episode_safety_events
from patients.selectors.substances import patient_substances, recent_tests_since, substances_found_since
from patients.views.common import episode_form_page, say_if_moved, schedule_of
from recovery_reviews.access import record_for_user
from recovery_reviews.audit import record_access
from recovery_reviews.formatting import day
from recovery_reviews.forms import add_service_errors


def top_stage(episode, asked: str = "") -> str:
    """The stage the TOP form starts at: the one asked for (?stage=exit, from leaving treatment), else the one
    the episode is at. An ended episode without an exit TOP is asked for one first."""
    if asked in TopStage.values:
        return asked
    if episode.exit_date:
        has_exit_top = episode.top_assessments.filter(stage=TopStage.EXIT).exists()
        return TopStage.POST_EXIT if has_exit_top else TopStage.EXIT
    return TopStage.REVIEW if episode.top_assessments.exists() else TopStage.START


def top_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    stage = top_stage(episode, request.GET.get("stage", ""))
    return episode_form_page(
        request,
        episode,
        form_class=forms.TopAssessmentForm,
        initial={"assessed_on": timezone.localdate(), "stage": stage},
        save=lambda form: services.top_assessment_record(
            episode=episode,
            assessed_on=form.cleaned_data["assessed_on"],
            stage=form.cleaned_data["stage"],
            answers=form.answers(),
            by=request.user,
        ),
        success="Treatment Outcomes Profile recorded.",
        template="patients/top_form.html",
    )


def drug_test_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)
    initial = None
    if (
        request.method != "POST"
    ):  # the rows start with the patient's own substances; a posted form keeps its own
        today = timezone.localdate()
        prescribed = forms.prescribed_substances(episode.interventions.all(), today)
        found = substances_found_since(episode, since=recent_tests_since(today))
        initial = forms.result_rows_initial(patient_substances(episode, found), prescribed)
    results = forms.DrugTestResultFormSet(request.POST or None, prefix="results", initial=initial)
    if results.is_bound:
        results.is_valid()  # so that its errors show even when the test's own fields are wrong

    def save(form):
        if not results.is_valid():
            raise ValidationError("Correct the results below.")
        return services.drug_test_record(
            episode=episode, by=request.user, results=results.results(), **form.cleaned_data
        )

    return episode_form_page(
        request,
        episode,
        form_class=forms.DrugTestForm,
        initial={"taken_on": timezone.localdate()},
        save=save,
        success=lambda test: (
            "Drug test recorded."
            + (
                " It has unexpected results: see the record."
                if any(r.is_unexpected for r in test.results.all())
                else ""
            )
        ),
        template="patients/drug_test_form.html",
        extra={"results": results},
    )


def pharmacy_report_new(request, episode_pk):
    episode = episode_for_user(request.user, episode_pk)

    def success(report):
        """A warning for each safety event the report is part of, read across the episode's reports (docs/design.md
        rule 4b): its missed doses may make a run with an earlier report's, or carry one on."""
        runs = [run for run in episode_safety_events(episode.pk) if report in run.reports]
        for run in runs:
            messages.warning(request, safety_event_warning(run))
        return "" if runs else "Pharmacy report recorded."

    return episode_form_page(
        request,
        episode,
        form_class=forms.PharmacyReportForm,
        save=lambda form: services.pharmacy_report_record(
            episode=episode, by=request.user, **form.cleaned_data
        ),
        success=success,
        template="patients/pharmacy_report_form.html",
    )


def safety_event_warning(run: MissedRun) -> str:
    told = run.told_on
    where = (
        f", {day(run.first)} to {day(run.last)}, over {len(run.reports)} pharmacy reports"
        if run.across_reports
        else ""
    )
    return f"{run.length} consecutive missed doses{where}: a safety event. Tolerance may be lost; " + (
        f"the prescriber was told on {day(told)}."
        if told
        else "tell the prescriber before dosing resumes, and record it on the safety alert."
    )


def prescriber_informed(request, pk):
    """Record that the prescriber was told of a run of missed doses (before dosing resumes). The safety alert
    links here from the report that owns the run (the one holding its third missed day), so that telling once is
    recorded once for the whole run, whichever reports its days fall in."""
    report = record_for_user(request.user, PharmacyReport.objects.select_related("episode__patient"), pk)
    form = forms.PrescriberInformedForm(request.POST or None, initial={"informed_on": timezone.localdate()})
    if request.method == "POST" and report.prescriber_informed_on is None and form.is_valid():
        try:
            services.prescriber_informed_record(report=report, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Recorded: the prescriber was told on {day(form.cleaned_data['informed_on'])}."
            )
            return redirect(report.episode.get_absolute_url())
    record_access(request, report.episode.patient)
    runs = [run for run in episode_safety_events(report.episode_id) if report in run.reports]
    return render(
        request,
        "patients/prescriber_informed.html",
        {
            "form": form,
            "report": report,
            "episode": report.episode,
            "runs": [run for run in runs if run.report == report] or runs,
        },
    )


ENTERED_IN_ERROR_KINDS = {"top": TopAssessment, "drug-test": DrugTest, "pharmacy-report": PharmacyReport}


ENTERED_IN_ERROR_NAMES = {"top": "TOP", "drug-test": "Drug test", "pharmacy-report": "Pharmacy report"}


def entered_in_error(request, kind, pk):
    """Mark a TOP, drug test or pharmacy report as entered in error: kept on the record, no longer evidence."""
    model = ENTERED_IN_ERROR_KINDS.get(kind)
    if model is None:
        raise Http404("No such kind of record.")
    record = record_for_user(request.user, model.with_errors.select_related("episode__patient"), pk)
    episode = record.episode
    form = forms.EnteredInErrorForm(request.POST or None)
    if request.method == "POST" and not record.is_entered_in_error and form.is_valid():
        before = schedule_of(episode.pk)
        try:
            services.record_mark_entered_in_error(record=record, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{ENTERED_IN_ERROR_NAMES[kind]} ({record}) is marked as entered in error: it no longer counts "
                "as evidence.",
            )
            say_if_moved(request, episode, before)
            return redirect(episode.get_absolute_url())
    record_access(request, episode.patient)
    return render(
        request, "patients/entered_in_error.html", {"form": form, "record": record, "episode": episode}
    )
