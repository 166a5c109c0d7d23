"""Reads for the keyworker's lists that need only the clinical record (docs/conventions.md 3): finding patients by
name or NHS number, patients with nothing due, today's appointments and those whose outcome is still to be recorded. The caseload
itself, which adds each episode's review status, is composed in recovery_reviews/pages/caseload.py."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Max, Q
from django.utils import timezone

from patients.access import patients_for_user
from patients.models import Appointment, AppointmentStatus, Patient
from recovery_reviews.access import scoped
from recovery_reviews.compiled_queries import CompiledQuery


def this_week_filter(today: date) -> Q:
    """A target or a deadline in the next seven days: a review that falls due, or one about to go overdue."""
    week_end = today + timedelta(days=6)
    return Q(next_review_target__range=(today, week_end)) | Q(next_review_deadline__range=(today, week_end))


def search_filter(text: str, prefix: str = "patient__") -> Q:
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


def patients_with_nothing_due(
    user, *, search: str = "", among: list[int] | None = None, limit: int = 20
) -> list[Patient]:
    """Patients in scope matching a search (or among these ids, the matches already found) who are not on the
    caseload because nothing is due: treatment and its check-ups are over. Someone coming back is found here,
    and a new episode opened from their record."""
    if among is None and not search.strip():
        return []
    return list(
        patients_for_user(user)
        .filter(search_filter(search, prefix="") if among is None else Q(pk__in=among))
        .exclude(episodes__next_review_target__isnull=False)
        .annotate(last_exit=Max("episodes__exit_date"))
        .select_related("team", "keyworker")
        .order_by("family_name", "given_name", "pk")[:limit]
    )


def _own_booked_before(user, now, limit: int):
    return (
        scoped(
            Appointment.objects.filter(
                keyworker_id=user.pk, status=AppointmentStatus.BOOKED, starts_at__lt=now
            ),
            user,
        )
        .select_related("episode__patient")
        .order_by("starts_at")[:limit]
    )


def _own_between(user, start, end, limit: int):
    return (
        scoped(
            Appointment.objects.filter(keyworker_id=user.pk, starts_at__gte=start, starts_at__lt=end).exclude(
                status=AppointmentStatus.CANCELLED
            ),
            user,
        )
        .select_related("episode__patient")
        .order_by("starts_at")[:limit]
    )


# Read on every caseload page: compiled once per shape of scope (recovery_reviews/compiled_queries.py).
_OWN_BOOKED_BEFORE = CompiledQuery(_own_booked_before)
_OWN_BETWEEN = CompiledQuery(_own_between)


def appointments_to_record(user, *, limit: int = 10) -> list[Appointment]:
    """The user's own booked appointments whose time has passed: what became of them is still to be recorded."""
    return _OWN_BOOKED_BEFORE.run(shape={"limit": limit}, user=user, now=timezone.now())


def appointments_today(user, *, today: date, limit: int = 20) -> list[Appointment]:
    """The user's own appointments of the day, in the service's local time, earliest first (cancelled ones left
    out): the first thing the keyworker's home shows (docs/design.md, The keyworker's home)."""
    start = timezone.make_aware(datetime.combine(today, time.min))
    end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))
    return _OWN_BETWEEN.run(shape={"limit": limit}, user=user, start=start, end=end)
