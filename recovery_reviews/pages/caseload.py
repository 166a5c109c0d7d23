"""The caseload: the keyworker's home page, composed from the clinical record (patients) and each episode's stored
next review with its status (reviews; docs/design.md, rule 8). Next reviews soonest
first, filtered and searched; what is due this week; appointments whose outcome is still to record; the reviews the
user leads that are still to finish; recent safety events; and, for a search, patients with nothing due. A row within
3 months of a treatment transition since the last review says so, with what changed and when (App. C 2); a row
says when the patient is disengaging (Intro, App. B) and when their risk is raised or high, with its reasons
(§2.2; docs/design.md, Risk level and disengagement). A row is
an episode, sorted and filtered by the first item it owes; every further item (a check-up after an element of
treatment beside the strategic review, docs/design.md rule 7b) is shown in the row with its own dates and status."""

from __future__ import annotations

from datetime import date

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils import timezone

from patients.access import episodes_for_user
from patients.models import TreatmentEpisode
from patients.selectors import (
    appointments_to_record,
    patients_with_nothing_due,
    recent_safety_events,
    search_filter,
    this_week_filter,
)
from recovery_reviews.access import team_ids_for_user
from recovery_reviews.audit import record_list_access
from recovery_reviews.pages.forms import CaseloadFilterForm
from reviews.risk_selectors import disengagement_of, risk_of, transitions_by_episode, with_risk_facts
from reviews.selectors import reviews_to_finish, transition_vigilance_by_episode
from reviews.status import (
    KIND_LABELS,
    STATUS_LABELS,
    awaiting_patient_expression,
    owed_items_by_episode,
    review_status_expression,
    status_filter,
)


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
        episodes = episodes.filter(this_week_filter(today))
    if search:
        episodes = episodes.filter(search_filter(search))
    return episodes


def due_this_week(user, *, today: date, limit: int = 15) -> list[TreatmentEpisode]:
    """Across the whole scope, not only the page shown: targets and deadlines in the next seven days."""
    return list(caseload_for_user(user, today=today, this_week=True)[:limit])


def caseload(request):
    """The keyworker's home: next reviews soonest first, filtered and searched; due this week; safety events."""
    today = timezone.localdate()
    form = CaseloadFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    episodes = caseload_for_user(
        request.user,
        today=today,
        status=filters.get("status", ""),
        search=filters.get("q", ""),
        team_id=getattr(filters.get("team"), "pk", None),
        mine=filters.get("mine", False),
        this_week=filters.get("week", False),
    )
    # the risk level's and disengagement's facts ride on the page's own query (reviews/risk_selectors.py)
    page = Paginator(with_risk_facts(episodes, today=today), 50).get_page(request.GET.get("page"))
    vigilance = transition_vigilance_by_episode(list(page), today=today)  # one query for the page's episodes
    owed = owed_items_by_episode([episode.pk for episode in page], today=today)  # and one for their items
    record_list_access(request, [episode.patient for episode in page])  # each patient shown, on their log
    transitions = transitions_by_episode(list(page))  # and one for the risk level's transitions
    for episode in page:
        episode.vigilance = vigilance.get(episode.pk)  # within 3 months of a transition (App. C 2)
        episode.also_owed = owed.get(episode.pk, [])[1:]  # every item after the first (rule 7b)
        episode.risk = risk_of(episode, transitions.get(episode.pk, ()), today=today)  # §2.2
        episode.disengaged = disengagement_of(episode, today=today)  # Intro, App. B
    return render(
        request,
        "patients/caseload.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "status_labels": STATUS_LABELS,
            "kind_labels": KIND_LABELS,
            "due_this_week": due_this_week(request.user, today=today),
            "appointments_to_record": appointments_to_record(request.user),
            "reviews_to_finish": reviews_to_finish(request.user),
            "safety_events": recent_safety_events(request.user, today=today),
            "filtered": any(filters.values()),
            "can_register": bool(team_ids_for_user(request.user)),
            "nothing_due": patients_with_nothing_due(request.user, search=filters.get("q", "")),
        },
    )
