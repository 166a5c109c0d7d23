"""Where reviews stand across teams (docs/conventions.md 3): counts by team and by keyworker in one GROUP BY each over
the stored, indexed dates, and the list behind every number, filtered in SQL and paged by keyset.

Counts and lists read the owed items (reviews.models.OwedItem), one row per strategic review or check-up owed: an
episode that owes a review and a check-up after an element of treatment (docs/design.md, rule 7b) is counted and
listed twice, once for each, so that neither hides the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet

from patients.access import episodes_for_user
from patients.models import TreatmentEpisode
from recovery_reviews.access import patient_scope, teams_for_user
from recovery_reviews.models import Role, User
from reviews.dashboards.keyset import Sort
from reviews.dashboards.owed_counts import owed_counts
from reviews.models import AwaitingPatientEpisode, OwedItem, ReviewStatus, StrategicReview
from reviews.scheduling import DUE, DUE_SOON, OVERDUE, UPCOMING
from reviews.status import (
    AWAITING_PATIENT,
    ON_ITEMS,
    awaiting_patient_expression,
    review_status_expression,
    status_filter,
)

STATUSES = [UPCOMING, DUE_SOON, DUE, OVERDUE, AWAITING_PATIENT]
DATE_STATUSES = [UPCOMING, DUE_SOON, DUE, OVERDUE]


@dataclass
class StatusRow:
    """One team's or keyworker's counts of items owed. A review awaiting the patient does not reset the clock
    (§2.4), so its episode is counted in its date status too: the awaiting column says how many episodes wait on
    the patient."""

    id: int
    name: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    team_id: int | None = None
    active: bool = True  # a keyworker who has left: nobody is reminded in their place until a handover

    @property
    def total(self) -> int:
        return sum(self.counts[s] for s in DATE_STATUSES)

    @property
    def late_share(self) -> float | None:
        """Share of this row's reviews past their target (due or overdue)."""
        return (self.counts[DUE] + self.counts[OVERDUE]) / self.total if self.total else None


def _scheduled(user) -> QuerySet:
    return episodes_for_user(user).filter(next_review_target__isnull=False)


def _owed(user) -> QuerySet:
    """The items owed in the user's scope: the item's own team and keyworker columns, as episodes are scoped."""
    return OwedItem.objects.filter(patient_scope(user))


def _awaiting_counts(user, group: str, *, team_id: int | None = None) -> dict[int, int]:
    """Episodes with a review waiting on the patient, by team or keyworker: a count of the few rows kept for them
    (reviews.owed_count_models.AwaitingPatientEpisode), not a join of every episode to the reviews."""
    rows = AwaitingPatientEpisode.objects.filter(patient_scope(user))
    if team_id:
        rows = rows.filter(team_id=team_id)
    return dict(rows.values_list(group).annotate(n=Count("pk")).order_by())


def _counts_by(user, group: str, today: date, where: Q | None = None) -> dict[int, dict]:
    """{team or keyworker id: {date status: items owed}}, from the kept counts (reviews.dashboards.owed_counts):
    the same figures as a count over the items, without reading every item."""
    counts: dict[int, dict] = {}
    for (key, status), n in owed_counts(user, today=today, by=(group, "status"), where=where).items():
        counts.setdefault(key, {**dict.fromkeys(DATE_STATUSES, 0), AWAITING_PATIENT: 0})[status] = n
    return counts


def status_counts_by_team(user, *, today: date) -> list[StatusRow]:
    """Per team in the user's scope, how many items owed are in each status."""
    names = dict(teams_for_user(user).values_list("pk", "name"))
    teams = {
        team_id: StatusRow(team_id, names.get(team_id, ""), counts)
        for team_id, counts in _counts_by(user, "team_id", today).items()
    }
    for team_id, n in _awaiting_counts(user, "team_id").items():
        if team_id in teams:
            teams[team_id].counts[AWAITING_PATIENT] = n
    return sorted(teams.values(), key=lambda t: t.name)


def status_counts_by_keyworker(user, *, team_id: int, today: date) -> list[StatusRow]:
    """Per keyworker of one team, the same counts: where in the team reviews are slipping."""
    rows = _counts_by(user, "keyworker_id", today, Q(team_id=team_id))
    staff = User.objects.filter(pk__in=list(rows))
    people = {user.pk: user for user in staff.only("pk", "first_name", "last_name", "username", "is_active")}
    keyworkers = {}
    for pk, counts in rows.items():
        person = people.get(pk)
        keyworkers[pk] = StatusRow(
            pk, str(person or ""), counts, team_id=team_id, active=bool(person and person.is_active)
        )
    for keyworker_id, n in _awaiting_counts(user, "keyworker_id", team_id=team_id).items():
        if keyworker_id in keyworkers:
            keyworkers[keyworker_id].counts[AWAITING_PATIENT] = n
    return sorted(keyworkers.values(), key=lambda k: (-k.counts[OVERDUE], k.name))


def patients_without_an_active_keyworker(team_ids: list[int]) -> dict[int, int]:
    """Per team (of those given: the dashboard's, already scoped), episodes with something due whose keyworker has
    left (is no longer active): their reminders reach only the lead until the caseload is handed over. Read
    through the keyworker index, not every episode."""
    left = User.objects.filter(is_active=False, role=Role.KEYWORKER).values("pk")
    rows = (
        TreatmentEpisode.objects.filter(
            team_id__in=team_ids, keyworker_id__in=left, next_review_target__isnull=False
        )
        .values("team_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["team_id"]: row["n"] for row in rows}


# --- The list behind the numbers -----------------------------------------------------------------------------

SORTS = {
    sort.key: sort
    for sort in (
        Sort("deadline", "Deadline, most overdue first", ("deadline",), date_fields=("deadline",)),
        Sort(
            "-deadline", "Deadline, latest first", ("deadline",), descending=True, date_fields=("deadline",)
        ),
        Sort("target", "Target date, soonest first", ("target",), date_fields=("target",)),
        Sort("-target", "Target date, latest first", ("target",), descending=True, date_fields=("target",)),
        Sort(
            "name",
            "Patient's family name, A to Z",
            ("episode__patient__family_name", "episode__patient__given_name"),
        ),
        Sort(
            "-name",
            "Patient's family name, Z to A",
            ("episode__patient__family_name", "episode__patient__given_name"),
            descending=True,
        ),
    )
}
DEFAULT_SORT = "deadline"


def review_list(
    user,
    *,
    today: date,
    team_id: int | None = None,
    keyworker_id: int | None = None,
    status: str = "",
    kind: str = "",
) -> QuerySet:
    """The items owed in the user's scope matching the filters, each with its status and whether a review of its
    episode waits on the patient. Unordered: the caller pages it by one of SORTS."""
    items = _owed(user).select_related(
        "episode__patient", "episode__patient__team", "episode__patient__keyworker"
    )
    if team_id:
        items = items.filter(team_id=team_id)
    if keyworker_id:
        items = items.filter(keyworker_id=keyworker_id)
    if kind:
        items = items.filter(kind=kind)
    if status == AWAITING_PATIENT:
        items = items.filter(
            episode_id__in=StrategicReview.objects.filter(status=ReviewStatus.AWAITING_PATIENT).values(
                "episode_id"
            )
        )
    elif status:
        items = items.filter(status_filter(status, today, ON_ITEMS))
    return items.annotate(
        review_status=review_status_expression(today, ON_ITEMS),
        awaiting_patient=awaiting_patient_expression(ON_ITEMS),
    )
