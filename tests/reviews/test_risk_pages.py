"""Disengagement (Intro, App. B) and the risk level (§2.2) on the caseload and the patient page, and the reads
behind them (reviews/risk_selectors.py): what the pages say, the reasons as text that opens on tap or focus, an
attended appointment clearing the alert, and the SQL reading the record as the pure rules do.
docs/design.md, Risk level and disengagement."""

import html
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.models import AppointmentStatus, TreatmentEpisode
from reviews.models import CheckUpOutcome
from reviews.risk import Level, ost_clock_start
from reviews.risk_selectors import disengaged_episodes, episode_risk, with_disengagement_facts
from reviews.services.schedule import episode_schedule_refresh
from tests.patients.conftest import report_with_run
from tests.support.factories import (
    AppointmentFactory,
    EpisodeFactory,
    InterventionFactory,
    PatientFactory,
    RecoveryCheckUpFactory,
    TopAssessmentFactory,
    aware,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 5, 1)
MISSED = AppointmentStatus.MISSED


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def row_of(page: str, family_name: str) -> str:
    rows = re.findall(r'<tr data-testid="caseload-row".*?</tr>', page, flags=re.S)
    return next(r for r in rows if f"{family_name}," in r)


@pytest.fixture
def disengaged(episode):
    """Pat Example attended on 20 Mar, then missed 10 and 24 Apr: disengaging since 24 Apr."""
    AppointmentFactory(episode=episode, starts_at=aware(2026, 3, 20))
    for day in (10, 24):
        AppointmentFactory(episode=episode, starts_at=aware(2026, 4, day), status=MISSED, review_note="")
    episode_schedule_refresh(episode)
    return episode


# --- The caseload -----------------------------------------------------------------------------------------------


def test_the_caseload_row_shows_the_disengagement_badge_with_why_and_an_attended_appointment_clears_it(
    client, alice, disengaged
):
    client.force_login(alice)
    row = row_of(text(client.get(reverse("patients:caseload"))), "Example")
    badge = re.search(r'<details[^>]*data-testid="disengagement-badge".*?</details>', row).group(0)
    assert "<summary>" in badge and "Disengaging since 24 Apr" in badge
    assert (
        "<li>2 missed appointments in a row since the last attended on 20 Mar 2026, the second on 24 Apr 2026.</li>"
        in badge
    )
    AppointmentFactory(episode=disengaged, starts_at=aware(2026, 4, 30))
    row = row_of(text(client.get(reverse("patients:caseload"))), "Example")
    assert "disengagement-badge" not in row and 'data-testid="risk"' not in row


def test_the_caseload_row_shows_a_raised_or_high_risk_with_its_reasons_in_a_details_element(
    client, alice, sam, team, disengaged
):
    report_with_run(disengaged, sam)  # 3 missed doses, 20-22 Apr: a safety event, high on its own
    quiet = EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice, family_name="Quiet"))
    episode_schedule_refresh(quiet)
    client.force_login(alice)
    page = text(client.get(reverse("patients:caseload")))
    risk = re.search(r'<details[^>]*data-testid="risk".*?</details>', row_of(page, "Example")).group(0)
    assert '<span class="badge risk-high" data-testid="risk-level">High risk</span>' in risk
    assert "<li>3 missed doses in a row in the pharmacy report to 23 Apr 2026.</li>" in risk
    assert "<li>Disengaging since 24 Apr 2026.</li>" in risk  # its reasons are in its own badge
    assert 'data-testid="risk"' not in row_of(page, "Quiet")  # standard risk: no badge


# --- The patient page -------------------------------------------------------------------------------------------


def test_the_patient_page_says_why_and_since_when_the_patient_is_disengaging(client, alice, disengaged):
    client.force_login(alice)
    page = text(client.get(disengaged.patient.get_absolute_url()))
    alert = re.search(r'data-testid="disengagement">(.*?)</div>', page).group(1)
    assert "<strong>Disengaging since 24 Apr 2026</strong>" in alert
    assert (
        "2 missed appointments in a row since the last attended on 20 Mar 2026, the second on 24 Apr 2026."
        in alert
    )
    assert "This clears once an attended appointment is recorded." in alert
    assert '<span class="badge risk-raised" data-testid="risk-level">Raised risk</span>' in page
    assert "<li>Disengaging since 24 Apr 2026, as above.</li>" in page  # the reasons once, in the alert
    assert "One risk factor: two together, a safety event or shared injecting equipment make it high." in page
    AppointmentFactory(episode=disengaged, starts_at=aware(2026, 4, 30))
    page = text(client.get(disengaged.patient.get_absolute_url()))
    assert 'data-testid="disengagement"' not in page
    assert '<span class="badge risk-standard" data-testid="risk-level">Standard risk</span>' in page


def test_the_patient_page_shows_a_high_risk_with_each_reason(client, alice, episode):
    InterventionFactory(episode=episode, started_on=date(2026, 3, 2))  # OST started: a transition
    AppointmentFactory(episode=episode, starts_at=aware(2026, 4, 25))  # seen: not disengaging
    TopAssessmentFactory(
        episode=episode, assessed_on=date(2026, 4, 20), stage="review", shared_paraphernalia=True
    )
    client.force_login(alice)
    page = text(client.get(episode.patient.get_absolute_url()))
    reasons = re.search(r'data-testid="risk-reasons">(.*?)</ul>', page).group(1)
    assert re.findall(r"<li>(.*?)</li>", reasons) == [
        "Injected with a spoon, water or filter used by someone else (TOP of 20 Apr 2026).",
        "A transition in the last 3 months: Methadone 60 mg started on 2 Mar 2026.",
    ]
    assert '<span class="badge risk-high" data-testid="risk-level">High risk</span>' in page
    assert "makes the risk high on its own: consider a multidisciplinary, multi-agency review (§2.2)." in page


# --- The reads --------------------------------------------------------------------------------------------------


def test_early_signs_of_relapse_count_until_a_later_check_up_holds_and_an_attempt_is_not_one(alice, team):
    episode = RecoveryCheckUpFactory(
        episode__patient=PatientFactory(team=team, keyworker=alice),
        episode__exit_date=date(2026, 3, 1),
        held_on=date(2026, 3, 15),
        outcome=CheckUpOutcome.RELAPSE_RISK,
    ).episode
    RecoveryCheckUpFactory(episode=episode, sequence=2, held_on=date(2026, 4, 20), outcome="not_reached")
    assert [r.factor for r in episode_risk(episode, today=TODAY).reasons] == ["relapse_signs"]
    RecoveryCheckUpFactory(
        episode=episode, sequence=2, held_on=date(2026, 4, 25), outcome=CheckUpOutcome.STABLE
    )
    assert episode_risk(episode, today=TODAY).level == Level.STANDARD


def test_a_top_entered_in_error_is_not_the_latest(episode, alice):
    TopAssessmentFactory(episode=episode, assessed_on=date(2026, 3, 1), stage="review", shared_needle=False)
    wrong = TopAssessmentFactory(
        episode=episode, assessed_on=date(2026, 4, 1), stage="review", shared_needle=True
    )
    assert episode_risk(episode, today=TODAY).level == Level.HIGH
    wrong.entered_in_error_at, wrong.entered_in_error_by, wrong.entered_in_error_reason = (
        timezone.now(),
        alice,
        "Another patient's TOP.",
    )
    wrong.save()
    assert episode_risk(episode, today=TODAY).level == Level.STANDARD


@pytest.mark.parametrize(
    "periods",
    [
        [(date(2026, 1, 15), None)],
        [(date(2026, 1, 15), date(2026, 3, 10)), (date(2026, 3, 10), None)],  # a dose change
        [(date(2026, 1, 15), date(2026, 2, 1)), (date(2026, 4, 10), None)],  # a new course after a gap
        [(date(2026, 1, 15), date(2026, 4, 20))],  # ended: not on OST
        [],
    ],
    ids=["since entry", "a dose change", "a new course", "ended", "never"],
)
def test_the_sql_reads_the_ost_course_as_the_pure_rule_does(episode, periods):
    for start, end in periods:
        InterventionFactory(episode=episode, started_on=start, ended_on=end)
    read = with_disengagement_facts(TreatmentEpisode.objects.filter(pk=episode.pk), today=TODAY).get()
    assert (read.risk_ost_since if read.risk_on_ost else None) == ost_clock_start(periods, today=TODAY)


def test_the_disengaged_episodes_are_one_query_whatever_their_number(team, alice):
    def disengage(count):
        for _ in range(count):
            episode = EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice))
            InterventionFactory(episode=episode)
            AppointmentFactory(episode=episode, starts_at=aware(2026, 4, 1) - timedelta(days=30))

    counts = []
    for count in (1, 10):
        disengage(count)
        with CaptureQueriesContext(connection) as queries:
            assert len(disengaged_episodes(today=TODAY)) == sum((1, 10)[: len(counts) + 1])
        counts.append(len(queries))
    assert counts == [1, 1]
