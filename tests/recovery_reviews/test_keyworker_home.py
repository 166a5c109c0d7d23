"""The keyworker's home (docs/design.md, Users and their jobs): a keyworker opens on their own caseload, the team one
tap away; what needs doing first comes before the long list (today's appointments, the safety events, the
appointments to record, what is overdue with its days overdue, the reviews to finish); a status's reasons open on
tap; and a safety event is acknowledged (who and when, in the audit log), which changes nothing else and is refused
outside the user's scope.
docs/clinical-safety/hazard-log.md, H-041: An acknowledged safety event is taken as dealt with;
docs/clinical-safety/hazard-log.md, H-042: A keyworker's own caseload hides the team's urgent patients."""

import re
from datetime import UTC, date, datetime

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse

from patients.models import SafetyEventAcknowledgement, TreatmentEpisode
from patients.models import TestResult as Result
from patients.models.record import SCHEDULE_FIELDS
from patients.selectors import recent_safety_events
from recovery_reviews.models import Role
from reviews.models import Reminder
from reviews.reminders.kinds.safety_event import SafetyEvent as SafetyEventReminders
from reviews.services.schedule import episode_schedule_refresh
from tests.patients.conftest import report_with_run
from tests.support.factories import (
    AppointmentFactory,
    DrugTestFactory,
    DrugTestResultFactory,
    EpisodeFactory,
    PatientFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # 10:00 in London (BST)
TODAY = date(2026, 5, 1)


@pytest.fixture
def bob(team):
    """Another keyworker in North."""
    return UserFactory(username="bob", first_name="Bob", last_name="Other", role=Role.KEYWORKER, team=team)


@pytest.fixture
def kim(team):
    """Someone in the team who records the pharmacist's reports."""
    return UserFactory(username="kim", first_name="Kim", last_name="Admin", role=Role.KEYWORKER, team=team)


def due(team, keyworker, entry, **patient):
    episode = EpisodeFactory(
        patient=PatientFactory(team=team, keyworker=keyworker, **patient), entry_date=entry
    )
    episode_schedule_refresh(episode)
    return episode


def page(client, **params) -> str:
    return client.get(reverse("patients:caseload"), params).content.decode()


def rows(text: str) -> list[str]:
    return re.findall(r'<tr data-testid="caseload-row".*?</tr>', text, flags=re.S)


def section(text: str, testid: str) -> str:
    return text.split(f'data-testid="{testid}"')[1].split("</section>")[0]


def acknowledge_url(kind: str, pk: int) -> str:
    return reverse("patients:safety_event_acknowledge", args=[kind, pk])


# --- Whose patients --------------------------------------------------------------------------------------------


def test_a_keyworker_opens_on_their_own_caseload(client, alice, bob, team):
    due(team, alice, date(2026, 1, 15), family_name="Mine")
    due(team, bob, date(2026, 1, 15), family_name="Bobs")
    client.force_login(alice)
    shown = page(client)
    assert [r for r in rows(shown) if "Mine," in r] and not [r for r in rows(shown) if "Bobs," in r]
    scope = section(shown.replace("</nav>", "</section>"), "caseload-scope")
    assert re.search(r'class="nav-link active" href="\?[^"]*" aria-current="page" [^>]*>My caseload<', scope)
    assert "My caseload: reviews and check-ups to come" in shown


def test_the_whole_team_is_one_tap_away_and_keeps_the_other_filters(client, alice, bob, team):
    due(team, alice, date(2025, 9, 1), family_name="Minelate")
    due(team, bob, date(2025, 9, 1), family_name="Bobslate")
    due(team, bob, date(2026, 4, 20), family_name="Bobsfresh")
    client.force_login(alice)
    shown = page(client, status="overdue")
    team_link = re.search(r'href="\?([^"]*)"[^>]*data-testid="scope-team">Whole team<', shown).group(1)
    assert set(team_link.replace("&amp;", "&").split("&")) == {"status=overdue", "mine="}
    team_page = client.get(
        reverse("patients:caseload") + "?" + team_link.replace("&amp;", "&")
    ).content.decode()
    listed = rows(team_page)
    assert any("Minelate," in r for r in listed) and any("Bobslate," in r for r in listed)
    assert not any("Bobsfresh," in r for r in listed)  # the status filter kept
    assert "The whole team: reviews and check-ups to come" in team_page
    # the filter form carries the choice on: searching the team stays on the team
    assert '<input type="hidden" name="mine" value="">' in team_page


def test_an_explicit_untick_shows_the_team_to_a_keyworker(client, alice, bob, team):
    due(team, bob, date(2026, 1, 15), family_name="Bobs")
    client.force_login(alice)
    assert not rows(page(client))
    assert "No patient of yours has a review or check-up to come" in page(client)
    assert any("Bobs," in r for r in rows(page(client, mine="")))


@pytest.mark.parametrize("who", ["sam", "mona"])
def test_senior_practitioners_and_managers_open_on_the_team(client, alice, bob, team, who, request):
    due(team, alice, date(2026, 1, 15), family_name="Alices")
    due(team, bob, date(2026, 1, 15), family_name="Bobs")
    client.force_login(request.getfixturevalue(who))
    listed = rows(page(client))
    assert any("Alices," in r for r in listed) and any("Bobs," in r for r in listed)
    assert 'data-testid="scope-team">Whole team<' in page(client)
    assert not rows(page(client, mine="on"))  # their own caseload as keyworker: nobody


# --- What needs doing first ------------------------------------------------------------------------------------


def test_todays_appointments_come_first_with_the_time_the_patient_and_a_link_to_record_the_outcome(
    client, alice, bob, team
):
    episode = due(team, alice, date(2026, 1, 15), given_name="Tia", family_name="Today")
    booked = AppointmentFactory(
        episode=episode, starts_at=datetime(2026, 5, 1, 13, 30, tzinfo=UTC), status="booked", review_note=""
    )
    AppointmentFactory(episode=episode, starts_at=datetime(2026, 5, 2, 9, 0, tzinfo=UTC), status="booked")
    AppointmentFactory(
        episode=due(team, bob, date(2026, 1, 15), family_name="Bobs"),
        starts_at=datetime(2026, 5, 1, 11, 0, tzinfo=UTC),
        status="booked",
    )
    client.force_login(alice)
    shown = page(client)
    today = section(shown, "appointments-today")
    assert today.count('data-testid="appointment-today"') == 1  # not tomorrow's, not Bob's
    assert '<span class="fw-semibold">14:30</span>' in today and "Tia Today" in today  # London time
    assert f'href="{reverse("patients:appointment_outcome", args=[booked.pk])}">Record the outcome' in today
    assert shown.index('data-testid="appointments-today"') < shown.index('data-testid="caseload"')


def test_overdue_says_how_many_days_overdue_before_the_list_and_in_its_row(client, alice, team):
    late = due(team, alice, date(2025, 9, 1), family_name="Late")
    deadline = late.next_review_deadline
    days = (TODAY - deadline).days
    client.force_login(alice)
    shown = page(client)
    first = section(shown, "due-this-week")
    assert f'<strong data-testid="days-overdue">{days} days overdue</strong> (deadline' in first
    assert f'data-testid="days-overdue">{days} days overdue</div>' in rows(shown)[0]
    assert shown.index('data-testid="due-this-week"') < shown.index('data-testid="caseload"')


def test_the_reasons_behind_a_status_are_in_a_disclosure_not_a_tooltip(client, alice, team):
    due(team, alice, date(2025, 9, 1), family_name="Late")
    client.force_login(alice)
    (row,) = rows(page(client))
    disclosure = re.search(r'<details class="status-details"[^>]*>.*?</details>', row, flags=re.S).group(0)
    assert (
        '<summary><span class="badge status-overdue" data-testid="status-badge">Overdue</span>' in disclosure
    )
    assert "<li>First strategic review within 3 months of entry on 1 Sep 2025 (§1.3)" in disclosure
    assert "tooltip" not in row and " title=" not in row


# --- Safety events acknowledged --------------------------------------------------------------------------------


@pytest.fixture
def run(team, alice, sam, kim):
    """Alice's patient with 3 missed doses in a row (20-22 Apr), recorded by Kim, the prescriber not yet told."""
    episode = due(team, alice, date(2026, 3, 1), given_name="Rae", family_name="Risky")
    episode.lead_practitioner = sam
    episode.save()
    return report_with_run(episode, kim)


def test_acknowledging_records_who_and_when_in_the_audit_log_and_the_event_stays_quiet(client, alice, run):
    client.force_login(alice)
    before = section(page(client), "safety-events")
    assert 'class="home-item safety-event safety-event-new"' in before and ">1 new</span>" in before
    response = client.post(acknowledge_url("missed-doses", run.pk))
    assert response.status_code == 302 and response.url.endswith("#safety-events")
    ack = SafetyEventAcknowledgement.objects.get()
    assert (ack.acknowledged_by, ack.acknowledged_at, ack.pharmacy_report) == (alice, FROZEN_AT, run)
    assert ack.what == "3 consecutive missed doses at Boots"
    logged = LogEntry.objects.get_for_object(ack).get()
    assert (logged.action, logged.actor) == (LogEntry.Action.CREATE, alice)
    assert logged.additional_data == {"patient_id": run.episode.patient_id}
    after = section(page(client), "safety-events")
    assert "3 consecutive missed doses at Boots" in after  # still listed
    assert 'class="home-item safety-event safety-event-acknowledged"' in after and "new</span>" not in after
    assert "Acknowledged by Alice Keyworker at 10:00 on 1 May 2026" in after
    assert 'data-testid="acknowledge"' not in after
    # the prescriber is still to be told: acknowledging does not say otherwise
    assert "Prescriber not yet told: tell them before dosing resumes." in after


def test_acknowledging_changes_no_schedule_no_reminder_and_the_patient_page_still_shows_the_event(
    client, alice, run
):
    episode = run.episode
    schedule = TreatmentEpisode.objects.filter(pk=episode.pk).values(*SCHEDULE_FIELDS).get()
    owed = SafetyEventReminders().owed(TODAY)
    assert owed  # the keyworker and the lead are owed a reminder of the run
    reminders = list(Reminder.objects.values())
    report = type(run).objects.filter(pk=run.pk).values().get()
    client.force_login(alice)
    assert client.post(acknowledge_url("missed-doses", run.pk)).status_code == 302
    assert TreatmentEpisode.objects.filter(pk=episode.pk).values(*SCHEDULE_FIELDS).get() == schedule
    assert SafetyEventReminders().owed(TODAY) == owed
    assert list(Reminder.objects.values()) == reminders
    assert type(run).objects.filter(pk=run.pk).values().get() == report
    record = client.get(episode.patient.get_absolute_url()).content.decode()
    assert "Tell the prescriber before dosing resumes." in record


def test_another_teams_event_is_refused_and_nothing_is_recorded(client, olga, run):
    client.force_login(olga)
    assert client.post(acknowledge_url("missed-doses", run.pk)).status_code == 404
    assert "Risky" not in page(client)
    assert not SafetyEventAcknowledgement.objects.exists()


def test_acknowledging_is_a_post_with_its_csrf_token_and_only_of_a_safety_event(alice, run, open_report):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    assert csrf_client.get(acknowledge_url("missed-doses", run.pk)).status_code == 405
    assert csrf_client.post(acknowledge_url("missed-doses", run.pk)).status_code == 403  # no token
    assert csrf_client.post(acknowledge_url("missed-doses", open_report.pk)).status_code in (403, 404)
    client = Client()
    client.force_login(alice)
    assert client.post(acknowledge_url("missed-doses", open_report.pk)).status_code == 404  # no run: no event
    assert client.post(acknowledge_url("anything", run.pk)).status_code == 404
    assert not SafetyEventAcknowledgement.objects.exists()


@pytest.fixture
def open_report(run, kim):
    """A report of the same episode with no missed dose: no safety event."""
    from patients import services

    return services.pharmacy_report_record(
        episode=run.episode,
        pharmacy_name="Boots",
        period_start=date(2026, 4, 24),
        period_end=date(2026, 4, 27),
        doses_due=4,
        supervised_doses_taken=4,
        take_home_doses_collected=0,
        missed_dates=[],
        by=kim,
    )


def test_a_second_acknowledgement_is_refused_saying_who_already_did(client, alice, bob, run):
    client.force_login(alice)
    client.post(acknowledge_url("missed-doses", run.pk))
    client.force_login(bob)
    followed = client.post(acknowledge_url("missed-doses", run.pk), follow=True).content.decode()
    assert "Already acknowledged by Alice Keyworker on 1 May 2026 at 10:00." in followed
    assert SafetyEventAcknowledgement.objects.count() == 1


def test_a_run_that_grows_after_its_acknowledgement_stands_out_again(client, alice, kim, run):
    from patients import services

    client.force_login(alice)
    client.post(acknowledge_url("missed-doses", run.pk))
    services.pharmacy_report_record(  # 23 Apr missed too: the run of 20-22 Apr is now 4 long
        episode=run.episode,
        pharmacy_name="Boots",
        period_start=date(2026, 4, 23),
        period_end=date(2026, 4, 29),
        doses_due=7,
        supervised_doses_taken=6,
        take_home_doses_collected=0,
        missed_dates=[date(2026, 4, 23)],
        by=kim,
    )
    (event,) = recent_safety_events(alice, today=TODAY)
    assert event.is_new and event.earlier_acknowledgement.what == "3 consecutive missed doses at Boots"
    shown = section(page(client), "safety-events")
    assert "safety-event-new" in shown and 'data-testid="acknowledge"' in shown
    assert "when it was: 3 consecutive missed doses at Boots." in shown


def test_an_unexpected_drug_test_result_is_acknowledged_by_someone_who_can_see_the_patient(
    client, sam, alice, team
):
    episode = due(team, alice, date(2026, 1, 15), family_name="Tested")
    test = DrugTestFactory(episode=episode, taken_on=date(2026, 4, 25))
    result = DrugTestResultFactory(test=test, substance="heroin", result=Result.POSITIVE)
    client.force_login(sam)  # the senior practitioner of the team, not the keyworker
    assert client.post(acknowledge_url("drug-test-result", result.pk)).status_code == 302
    (event,) = recent_safety_events(sam, today=TODAY)
    assert event.acknowledgement.acknowledged_by == sam and event.what == "Heroin / illicit opioids positive"
    assert "Acknowledged by Sam Senior at 10:00 on 1 May 2026" in section(page(client), "safety-events")


def test_the_caseload_reads_acknowledgements_in_one_query_however_many_events(
    client, alice, team, kim, django_assert_num_queries
):
    """13 (tests/patients/test_views_caseload.py), and one read of the events' acknowledgements: 14."""

    def events(count):
        for _ in range(count):
            episode = due(team, alice, date(2026, 3, 1))
            report = report_with_run(episode, kim)
            SafetyEventAcknowledgement.objects.create(
                episode=episode,
                pharmacy_report=report,
                what="3 consecutive missed doses at Boots",
                acknowledged_by=kim,
            )

    client.force_login(alice)
    events(1)
    with django_assert_num_queries(14):
        assert page(client).count('data-testid="acknowledged"') == 1
    events(4)
    with django_assert_num_queries(14):
        assert page(client).count('data-testid="acknowledged"') == 5


def test_on_their_own_caseload_a_keyworker_still_sees_the_teams_safety_events(client, bob, run):
    """Bob opens on his own caseload, which does not hold Rae Risky (Alice's patient); her run of missed doses is
    still in his safety events, to acknowledge (H-042): a colleague's absence does not hide it."""
    client.force_login(bob)
    shown = page(client)
    assert not [r for r in rows(shown) if "Risky," in r]
    events = section(shown, "safety-events")
    assert "Rae Risky" in events and "3 consecutive missed doses at Boots" in events
    assert 'data-testid="acknowledge"' in events


def test_new_events_come_first_and_a_long_list_keeps_the_rest_one_tap_away(client, alice, team, kim, run):
    client.force_login(alice)
    client.post(acknowledge_url("missed-doses", run.pk))  # the newest event, now acknowledged
    for n in range(5):
        episode = due(team, alice, date(2026, 1, 15), family_name=f"Tested{n}")
        test = DrugTestFactory(episode=episode, taken_on=date(2026, 4, 10 + n))
        DrugTestResultFactory(test=test, substance="cocaine", result=Result.POSITIVE)
    events = section(page(client), "safety-events")
    shown, more = events.split('data-testid="more-safety-events"')
    assert shown.count('data-testid="safety-event"') == 5 and "safety-event-acknowledged" not in shown
    assert shown.index("Tested4") < shown.index("Tested0")  # newest first among the new
    assert more.count('data-testid="safety-event"') == 1 and "Acknowledged by Alice Keyworker" in more
    assert "<summary>1 more safety event</summary>" in more


def test_of_more_than_twenty_events_on_one_day_the_latest_recorded_are_shown_every_time(alice, team):
    """Twenty events at most are listed, newest first; among events of the same day the latest recorded come first,
    so which twenty are shown does not change from one look at the page to the next."""
    episode = due(team, alice, date(2026, 1, 15), family_name="Tested")
    results = [
        DrugTestResultFactory(
            test=DrugTestFactory(episode=episode, taken_on=date(2026, 4, 25)),
            substance="cocaine",
            result=Result.POSITIVE,
        )
        for _ in range(23)
    ]
    shown = [event.record_id for event in recent_safety_events(alice, today=TODAY)]
    assert shown == sorted((result.pk for result in results), reverse=True)[:20]
    assert [event.record_id for event in recent_safety_events(alice, today=TODAY)] == shown
