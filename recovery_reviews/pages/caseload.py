"""The caseload: the keyworker's home page, composed from the clinical record (patients) and each episode's stored
next review with its status (reviews; docs/design.md, rule 8). Next reviews soonest
first, filtered and searched; what is due this week; appointments whose outcome is still to record; the reviews the
user leads that are still to finish; recent safety events; and, for a search, patients with nothing due. A row within
3 months of a treatment transition since the last review says so, with what changed and when (App. C 2); a row
says when the patient is disengaging (Intro, App. B) and when their risk is raised or high, with its reasons
(§2.2; docs/design.md, Risk level and disengagement). A row is
an episode, sorted and filtered by the first item it owes; every further item (a check-up after an element of
treatment beside the strategic review, docs/design.md rule 7b) is shown in the row with its own dates and status.

What needs doing first comes before the long list (docs/design.md, The keyworker's home): today's appointments, the
safety events (each acknowledged here: who saw it and when, nothing else changes), the appointments to record, what
is overdue or due (with the days overdue) and the reviews to finish. A keyworker opens on their own caseload, the
team one tap away; everyone else on the team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from patients.access import episodes_for_user, patients_for_user
from patients.models import TreatmentEpisode, patient_url
from patients.selectors import (
    MISSED_DOSES,
    appointments_to_record,
    appointments_today,
    patients_with_nothing_due,
    recent_safety_events,
    safety_event_for_user,
    search_filter,
    this_week_filter,
)
from patients.services.acknowledgement import safety_event_acknowledge
from recovery_reviews import formatting
from recovery_reviews.access import team_ids_for_user
from recovery_reviews.audit import record_list_access
from recovery_reviews.compiled_queries import CompiledQuery, planned_for_their_values
from recovery_reviews.forms import csrf_input
from recovery_reviews.pages.caseload_cards import due_items_html, safety_events_html
from recovery_reviews.pages.caseload_rows import rows_html
from recovery_reviews.pages.forms import CaseloadFilterForm
from reviews.risk_selectors import disengagement_of, risk_of, with_risk_facts
from reviews.selectors import reviews_to_finish, transitions_and_vigilance_by_episode
from reviews.status import (
    KIND_LABELS,
    STATUS_LABELS,
    awaiting_patient_expression,
    owed_items_by_episode,
    review_status_expression,
    status_filter,
)

# A search matching more patients than this says "more than 1,000" and lists the first 1,000 of their reviews,
# soonest first, instead of counting and sorting every match (a third of the service for an NHS number's first
# digits: 90,000 at 300,000 patients); and it does not look for patients with nothing due.
SEARCH_CAP = 1000


# What the caseload reads of each episode, its patient, their keyworker and team (the rows, the risk level and
# disengagement, the transitions): the rest of these wide rows is left unread, 40 to 50 of each on every page.
CASELOAD_READS = (
    "patient_id",
    "team_id",
    "keyworker_id",
    "entry_date",
    "exit_date",
    "next_review_kind",
    "next_review_target",
    "next_review_deadline",
    "next_review_reasons",
    "patient__given_name",
    "patient__family_name",
    "patient__nhs_number",
    "patient__team_id",
    "patient__keyworker_id",
    "patient__keyworker__username",
    "patient__keyworker__first_name",
    "patient__keyworker__last_name",
    "patient__team__name",
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
        .only(*CASELOAD_READS)
        .order_by("next_review_target", "patient__family_name", "pk")
    )
    if status:
        episodes = episodes.filter(status_filter(status, today))
    if team_id:
        episodes = episodes.filter(team_id=team_id)
    if mine:
        episodes = episodes.filter(keyworker_id=user.pk)
    if this_week:
        episodes = episodes.filter(this_week_filter(today))
    if search:
        episodes = episodes.filter(search_filter(search))
    return episodes


def due_this_week(
    episodes: QuerySet[TreatmentEpisode], *, today: date, limit: int = 20
) -> list[TreatmentEpisode]:
    """Of the caseload shown (the user's own or the team, with its filters), across every page: what is overdue,
    what is due (its target passed), and targets and deadlines in the next seven days, the most pressing first.
    One query, whatever the number of patients."""
    urgent = Q(next_review_deadline__lt=today) | Q(next_review_target__lt=today) | this_week_filter(today)
    listed = list(episodes.filter(urgent)[:limit])
    for episode in listed:
        _days(episode, today)
    return listed


def due_this_week_on_the_page(
    listed: list[TreatmentEpisode], *, today: date, limit: int = 20
) -> list[TreatmentEpisode]:
    """due_this_week picked from a page that holds the whole caseload shown, in its order: no query. Overdue, due
    or in the next seven days is a target or a deadline on or before the seventh day (before today, or from today
    to the seventh)."""
    week_end = today + timedelta(days=6)
    urgent = [
        episode
        for episode in listed
        if any(
            day is not None and day <= week_end
            for day in (episode.next_review_target, episode.next_review_deadline)
        )
    ][:limit]
    for episode in urgent:
        _days(episode, today)
    return urgent


def _days(episode: TreatmentEpisode, today: date) -> None:
    """How late the episode's first item is, said in days: overdue past its deadline, or due past its target."""
    episode.days_overdue = (
        (today - episode.next_review_deadline).days if episode.review_status == "overdue" else 0
    )
    episode.days_past_target = (
        (today - episode.next_review_target).days if episode.review_status == "due" else 0
    )


def caseload(request):
    """The keyworker's home: what needs doing first, then next reviews soonest first, filtered and searched. A
    search's queries are planned for the text searched, not prepared (compiled_queries.planned_for_their_values)."""
    if request.GET.get("q", "").strip():
        with planned_for_their_values():
            return _caseload(request)
    return _caseload(request)


def _caseload(request):
    today = timezone.localdate()
    form = CaseloadFilterForm(request.GET, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {"mine": form.mine_by_default}
    mine = filters.get("mine", False)
    search = filters.get("q", "")
    chosen = {
        "status": filters.get("status", ""),
        "team_id": getattr(filters.get("team"), "pk", None),
        "mine": mine,
        "this_week": filters.get("week", False),
    }

    # The caseload's episodes as chosen are built only where a read needs them (a search, a page past the first,
    # a count of more than one page, what is due across pages): the first page comes from compiled SQL.
    found = (
        _search(request.user, search, caseload_for_user(request.user, today=today, **chosen))
        if search
        else None
    )

    def episodes_built() -> QuerySet[TreatmentEpisode]:
        return found.episodes if found is not None else caseload_for_user(request.user, today=today, **chosen)

    def listed() -> QuerySet[TreatmentEpisode]:
        # the risk level's and disengagement's facts ride on the page's own query (reviews/risk_selectors.py)
        rows = with_risk_facts(episodes_built(), today=today)
        return rows[:SEARCH_CAP] if found and found.capped else rows

    number = request.GET.get("page")
    page = _page(
        listed,
        number,
        count=found.listed if found is not None else None,  # counted with the match: no count of its own
        # the first page of a caseload unsearched, the page most asked for, from SQL compiled once
        head=(
            _first_page_head(request.user, today, chosen, check_against=lambda: listed()[: PER_PAGE + 1])
            if found is None and number in FIRST
            else None
        ),
    )
    # the transitions of the page's episodes: for the risk level, and within 3 months of one (App. C 2); one query
    transitions, vigilance = transitions_and_vigilance_by_episode(list(page), today=today)
    owed = owed_items_by_episode([episode.pk for episode in page], today=today)  # and one for their items
    record_list_access(request, [episode.patient for episode in page])  # each patient shown, on their log
    day = _day_formatter()
    rows = [
        _row(
            episode,
            today=today,
            vigilance=vigilance.get(episode.pk),  # within 3 months of a transition (App. C 2)
            also_owed=owed.get(episode.pk, [])[1:],  # every item after the first (rule 7b)
            transitions=transitions.get(episode.pk, ()),
            day=day,
        )
        for episode in page
    ]
    team_ids = team_ids_for_user(request.user)
    # the new ones first, each group newest first; an acknowledged event stays listed (H-041)
    safety_events = sorted(
        recent_safety_events(request.user, today=today),
        key=lambda event: not event.is_new,
    )
    due = _due_items(
        # a keyworker's own caseload fits on one page: what is due is among its rows
        due_this_week_on_the_page(page.object_list, today=today)
        if not page.has_other_pages() and not (found and found.capped)
        else due_this_week(episodes_built(), today=today),
        today=today,
        day=day,
    )
    safety_items = _safety_items(safety_events, request.GET, day)
    # the cards' lists written in Python (caseload_cards.py), byte for byte as the template's loops did
    safety_events_first, safety_events_more = safety_events_html(safety_items, csrf_input(request))
    due_first, due_more = due_items_html(due)
    return render(
        request,
        "patients/caseload.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            # written in Python (caseload_rows.py), byte for byte as the template's loop did
            "rows_html": rows_html(rows),
            "today": today,
            "mine": mine,
            "mine_query": _with(request.GET, mine="on"),
            "team_query": _with(request.GET, mine=""),
            "status_labels": STATUS_LABELS,
            "kind_labels": KIND_LABELS,
            "appointments_today": appointments_today(request.user, today=today),
            "due_this_week": due,
            "due_first": due_first,
            "due_more": due_more,
            "appointments_to_record": appointments_to_record(request.user),
            "reviews_to_finish": reviews_to_finish(request.user),
            "safety_events": safety_items,
            "safety_events_first": safety_events_first,
            "safety_events_more": safety_events_more,
            "new_safety_events": sum(event.is_new for event in safety_events),
            "filtered": any(value for name, value in filters.items() if name != "mine"),
            "can_register": bool(team_ids),
            "capped": found is not None and found.capped,
            "search_cap": SEARCH_CAP,
            "nothing_due": _nothing_due(request.user, found),
        },
    )


PER_PAGE = 50
FIRST = (None, "", "1")


def _first_page_built(user, today: date, team_id: int | None = None, **chosen):
    episodes = caseload_for_user(user, today=today, team_id=team_id, **chosen)
    return with_risk_facts(episodes, today=today)[: PER_PAGE + 1]


# The caseload's first page with one row more (see _page): compiled once per shape of scope and filters
# (recovery_reviews/compiled_queries.py), the same SQL caseload_for_user and with_risk_facts build.
_FIRST_PAGE = CompiledQuery(_first_page_built)


def _first_page_head(user, today: date, chosen: dict, *, check_against) -> list[TreatmentEpisode]:
    """The first page and one row more, with the filters `chosen` (caseload_for_user's): a team chosen is a value
    of the SQL, the rest its shape."""
    shape = {name: value for name, value in chosen.items() if name != "team_id"}
    team_id = {"team_id": chosen["team_id"]} if chosen["team_id"] else {}
    return _FIRST_PAGE.run(shape=shape, check_against=check_against, user=user, today=today, **team_id)


def _page(rows, number: str | None, *, count: int | None, head: list | None = None):
    """The page asked for, of `rows()`. The first is read with one row more than it shows (or given so read,
    `head`): a caseload that fits on one page (a keyworker's own, usually) is counted by it, without a count of
    its own, and its rows are not built again."""
    if head is not None and len(head) <= PER_PAGE:
        return Paginator(head, PER_PAGE).page(1)
    paginator = Paginator(rows(), PER_PAGE)
    if count is not None:
        paginator.count = count
        return paginator.get_page(number)
    if number not in FIRST:
        return paginator.get_page(number)
    if head is None:
        head = list(paginator.object_list[: PER_PAGE + 1])
    if len(head) <= PER_PAGE:
        paginator.count = len(head)
    page = paginator.page(1)  # more than a page: counted now, as any page is
    page.object_list = head[:PER_PAGE]
    return page


@dataclass
class _Found:
    episodes: QuerySet[TreatmentEpisode]  # the caseload's, narrowed to the search
    listed: int  # how many of them the pages list: every one, or the first SEARCH_CAP
    capped: bool  # more than SEARCH_CAP patients match
    nothing_due: list[int]  # the matching patients with nothing due (not looked for when capped)


def _search(user, search: str, episodes: QuerySet[TreatmentEpisode]) -> _Found:
    """The patients in scope matching a search, read once (the name's trigram index or the NHS number's prefix
    index), at most SEARCH_CAP + 1 of them, each with how many of the caseload's episodes it has (with the page's
    filters) and whether anything is due at all. Up to the cap, every later read (the count, the pages, what is due
    this week, the patients with nothing due) takes their ids instead of searching again. Past it, the caseload's
    episodes are searched as they are listed, soonest first, and only the first SEARCH_CAP listed."""
    on_caseload = (
        episodes.filter(patient=OuterRef("pk"))
        .order_by()
        .values("patient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    anything_due = TreatmentEpisode.objects.filter(patient=OuterRef("pk"), next_review_target__isnull=False)
    matches = list(
        patients_for_user(user)
        .filter(search_filter(search, prefix=""))
        .order_by()
        .annotate(on_caseload=Coalesce(Subquery(on_caseload), 0), anything_due=Exists(anything_due))
        .values_list("pk", "on_caseload", "anything_due")[: SEARCH_CAP + 1]
    )
    if len(matches) <= SEARCH_CAP:
        return _Found(
            episodes=episodes.filter(patient_id__in=[pk for pk, _, _ in matches]),
            listed=sum(n for _, n, _ in matches),
            capped=False,
            nothing_due=[pk for pk, _, due in matches if not due],
        )
    searched = episodes.filter(search_filter(search))
    listed = sum(n for _, n, _ in matches)
    if listed < SEARCH_CAP:
        # The first SEARCH_CAP + 1 matching patients have fewer episodes listed: count the rest's, up to the cap.
        listed = searched.order_by()[:SEARCH_CAP].count()
    return _Found(episodes=searched, listed=min(listed, SEARCH_CAP), capped=True, nothing_due=[])


def _nothing_due(user, found: _Found | None) -> list:
    """The matching patients with nothing due, with their details (a read only when there are some)."""
    if found is None or not found.nothing_due:
        return []
    return patients_with_nothing_due(user, among=found.nothing_due)


def _due_items(episodes: list[TreatmentEpisode], *, today: date, day) -> list[dict]:
    """What is overdue or due as the page's first cards show it (recovery_reviews/pages/caseload_cards.py)."""
    return [
        {
            "url": episode.patient.get_absolute_url(),
            "patient": str(episode.patient),
            "status": episode.review_status,
            "status_label": STATUS_LABELS.get(episode.review_status, ""),
            "reasons": episode.next_review_reasons,
            "record_error": episode.next_review_kind == "record_error",
            "kind_label": KIND_LABELS.get(episode.next_review_kind, ""),
            "days_overdue": episode.days_overdue,
            "days_past_target": episode.days_past_target,
            "target_to_come": episode.next_review_target >= today,
            "target": day(episode.next_review_target),
            "deadline": day(episode.next_review_deadline),
        }
        for episode in episodes
    ]


def _safety_items(events, query: QueryDict, day) -> list[dict]:
    """The safety events as the page shows them: each with its patient's link, its day, and where its
    acknowledgement is sent (back to this page with its filters)."""
    back = f"?{query.urlencode()}" if query else ""
    return [
        {
            "is_new": event.is_new,
            "url": patient_url(event.patient_id),
            "patient": event.patient,
            "on": day(event.on),
            "what": event.what,
            "action_needed": event.action_needed,
            "acknowledgement": event.acknowledgement,
            "earlier_acknowledgement": event.earlier_acknowledgement,
            "acknowledge_url": reverse(
                "patients:safety_event_acknowledge", args=[event.kind, event.record_id]
            )
            + back,
            "kind_said": "missed doses" if event.kind == MISSED_DOSES else "drug test result",
        }
        for event in events
    ]


def _day_formatter():
    """The date filter's day (DATE_FORMAT, "j M Y"), written by recovery_reviews.formatting.day (the same text:
    tests/recovery_reviews/test_formatting.py) and remembered for the dates a page repeats."""
    seen: dict[date, str] = {}

    def day(value: date | None) -> str:
        if value not in seen:
            seen[value] = formatting.day_or_blank(value)
        return seen[value]

    return day


def _row(episode: TreatmentEpisode, *, today: date, vigilance, also_owed, transitions, day) -> dict:
    """What a caseload row shows, worked out once: the template prints it without looking anything up through
    the episode, its patient and their team (a row is rendered for every patient listed)."""
    patient = episode.patient
    _days(episode, today)
    status = episode.review_status
    disengaged = disengagement_of(episode, today=today)  # Intro, App. B
    return {
        "url": patient.get_absolute_url(),
        "name": f"{patient.family_name}, {patient.given_name}",
        "team": patient.team,
        "keyworker": patient.keyworker,
        "nhs_number": patient.nhs_number_display or "\u2014",
        "row_class": {"overdue": "table-danger", "due": "table-warning"}.get(status, ""),
        "record_error": episode.next_review_kind == "record_error",
        "kind_label": KIND_LABELS.get(episode.next_review_kind, ""),
        "also_owed": also_owed,
        "status": status,
        "status_label": STATUS_LABELS.get(status, ""),
        "reasons": episode.next_review_reasons,
        "awaiting": episode.awaiting_patient,
        "vigilance": vigilance,
        "days_overdue": episode.days_overdue,
        "target": day(episode.next_review_target),
        "deadline": day(episode.next_review_deadline),
        **_risk_shown(risk_of(episode, transitions, today=today), disengaged, day),  # §2.2
    }


def _risk_shown(risk, disengaged, day) -> dict:
    """A row's disengagement badge and risk level with their reasons, each said as the row prints it."""
    shown = {"disengaged": bool(disengaged), "risk_reasons": []}
    if disengaged:
        shown["disengaged_since"] = formatting.day_short(disengaged.since)  # the date filter's "j M"
        shown["disengaged_reasons"] = [f"{capfirst(reason)}." for reason in disengaged.reasons]
    if risk.reasons:
        shown["risk_level"], shown["risk_label"] = risk.level, risk.label
        shown["risk_reasons"] = [
            f"Disengaging since {day(disengaged.since)}."
            if reason.factor == "disengagement" and disengaged
            else f"{capfirst(reason.text)}."
            for reason in risk.reasons
        ]
    return shown


def _with(query: QueryDict, **values) -> str:
    """The page's query string with these values set, back to its first page: the toggle keeps the filters."""
    query = query.copy()
    query.pop("page", None)
    for name, value in values.items():
        query[name] = value
    return query.urlencode()


@require_POST
def safety_event_acknowledge_view(request, kind, pk):
    """Acknowledge a safety event the user can see (patients.selectors.safety_event_for_user: a 404 outside their
    scope): who and when are recorded, and nothing else changes. Back to the caseload with its filters.
    docs/clinical-safety/hazard-log.md, H-041: An acknowledged safety event is taken as dealt with."""
    event = safety_event_for_user(request.user, kind, pk)
    try:
        ack = safety_event_acknowledge(event=event, by=request.user)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, f"Safety event acknowledged ({ack.what}). It stays on the record.")
    back = reverse("patients:caseload")
    query = request.GET.urlencode()
    return redirect(f"{back}?{query}#safety-events" if query else f"{back}#safety-events")
