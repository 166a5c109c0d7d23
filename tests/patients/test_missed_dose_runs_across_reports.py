"""A run of missed doses is a run wherever it spans (docs/design.md rule 4b; App. C 1): four missed days in a row
split 2 + 2 over two pharmacy reports raise the same safety event as four in one report: the warning as the report
is recorded, the safety alert on the record, the reminder that the prescriber is not yet told, the caseload's
safety events and the evidence pack. The report that holds the run's third day owns it; telling the prescriber once
closes the whole run; a report entered in error breaks it. Lists read it with fixed query counts."""

import importlib
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from patients import services
from patients.missed_doses import missed_dose_runs, owned_safety_events, run_told_on
from patients.models import MissedDose, PharmacyReport
from patients.selectors import recent_safety_events
from patients.services.evidence import safety_events_refresh
from recovery_reviews.models import Role
from reviews import reminders, scheduling_missed_doses
from reviews.models import InboxItem, Reminder, ReviewStatus, StrategicReview
from reviews.selectors import evidence_pack
from reviews.services.schedule import episode_schedule_refresh, episodes_schedule_recompute
from tests.support.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
TODAY = date(2026, 5, 1)


def apr(day: int) -> date:
    return date(2026, 4, day)


def report(episode, by, start, end, missed, pharmacy="Boots", **more):
    days = (end - start).days + 1
    return services.pharmacy_report_record(
        episode=episode,
        pharmacy_name=pharmacy,
        period_start=start,
        period_end=end,
        doses_due=days,
        supervised_doses_taken=days - len(missed),
        take_home_doses_collected=0,
        missed_dates=missed,
        by=by,
        **more,
    )


def split_run(episode, by, **more):
    """13 and 14 Apr in the report of 1-14 Apr, 15 and 16 Apr in the report of 15-28 Apr: four in a row, the
    third on 15 Apr, in the second report, which owns the run. Returns the two reports."""
    first = report(episode, by, apr(1), apr(14), [apr(13), apr(14)])
    second = report(episode, by, apr(15), apr(28), [apr(15), apr(16)], **more)
    return first, second


def one_report_run(episode, by):
    """The same four days in one report of 1-28 Apr."""
    return (report(episode, by, apr(1), apr(28), [apr(13), apr(14), apr(15), apr(16)]),)


RUNS = {"in two reports": split_run, "in one report": one_report_run}


def stored(report_):
    return PharmacyReport.with_errors.values_list("safety_run", "safety_run_from", "safety_run_told_on").get(
        pk=report_.pk
    )


def sweep_and_deliver(today=TODAY):
    result = reminders.reminders_sweep(today=today)
    return [reminders.reminder_deliver(reminder_id=pk, today=today) for pk in result.to_deliver]


def safety_claims():
    return sorted(
        Reminder.objects.filter(stage="safety_event").values_list(
            "recipient__username", "target", "delivered_at"
        )
    )


def section(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"')[1].split("</section>")[0]


@pytest.fixture
def kim(team):
    """Someone else in the team, recording the pharmacist's reports."""
    return UserFactory(username="kim", first_name="Kim", last_name="Admin", role=Role.KEYWORKER, team=team)


# --- The pure reading (patients/missed_doses.py) ------------------------------------------------------------------


missed_days = st.lists(st.dates(date(2026, 1, 1), date(2026, 3, 31)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(missed_days, st.randoms(use_true_random=False))
def test_the_records_runs_are_the_schedules_runs_however_the_days_are_split(missed, rng: random.Random):
    """The record's reading (which report owns what) and the review schedule's (rule 4b) find the same runs and
    date the same safety events, whichever of three reports each day falls in."""
    pairs = [(day, rng.randint(1, 3)) for day in missed]
    runs = missed_dose_runs(pairs)
    assert [(r.first, r.last, r.length) for r in runs] == [
        tuple(r) for r in scheduling_missed_doses.missed_dose_runs(missed)
    ]
    assert [r.safety_event_on for r in runs if r.is_safety_event] == scheduling_missed_doses.safety_events(
        missed
    )
    for run in runs:
        owning_day = run.safety_event_on or run.first
        assert run.owner == min(report for day, report in pairs if day == owning_day)
        assert set(run.reports) == {report for day, report in pairs if run.first <= day <= run.last}


@pytest.mark.parametrize(
    ("told", "told_on"),
    [
        ({2: apr(20)}, apr(20)),  # on the owner: told for the whole run
        ({2: apr(10)}, apr(10)),  # on the owner, whatever the date (as for a run inside one report)
        ({1: apr(15)}, apr(15)),  # on another report of the run, on or after the third day
        ({1: apr(14)}, None),  # before the third day: the missed doses were not yet a safety event
        ({1: apr(14), 3: apr(18)}, apr(18)),
        ({}, None),
    ],
)
def test_when_the_prescriber_was_told_of_a_run(told, told_on):
    (run,) = missed_dose_runs([(apr(13), 1), (apr(14), 1), (apr(15), 2), (apr(16), 2), (apr(17), 3)])
    assert (run.owner, run.reports, run.safety_event_on) == (2, (1, 2, 3), apr(15))
    assert run_told_on(run, told) == told_on
    assert owned_safety_events([run], told) == {2: owned_safety_events([run], told)[2]}
    assert owned_safety_events([run], told)[2].told_on == told_on


# --- The stored safety event ----------------------------------------------------------------------------------


def test_two_missed_days_in_each_of_two_reports_are_one_safety_event_owned_by_the_report_of_the_third(
    alice, open_episode
):
    first = report(open_episode, alice, apr(1), apr(14), [apr(13), apr(14)])
    assert stored(first) == (0, None, None)  # two in a row: not yet a safety event
    assert not first.is_safety_event
    first, second = (
        PharmacyReport.objects.get(pk=first.pk),
        report(open_episode, alice, apr(15), apr(28), [apr(15), apr(16)]),
    )
    assert (first.missed_dose_run, second.missed_dose_run) == (2, 2)  # each report's own, as it was reported
    assert stored(first) == (0, None, None)
    assert stored(second) == (4, apr(13), None)
    assert second.is_safety_event and second.prescriber_still_to_be_told


def test_the_owner_does_not_depend_on_the_order_the_reports_were_recorded_in(alice, open_episode):
    later = report(open_episode, alice, apr(15), apr(28), [apr(15), apr(16)])
    earlier = report(open_episode, alice, apr(1), apr(14), [apr(13), apr(14)])  # came in late
    assert (stored(earlier), stored(later)) == ((0, None, None), (4, apr(13), None))


def test_a_later_report_that_carries_the_run_on_joins_it_without_moving_it(alice, open_episode):
    first, second = split_run(open_episode, alice)
    third = report(open_episode, alice, apr(29), date(2026, 4, 30), [apr(29), apr(30)])  # 17-28 taken
    assert stored(third) == (0, None, None)  # a run of its own: two days
    fourth = report(open_episode, alice, date(2026, 4, 17), date(2026, 4, 17), [date(2026, 4, 17)])
    assert stored(second) == (5, apr(13), None)  # 13-17 Apr
    assert stored(fourth) == stored(first) == (0, None, None)


def test_days_with_a_gap_between_the_reports_are_no_run(alice, open_episode):
    first = report(open_episode, alice, apr(1), apr(14), [apr(13), apr(14)])
    second = report(open_episode, alice, apr(15), apr(28), [apr(16), apr(17)])
    assert stored(first) == stored(second) == (0, None, None)
    assert recent_safety_events(alice, today=TODAY) == []


# --- The same safety event, whether the run is in one report or two ---------------------------------------------


@pytest.mark.parametrize("recorded", RUNS.values(), ids=RUNS.keys())
def test_the_warning_as_the_report_completing_the_run_is_recorded(client, alice, open_episode, recorded):
    *earlier, last = recorded(open_episode, alice)
    last_days = ", ".join(f"{m.missed_on:%d/%m/%Y}" for m in last.missed_doses.all())
    services.record_mark_entered_in_error(record=last, reason="Recorded twice.", by=alice)
    client.force_login(alice)
    response = client.post(
        reverse("patients:pharmacy_report_new", args=[open_episode.pk]),
        {
            "pharmacy_name": "Boots",
            "period_start": last.period_start.isoformat(),
            "period_end": last.period_end.isoformat(),
            "doses_due": str(last.doses_due),
            "supervised_doses_taken": str(last.supervised_doses_taken),
            "take_home_doses_collected": "0",
            "missed_dates": last_days,
        },
        follow=True,
    )
    page = response.content.decode()
    across = ", 13 Apr 2026 to 16 Apr 2026, over 2 pharmacy reports" if earlier else ""
    assert (
        f"4 consecutive missed doses{across}: a safety event. Tolerance may be lost; tell the prescriber before "
        "dosing resumes, and record it on the safety alert."
    ) in page
    assert "Pharmacy report recorded." not in page


@pytest.mark.parametrize("recorded", RUNS.values(), ids=RUNS.keys())
def test_the_safety_alert_on_the_record_links_to_the_report_that_owns_the_run(
    client, alice, open_episode, recorded
):
    owner = recorded(open_episode, alice)[-1]
    client.force_login(alice)
    pharmacy = section(
        client.get(open_episode.patient.get_absolute_url()).content.decode(), "pharmacy-summary"
    )
    (alert,) = pharmacy.split('data-testid="safety-event">')[1:]
    source = "Boots, over 2 reports" if recorded is split_run else "Boots"
    assert alert.startswith(
        f"4 consecutive missed doses, 13 Apr 2026 to 16 Apr 2026 ({source}): tolerance may be lost."
    )
    assert "Tell the prescriber before dosing resumes." in alert
    assert (
        f'href="{reverse("patients:prescriber_informed", args=[owner.pk])}">Record that they were told'
        in alert
    )
    assert 'data-testid="longest-run">4<' in pharmacy
    assert "missed in a row" not in pharmacy  # no run of two left over from either report


@pytest.mark.parametrize("recorded", RUNS.values(), ids=RUNS.keys())
def test_the_reminder_is_owed_to_the_keyworker_and_the_lead(alice, sam, kim, open_episode, recorded):
    recorded(open_episode, kim)
    sweep_and_deliver()
    assert [(name, target) for name, target, _ in safety_claims()] == [("alice", apr(28)), ("sam", apr(28))]
    item = InboxItem.objects.get(recipient=sam, reminder__stage="safety_event")
    assert item.subject == (
        "SAFETY: Pat Example missed 4 doses in a row: tell the prescriber before dosing resumes"
    )
    assert sweep_and_deliver() == []  # once each


@pytest.mark.parametrize("recorded", RUNS.values(), ids=RUNS.keys())
def test_the_caseload_lists_the_safety_event_once_with_the_prescriber_not_yet_told(
    client, alice, open_episode, recorded
):
    recorded(open_episode, alice)
    (event,) = recent_safety_events(alice, today=TODAY)
    across = " (13 Apr to 16 Apr, across reports)" if recorded is split_run else ""
    assert (event.on, event.what) == (apr(28), f"4 consecutive missed doses at Boots{across}")
    assert event.action_needed == "Prescriber not yet told: tell them before dosing resumes."
    client.force_login(alice)
    events = section(client.get(reverse("patients:caseload")).content.decode(), "safety-events")
    assert f"4 consecutive missed doses at Boots{across}" in events
    assert 'data-testid="action-needed">Prescriber not yet told' in events


@pytest.mark.parametrize("recorded", RUNS.values(), ids=RUNS.keys())
def test_the_evidence_pack_weighs_the_run(client, alice, sam, open_episode, recorded):
    recorded(open_episode, alice)
    pack = evidence_pack(open_episode, as_of=TODAY)
    (run,) = pack.pharmacy_since_last_review["safety_events"]
    assert (run.first, run.last, run.length, run.told_on) == (apr(13), apr(16), 4, None)
    assert pack.pharmacy_since_entry["longest_run"] == 4
    assert pack.hints[0].why == "Missed doses since the last review: 4 in a row from 13 Apr 2026 (App. C 1)."
    client.force_login(sam)
    client.post(
        reverse("reviews:review_new", args=[open_episode.pk]), {"lead": sam.pk, "held_on": "2026-05-01"}
    )
    page = client.get(StrategicReview.objects.get().get_absolute_url()).content.decode()
    across = " (Boots, over 2 reports)" if recorded is split_run else ""
    assert (
        f'data-testid="pack-safety-event">4 consecutive missed doses, 13 Apr 2026 to 16 Apr 2026{across}; '
        "<strong>prescriber not recorded as told</strong>"
    ) in page


def test_a_run_that_began_before_the_last_review_counts_for_the_evidence_since_it_in_full(
    alice, sam, open_episode
):
    split_run(open_episode, alice)
    StrategicReviewFactory(
        episode=open_episode,
        lead=sam,
        held_on=apr(15),
        status=ReviewStatus.COMPLETED,
        completed_on=apr(15),
        patient_took_part=True,
    )
    pack = evidence_pack(open_episode, as_of=TODAY)
    assert [(r.first, r.length) for r in pack.pharmacy_since_last_review["safety_events"]] == [(apr(13), 4)]


# --- Telling the prescriber once closes the whole run ------------------------------------------------------------


def test_telling_the_prescriber_once_from_the_alert_closes_the_whole_run(
    client, alice, sam, kim, open_episode
):
    first, second = split_run(open_episode, kim)
    result = reminders.reminders_sweep(today=TODAY)
    client.force_login(alice)
    told_page = client.get(reverse("patients:prescriber_informed", args=[second.pk])).content.decode()
    missed = told_page.split('data-testid="the-missed-doses">')[1].split("</div>")[0]
    assert "4 consecutive missed doses, 13 Apr 2026 to 16 Apr 2026," in missed
    assert "over 2 pharmacy reports: Boots, 1 Apr to 14 Apr 2026; Boots, 15 Apr to 28 Apr 2026." in missed
    assert "Told once, it is recorded for the whole run." in missed

    response = client.post(
        reverse("patients:prescriber_informed", args=[second.pk]), {"informed_on": "2026-04-17"}, follow=True
    )
    page = response.content.decode()
    assert "Recorded: the prescriber was told on 17 Apr 2026." in page
    assert 'data-testid="prescriber-told">Prescriber told on 17 Apr 2026.' in page
    assert "Record that they were told" not in page
    assert stored(second) == (4, apr(13), apr(17)) and stored(first) == (0, None, None)
    (event,) = recent_safety_events(alice, today=TODAY)
    assert event.action_needed == "" and event.what.endswith(": prescriber told on 17 Apr")
    for pk in result.to_deliver:
        reminders.reminder_deliver(reminder_id=pk, today=TODAY)
    safety = Reminder.objects.filter(stage="safety_event")
    assert [(r.recipient.username, r.last_error) for r in safety.order_by("recipient__username")] == [
        (name, "Withdrawn, not sent: the prescriber was told on 17 Apr 2026.") for name in ("alice", "sam")
    ]
    assert not InboxItem.objects.filter(reminder__stage="safety_event").exists()

    third = report(open_episode, kim, apr(29), apr(30), [apr(29)])
    fourth = report(open_episode, kim, date(2026, 4, 17), date(2026, 4, 17), [date(2026, 4, 17)])
    assert stored(second) == (5, apr(13), apr(17))  # the run carried on: still one event, still told
    assert stored(third) == stored(fourth) == (0, None, None)
    reminders.reminders_sweep(today=TODAY)
    assert safety.count() == 2  # nothing more owed


def test_a_date_told_with_a_later_report_of_the_run_counts_for_it_from_the_third_day(alice, open_episode):
    owner = report(open_episode, alice, apr(1), apr(13), [apr(11), apr(12), apr(13)])
    assert stored(owner) == (3, apr(11), None)
    report(open_episode, alice, apr(14), apr(27), [apr(14), apr(15)], prescriber_informed_on=apr(16))
    assert stored(owner) == (5, apr(11), apr(16))
    (event,) = recent_safety_events(alice, today=TODAY)
    assert event.action_needed == ""


def test_the_timeline_says_the_prescriber_was_told_of_a_run_told_through_a_later_report(
    client, alice, open_episode
):
    report(open_episode, alice, apr(1), apr(13), [apr(11), apr(12), apr(13)])
    report(open_episode, alice, apr(14), apr(27), [apr(14), apr(15)], prescriber_informed_on=apr(16))
    client.force_login(alice)
    page = client.get(reverse("patients:detail", args=[open_episode.patient_id])).content.decode()
    assert "a safety event: 5 missed doses in a row from 11 Apr 2026; prescriber told on 16 Apr 2026" in page
    assert "prescriber not yet told" not in page


def test_a_date_told_before_the_run_was_a_safety_event_does_not_count(client, alice, open_episode):
    first = report(open_episode, alice, apr(1), apr(14), [apr(13), apr(14)], prescriber_informed_on=apr(14))
    second = report(open_episode, alice, apr(15), apr(28), [apr(15), apr(16)])
    assert stored(second) == (4, apr(13), None)  # told on 14 Apr of two missed doses, not of the third
    assert stored(first) == (0, None, None)
    client.force_login(alice)
    assert (
        "Tell the prescriber before dosing resumes."
        in client.get(open_episode.patient.get_absolute_url()).content.decode()
    )


# --- A report entered in error breaks the run -------------------------------------------------------------------


def test_a_report_entered_in_error_breaks_the_run_everywhere(client, alice, sam, kim, open_episode):
    first, second = split_run(open_episode, kim)
    result = reminders.reminders_sweep(today=TODAY)
    services.record_mark_entered_in_error(record=first, reason="Another patient's report.", by=alice)
    assert stored(second) == (0, None, None)
    assert recent_safety_events(alice, today=TODAY) == []
    for pk in result.to_deliver:
        reminders.reminder_deliver(reminder_id=pk, today=TODAY)
    safety = Reminder.objects.filter(stage="safety_event")
    assert [r.last_error for r in safety] == [
        "Withdrawn, not sent: the run of missed doses is no longer a safety event owned by this report: a "
        "pharmacy report was marked as entered in error."
    ] * 2
    reminders.reminders_sweep(today=TODAY)
    assert safety.count() == 2  # nothing new owed
    assert evidence_pack(open_episode, as_of=TODAY).pharmacy_since_entry["safety_events"] == []
    client.force_login(alice)
    page = client.get(open_episode.patient.get_absolute_url()).content.decode()
    assert 'data-testid="safety-event"' not in page
    assert "2 missed in a row, 15 Apr 2026 to 16 Apr 2026" in page


def test_marking_the_owner_in_error_leaves_the_earlier_report_its_own_run(alice, open_episode):
    first = report(open_episode, alice, apr(1), apr(14), [apr(12), apr(13), apr(14)])
    second = report(open_episode, alice, apr(15), apr(28), [apr(15), apr(16)])
    assert stored(first) == (5, apr(12), None)
    services.record_mark_entered_in_error(record=first, reason="Wrong patient.", by=alice)
    assert stored(first) == stored(second) == (0, None, None)
    services.record_mark_entered_in_error(record=second, reason="Wrong patient.", by=alice)
    assert recent_safety_events(alice, today=TODAY) == []


# --- Records loaded without the services --------------------------------------------------------------------------


def bulk_loaded_split_run(episode, by):
    """As the seeders load reports: rows written directly, each with its own run, no safety event stored."""
    first, second = PharmacyReport.objects.bulk_create(
        [
            PharmacyReport(
                episode=episode,
                pharmacy_name="Boots",
                period_start=start,
                period_end=end,
                doses_due=14,
                supervised_doses_taken=12,
                missed_dose_run=2,
                recorded_by=by,
            )
            for start, end in ((apr(1), apr(14)), (apr(15), apr(28)))
        ]
    )
    MissedDose.objects.bulk_create(
        [
            MissedDose(report=r, missed_on=d)
            for r, d in ((first, apr(13)), (first, apr(14)), (second, apr(15)))
        ]
    )
    return first, second


def test_the_nightly_safety_net_stores_the_safety_events_of_reports_loaded_in_bulk(alice, open_episode):
    first, second = bulk_loaded_split_run(open_episode, alice)
    assert recent_safety_events(alice, today=TODAY) == []
    episodes_schedule_recompute(today=TODAY)
    assert stored(second) == (3, apr(13), None)
    assert [e.what for e in recent_safety_events(alice, today=TODAY)] == [
        "3 consecutive missed doses at Boots (13 Apr to 15 Apr, across reports)"
    ]
    with CaptureQueriesContext(connection) as queries:
        assert safety_events_refresh(episode=open_episode) == 0  # nothing left to change
    assert len(queries) == 3  # the lock, the stored events, the missed doses


def test_the_migration_stores_the_safety_events_of_the_reports_already_recorded(alice, open_episode):
    first, second = bulk_loaded_split_run(open_episode, alice)
    migration = importlib.import_module("patients.migrations.0012_pharmacy_safety_events")
    migration.store_safety_events(apps, None)
    assert (stored(first), stored(second)) == ((0, None, None), (3, apr(13), None))


# --- Lists read it with a fixed number of queries --------------------------------------------------------------


def patients_with_split_runs(count, team, keyworker, by, lead=None):
    for _ in range(count):
        episode = EpisodeFactory(
            patient=PatientFactory(team=team, keyworker=keyworker),
            entry_date=date(2026, 3, 1),
            lead_practitioner=lead,
        )
        episode_schedule_refresh(episode)
        split_run(episode, by)


def test_the_caseload_reads_the_safety_events_with_the_same_queries_for_any_number(
    client, alice, kim, team, django_assert_num_queries
):
    """The pinned 13 of tests/patients/test_views_caseload.py, with runs across reports on the page, and one more
    for the events' acknowledgements (read only when there is an event): 14."""
    client.force_login(alice)
    patients_with_split_runs(1, team, alice, kim)
    with django_assert_num_queries(14):
        page = client.get(reverse("patients:caseload")).content.decode()
    assert section(page, "safety-events").count("across reports") == 1
    patients_with_split_runs(4, team, alice, kim)
    with django_assert_num_queries(14):
        page = client.get(reverse("patients:caseload")).content.decode()
    assert section(page, "safety-events").count("across reports") == 5
    with django_assert_num_queries(3):  # the reports, the drug test results, their acknowledgements
        assert len(recent_safety_events(alice, today=TODAY)) == 5


def test_the_sweep_reads_the_safety_events_with_the_same_queries_for_any_number(alice, sam, kim, team):
    """The pinned 11 of tests/reviews/test_reminder_sweep.py, with runs across reports to remind."""
    counts = []
    for count in (1, 4):
        patients_with_split_runs(count, team, alice, kim, lead=sam)
        Reminder.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            result = reminders.reminders_sweep(today=TODAY)
        assert Reminder.objects.filter(stage="safety_event").count() == 2 * (1 if count == 1 else 5)
        assert result.claimed
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 11  # with the disengagement reminder's two


def test_the_record_page_reads_runs_across_reports_with_a_fixed_number_of_queries(
    client, alice, open_episode, django_assert_num_queries
):
    """Runs across reports cost the patient page no query: 21 here, as without them (the 24 pinned in
    tests/patients/test_views_record.py are for a record with more kinds of entry)."""
    client.force_login(alice)
    split_run(open_episode, alice)
    with django_assert_num_queries(21):
        client.get(open_episode.patient.get_absolute_url())
    for week in range(4):
        start = date(2026, 3, 2) + timedelta(days=7 * week)
        report(open_episode, alice, start, start + timedelta(days=6), [start + timedelta(days=6)])
    with django_assert_num_queries(21):
        page = client.get(open_episode.patient.get_absolute_url()).content.decode()
    assert page.count('data-testid="safety-event"') == 1
