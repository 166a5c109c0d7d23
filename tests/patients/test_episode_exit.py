"""Leaving treatment as a safety check (Intro, App. B: a brief raised risk of death just after treatment ends).
The exit page shows the current dose, the last dose collected, adherence over the last four weeks and what is
still open; the form asks for the relapse risk and whether the risk of death, and the skills to reduce it, were
discussed (a "no" says why); the exit ends every open intervention and closes the dispensing arrangement in the
same transaction; after it the exit TOP is asked for, and a death or a transfer owes nothing, saying why."""

import html
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from patients import services
from patients.models import (
    DispensingArrangement,
    ExitReason,
    Intervention,
    TopStage,
    TreatmentEpisode,
)
from patients.models.leaving import EXITS_WITHOUT_DISCUSSION
from reviews.models import OwedItem, ReviewStatus
from reviews.scheduling import NO_CHECK_UP_EXITS
from tests.patients.test_views_forms import error_beside
from tests.support.factories import (
    DispensingArrangementFactory,
    InterventionFactory,
    StrategicReviewFactory,
    TopAssessmentFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
TODAY = date(2026, 5, 1)
EXIT = date(2026, 4, 30)

CHECKED = {  # a full safety check, as the service takes it
    "exit_relapse_risk": "high",
    "exit_risk_of_death_discussed": True,
    "exit_harm_reduction_discussed": True,
}
POSTED = {  # the same, as the form posts it
    "exit_date": EXIT.isoformat(),
    "exit_reason": "dropped_out",
    "exit_relapse_risk": "high",
    "exit_risk_of_death_discussed": "yes",
    "exit_harm_reduction_discussed": "yes",
}


def exit_url(episode):
    return reverse("patients:episode_exit", args=[episode.pk])


class _ElementText(HTMLParser):
    """The text of the first element with a given data-testid, blocks set apart by a space."""

    BLOCKS = {"div", "p", "li", "dt", "dd", "ul", "br", "h2", "h3"}
    VOID = {"br", "input", "img", "hr", "meta", "link"}

    def __init__(self, testid: str):
        super().__init__()
        self.testid, self.depth, self.parts, self.found = testid, 0, [], False

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag not in self.VOID
            self.parts.append(" " if tag in self.BLOCKS else "")
        elif not self.found and dict(attrs).get("data-testid") == self.testid:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            self.parts.append(" " if tag in self.BLOCKS else "")

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def text_of(page: str, testid: str) -> str:
    """The visible text of the element with this data-testid, spaces squeezed."""
    parser = _ElementText(testid)
    parser.feed(page)
    assert parser.found, f"no element with data-testid {testid}"
    return " ".join("".join(parser.parts).split())


@pytest.fixture
def in_treatment(episode, alice):
    """Methadone 60 mg daily with keyworking, supervised at first and then two take-home doses a week; an earlier
    detox long ended."""
    InterventionFactory(episode=episode, started_on=date(2026, 1, 15), daily_dose_mg=Decimal("60"))
    InterventionFactory(
        episode=episode, kind="psychosocial", medicine="", daily_dose_mg=None, started_on=date(2026, 2, 1)
    )
    InterventionFactory(
        episode=episode,
        kind="detox",
        medicine="",
        daily_dose_mg=None,
        started_on=date(2026, 1, 20),
        ended_on=date(2026, 1, 30),
    )
    DispensingArrangementFactory(episode=episode, effective_from=date(2026, 1, 15))
    DispensingArrangementFactory(
        episode=episode,
        effective_from=date(2026, 4, 1),
        take_home_doses_per_week=2,
        change_reason="introduce_take_home",
        reason_note="Stable for ten weeks.",
    )
    return episode


def report(episode, by, start, end, *, due=14, taken=14, missed=(), take_home=0, name="Boots"):
    return services.pharmacy_report_record(
        episode=episode,
        pharmacy_name=name,
        period_start=start,
        period_end=end,
        doses_due=due,
        supervised_doses_taken=taken,
        take_home_doses_collected=take_home,
        missed_dates=list(missed),
        by=by,
    )


# --- The service: one transaction, nothing saved when refused ---------------------------------------------------


def test_the_exit_ends_every_open_intervention_and_closes_the_dispensing_arrangement(in_treatment, alice):
    result = services.episode_exit(
        episode=in_treatment, exit_date=EXIT, exit_reason="dropped_out", by=alice, **CHECKED
    )
    ended = {i.get_kind_display(): i.ended_on for i in Intervention.objects.filter(episode=in_treatment)}
    assert ended == {
        "Opioid substitution treatment": EXIT,
        "Psychosocial intervention": EXIT,
        "Detoxification": date(2026, 1, 30),  # ended before: kept as it was
    }
    assert [str(i) for i in result.interventions_ended] == [
        "Methadone (oral) 60 mg daily",
        "Psychosocial intervention",
    ]
    arrangements = DispensingArrangement.objects.filter(episode=in_treatment).order_by("effective_from")
    # The arrangement in force is closed on the exit date; the earlier one stays as its history, unchanged.
    assert [(a.effective_from, a.ended_on) for a in arrangements] == [
        (date(2026, 1, 15), None),
        (date(2026, 4, 1), EXIT),
    ]
    assert result.dispensing_closed == arrangements[1]
    stored = TreatmentEpisode.objects.get(pk=in_treatment.pk)
    assert (stored.exit_date, stored.exit_reason, stored.exit_relapse_risk) == (EXIT, "dropped_out", "high")
    assert (stored.exit_risk_of_death_discussed, stored.exit_harm_reduction_discussed) == (True, True)
    # Rule 7: check-up 1 at exit + 14 days; rule 7b: the check-up after the detox that ended on 30 Jan with the
    # episode open was never held, so it is still owed beside it (and first, by its target).
    assert list(OwedItem.objects.filter(episode=in_treatment).values_list("kind", "target")) == [
        ("element_check_up", date(2026, 2, 13)),
        ("recovery_check_up", date(2026, 5, 14)),
    ]
    assert (stored.next_review_kind, stored.next_review_target) == ("element_check_up", date(2026, 2, 13))


def test_the_exit_and_the_ends_it_makes_are_one_transaction(in_treatment, alice, monkeypatch):
    """A failure after the episode, the interventions and the arrangement were written (here, the schedule's
    refresh) leaves none of them written."""

    def fail(episode):
        assert Intervention.objects.filter(episode=episode, ended_on=EXIT).count() == 2  # written by now
        raise RuntimeError("the schedule could not be refreshed")

    monkeypatch.setattr("patients.services.treatment.schedule_refresh", fail)
    with pytest.raises(RuntimeError):
        services.episode_exit(
            episode=in_treatment, exit_date=EXIT, exit_reason="dropped_out", by=alice, **CHECKED
        )
    assert TreatmentEpisode.objects.get(pk=in_treatment.pk).exit_date is None
    assert not Intervention.objects.filter(episode=in_treatment, ended_on=EXIT).exists()
    assert not DispensingArrangement.objects.filter(episode=in_treatment, ended_on__isnull=False).exists()


def test_an_intervention_or_arrangement_dated_after_the_exit_is_refused_by_name_and_nothing_is_saved(
    in_treatment, alice
):
    InterventionFactory(
        episode=in_treatment,
        kind="residential",
        medicine="",
        daily_dose_mg=None,
        started_on=date(2026, 4, 20),
    )
    DispensingArrangementFactory(
        episode=in_treatment,
        effective_from=date(2026, 4, 25),
        take_home_doses_per_week=0,
        change_reason="reinstate_supervision",
        reason_note="Missed doses.",
    )
    with pytest.raises(ValidationError) as refused:
        services.episode_exit(
            episode=in_treatment, exit_date=date(2026, 4, 10), exit_reason="dropped_out", by=alice, **CHECKED
        )
    assert refused.value.message_dict["exit_date"] == [
        "Residential rehabilitation started on 20 Apr 2026, after this exit date: check the exit date.",
        "The dispensing arrangement from 25 Apr 2026 (Supervised consumption, every dose) starts after this "
        "exit date: check the exit date.",
    ]
    assert TreatmentEpisode.objects.get(pk=in_treatment.pk).exit_date is None
    assert not Intervention.objects.filter(episode=in_treatment, ended_on__gte=date(2026, 4, 1)).exists()
    assert not DispensingArrangement.objects.filter(episode=in_treatment, ended_on__isnull=False).exists()


def test_an_intervention_that_ended_after_the_exit_date_is_refused(in_treatment, alice):
    InterventionFactory(
        episode=in_treatment,
        kind="inpatient",
        medicine="",
        daily_dose_mg=None,
        started_on=date(2026, 3, 1),
        ended_on=date(2026, 4, 20),
    )
    with pytest.raises(
        ValidationError, match="Inpatient treatment ended on 20 Apr 2026, after this exit date"
    ):
        services.episode_exit(
            episode=in_treatment, exit_date=date(2026, 4, 10), exit_reason="dropped_out", by=alice, **CHECKED
        )
    assert TreatmentEpisode.objects.get(pk=in_treatment.pk).exit_date is None


def test_the_service_refuses_an_exit_without_its_safety_check_and_saves_nothing(in_treatment, alice):
    with pytest.raises(ValidationError) as refused:
        services.episode_exit(episode=in_treatment, exit_date=EXIT, exit_reason="dropped_out", by=alice)
    assert set(refused.value.message_dict) == {
        "exit_relapse_risk",
        "exit_risk_of_death_discussed",
        "exit_harm_reduction_discussed",
    }
    assert TreatmentEpisode.objects.get(pk=in_treatment.pk).exit_date is None
    assert not Intervention.objects.filter(episode=in_treatment, ended_on=EXIT).exists()


@pytest.mark.parametrize("reason", [ExitReason.TRANSFERRED, ExitReason.TRANSFERRED_CUSTODY])
def test_a_transfer_needs_the_relapse_risk_but_no_discussion(episode, alice, reason):
    with pytest.raises(ValidationError) as refused:
        services.episode_exit(episode=episode, exit_date=EXIT, exit_reason=reason, by=alice)
    assert set(refused.value.message_dict) == {"exit_relapse_risk"}
    services.episode_exit(
        episode=episode, exit_date=EXIT, exit_reason=reason, by=alice, exit_relapse_risk="low"
    )
    stored = TreatmentEpisode.objects.get(pk=episode.pk)
    assert (stored.exit_relapse_risk, stored.exit_risk_of_death_discussed) == ("low", None)


def test_the_exits_without_the_discussion_are_those_that_owe_no_check_ups():
    assert set(EXITS_WITHOUT_DISCUSSION) == set(NO_CHECK_UP_EXITS)


# --- The form: what it asks, and its messages -------------------------------------------------------------------


def test_the_form_asks_for_the_relapse_risk_and_both_discussions_with_clear_messages(
    client, alice, in_treatment
):
    client.force_login(alice)
    page = client.post(exit_url(in_treatment), {"exit_date": EXIT.isoformat(), "exit_reason": "dropped_out"})
    assert page.status_code == 200
    page = page.content.decode()
    assert (
        error_beside(page, "exit_relapse_risk") == "Choose the relapse risk at exit: low, moderate or high."
    )
    assert error_beside(page, "exit_risk_of_death_discussed") == (
        "Say whether the risk of death after leaving treatment (lost tolerance, overdose) was discussed with the "
        "patient."
    )
    assert error_beside(page, "exit_harm_reduction_discussed") == (
        "Say whether the skills to reduce that risk (naloxone, not using alone, reduced tolerance) were discussed."
    )
    # Listed at the top of the form, each linked to its answer (a group of radio buttons at its first).
    summary = page.split('data-testid="form-errors"')[1].split("</div>")[0]
    assert re.findall(r'href="#([\w]+)">([^<]+)</a>', summary) == [
        ("id_exit_relapse_risk_0", "Relapse risk"),
        ("id_exit_risk_of_death_discussed_0", "Risk of death discussed"),
        ("id_exit_harm_reduction_discussed_0", "Skills to reduce it discussed"),
    ]
    assert 'id="id_exit_relapse_risk_0"' in page
    assert TreatmentEpisode.objects.get(pk=in_treatment.pk).exit_date is None
    assert not Intervention.objects.filter(episode=in_treatment, ended_on=EXIT).exists()


@pytest.mark.parametrize(
    ("death", "skills", "message"),
    [
        ("no", "yes", "Say why the risk of death after leaving treatment was not discussed."),
        ("yes", "no", "Say why the skills to reduce the risk of death were not discussed."),
        (
            "no",
            "no",
            "Say why neither the risk of death after leaving treatment nor the skills to reduce it were discussed.",
        ),
    ],
)
def test_a_no_needs_a_note_saying_why(client, alice, in_treatment, death, skills, message):
    client.force_login(alice)
    answers = {**POSTED, "exit_risk_of_death_discussed": death, "exit_harm_reduction_discussed": skills}
    page = client.post(exit_url(in_treatment), {**answers, "exit_discussion_note": "   "}).content.decode()
    assert error_beside(page, "exit_discussion_note") == message
    assert f'href="#id_exit_discussion_note">Why not</a>: {message}' in page
    assert TreatmentEpisode.objects.get(pk=in_treatment.pk).exit_date is None
    note = "Left without notice; the pharmacy will give the naloxone leaflet if he collects."
    response = client.post(exit_url(in_treatment), {**answers, "exit_discussion_note": note})
    assert response.status_code == 302
    stored = TreatmentEpisode.objects.get(pk=in_treatment.pk)
    assert (stored.exit_risk_of_death_discussed, stored.exit_harm_reduction_discussed) == (
        death == "yes",
        skills == "yes",
    )
    assert stored.exit_discussion_note == note


def test_the_form_says_when_the_discussion_is_not_needed(client, alice, episode):
    client.force_login(alice)
    page = client.get(exit_url(episode)).content.decode()
    assert "Not needed when the person died, or was transferred to another service or to custody" in page
    assert "Not needed when the person died." in page
    assert "Needed when either answer is no" in page


# --- Died: no discussion, nothing owed, and the record says why ---------------------------------------------------


def test_died_needs_no_discussion_and_owes_nothing_and_the_record_says_why(client, alice, in_treatment):
    client.force_login(alice)
    response = client.post(
        exit_url(in_treatment), {"exit_date": EXIT.isoformat(), "exit_reason": "died"}, follow=True
    )
    assert response.redirect_chain[-1][0] == in_treatment.get_absolute_url()
    page = response.content.decode()
    why = "Treatment ended on 30 Apr 2026 because the person died: no recovery check-ups are owed (§1.7)."
    assert why in page  # in the message
    assert text_of(page, "nothing-owed") == why  # where the next review would be
    assert "Record the exit TOP" not in page and 'data-testid="exit-top-missing"' not in page
    stored = TreatmentEpisode.objects.get(pk=in_treatment.pk)
    assert (stored.next_review_kind, stored.next_review_target, stored.exit_relapse_risk) == ("", None, "")
    assert Intervention.objects.filter(episode=in_treatment, ended_on=EXIT).count() == 2
    # Nothing offers a check-up, an exit TOP or a new episode for a person who died.
    assert reverse("reviews:check_up_new", args=[in_treatment.pk]) not in page
    assert reverse("patients:top_new", args=[in_treatment.pk]) not in page
    assert reverse("patients:episode_open", args=[in_treatment.patient_id]) not in page


def test_a_transfer_says_another_service_now_reviews_them(client, alice, episode):
    client.force_login(alice)
    response = client.post(
        exit_url(episode),
        {"exit_date": EXIT.isoformat(), "exit_reason": "transferred", "exit_relapse_risk": "moderate"},
        follow=True,
    )
    page = response.content.decode()
    assert text_of(page, "nothing-owed") == (
        "Treatment ended on 30 Apr 2026 because they were transferred to another service, which now reviews them: "
        "no recovery check-ups are owed (§1.7)."
    )
    # No check-up is offered; the exit TOP and a new episode (they may come back) still are.
    assert reverse("reviews:check_up_new", args=[episode.pk]) not in page
    assert reverse("patients:top_new", args=[episode.pk]) in page
    assert reverse("patients:episode_open", args=[episode.patient_id]) in page


# --- The exit page: what it shows before the form ----------------------------------------------------------------


@pytest.fixture
def reported(in_treatment, alice):
    """Reports: one in March (outside the last four weeks), one entered in error, and two in April whose missed
    doses make one run of three across them (13 to 15 April)."""
    report(in_treatment, alice, date(2026, 3, 1), date(2026, 3, 14), taken=10, missed=[date(2026, 3, 3)])
    wrong = report(
        in_treatment, alice, date(2026, 4, 20), date(2026, 4, 29), due=10, taken=5, name="Wrong patient's"
    )
    services.record_mark_entered_in_error(record=wrong, reason="Another patient's report.", by=alice)
    report(
        in_treatment,
        alice,
        date(2026, 4, 1),
        date(2026, 4, 14),
        taken=12,
        missed=[date(2026, 4, 13), date(2026, 4, 14)],
    )
    report(
        in_treatment,
        alice,
        date(2026, 4, 15),
        date(2026, 4, 28),
        taken=9,
        take_home=4,
        missed=[date(2026, 4, 15)],
    )
    return in_treatment


def test_the_exit_page_shows_the_dose_the_last_dose_adherence_and_what_is_still_open(client, alice, reported):
    client.force_login(alice)
    page = client.get(exit_url(reported)).content.decode()
    assert text_of(page, "current-dose") == "Methadone (oral) 60 mg daily since 15 Jan 2026"
    assert text_of(page, "last-dose") == (
        "28 Apr 2026 (3 days ago) From the latest pharmacy report, Boots, 15 Apr 2026 to 28 Apr 2026."
    )
    assert text_of(page, "adherence") == (
        "Supervised doses taken: 21 of 24 due Doses missed: 3 "
        "Longest run of consecutive missed doses: 3, 13 Apr to 15 Apr 2026 "
        "Three or more in a row: tolerance may be lost (App. C 1). "
        "From 2 pharmacy reports covering 1 Apr 2026 to 28 Apr 2026; a run is read across reports."
    )
    assert text_of(page, "still-open") == (
        "Methadone (oral) 60 mg daily since 15 Jan 2026 "
        "Psychosocial intervention since 1 Feb 2026 "
        "Dispensing: 2 take-home dose(s) a week since 1 Apr 2026"
    )
    assert "Detoxification" not in text_of(page, "still-open")
    assert page.index('data-testid="before-exit"') < page.index('data-testid="exit-form"')


def test_the_last_dose_is_the_last_day_not_missed_and_names_the_missed_days_after_it(
    client, alice, in_treatment
):
    report(
        in_treatment,
        alice,
        date(2026, 4, 15),
        date(2026, 4, 28),
        taken=11,
        missed=[date(2026, 4, d) for d in (26, 27, 28)],
    )
    client.force_login(alice)
    page = client.get(exit_url(in_treatment)).content.decode()
    assert text_of(page, "last-dose") == (
        "25 Apr 2026 (6 days ago) From the latest pharmacy report, Boots, 15 Apr 2026 to 28 Apr 2026; "
        "missed after it: 26 Apr, 27 Apr, 28 Apr."
    )


def test_the_exit_page_says_when_there_is_nothing_to_show(client, alice, episode):
    client.force_login(alice)
    page = client.get(exit_url(episode)).content.decode()
    assert text_of(page, "current-dose") == "No OST open."
    assert text_of(page, "last-dose") == "None recorded: no pharmacy report yet."
    assert text_of(page, "adherence") == "No pharmacy report covers the last four weeks."
    assert text_of(page, "still-open") == "Nothing: no intervention or dispensing arrangement is open."


def test_the_exit_page_reads_a_fixed_number_of_queries(client, alice, reported, django_assert_num_queries):
    """Session, the user with their team, the episode with its patient, the access log's insert; the
    navigation's inbox count; open interventions, open dispensing arrangements, pharmacy reports and their missed doses."""
    client.force_login(alice)
    with django_assert_num_queries(9):
        assert client.get(exit_url(reported)).status_code == 200
    for start in (date(2026, 2, 1), date(2026, 2, 15)):
        report(reported, alice, start, date(2026, start.month, start.day + 13), taken=13, missed=[start])
    InterventionFactory(episode=reported, kind="recovery_support", medicine="", daily_dose_mg=None)
    with django_assert_num_queries(9):
        assert client.get(exit_url(reported)).status_code == 200


def test_an_ended_episode_is_not_ended_again_from_its_page(client, alice, episode):
    services.episode_exit(episode=episode, exit_date=EXIT, exit_reason="dropped_out", by=alice, **CHECKED)
    client.force_login(alice)
    page = client.get(exit_url(episode)).content.decode()
    assert "This episode ended on 30 Apr 2026 (Dropped out / left)" in page
    assert 'data-testid="exit-form"' not in page
    page = client.post(exit_url(episode), {**POSTED, "exit_date": "2026-04-01"}).content.decode()
    assert TreatmentEpisode.objects.get(pk=episode.pk).exit_date == EXIT


# --- After the exit: the message, the exit TOP, the record and the timeline -------------------------------------


def test_the_message_lists_what_ended_what_is_owed_and_links_the_exit_top(client, alice, sam, in_treatment):
    StrategicReviewFactory(
        episode=in_treatment, lead=sam, held_on=date(2026, 4, 28), status=ReviewStatus.DRAFT
    )
    client.force_login(alice)
    page = client.post(exit_url(in_treatment), POSTED, follow=True).content.decode()
    top = reverse("patients:top_new", args=[in_treatment.pk]) + "?stage=exit"
    message = html.unescape(re.sub(r"<[^>]+>", "", page.split('role="alert">')[1].split("</div>")[0]))
    assert message == (
        "The episode ended on 30 Apr 2026 (Dropped out / left). "
        "Ended with it on 30 Apr 2026: Methadone (oral) 60 mg daily; Psychosocial intervention; "
        "dispensing (2 take-home dose(s) a week). "
        "The check-up after the element of treatment that ended on 30 Jan 2026 is still owed: due by 13 Feb 2026, "
        "no later than 27 Feb 2026 (§1.7). "
        "Recovery check-ups are now scheduled (§1.7): the first is due by 14 May 2026. "
        "The strategic review started on 28 Apr 2026 (lead Sam Senior) was not completed: open it and discard it. "
        "Record the exit TOP."
    )
    assert f'<a href="{top}" class="alert-link">Record the exit TOP</a>' in page


def test_the_record_asks_for_the_exit_top_until_one_is_recorded(client, alice, episode):
    services.episode_exit(episode=episode, exit_date=EXIT, exit_reason="dropped_out", by=alice, **CHECKED)
    client.force_login(alice)
    top = reverse("patients:top_new", args=[episode.pk])
    record = client.get(episode.get_absolute_url()).content.decode()
    assert text_of(record, "exit-top-missing") == (
        "No exit TOP has been recorded for this episode. Record the exit TOP"
    )
    assert f'href="{top}?stage=exit">Record the exit TOP</a>' in record
    # The TOP form starts at the exit stage, asked for or not.
    for url in (f"{top}?stage=exit", top):
        form = client.get(url).content.decode()
        assert re.search(r'<option value="exit" selected>', form), url
    TopAssessmentFactory(episode=episode, assessed_on=EXIT, stage=TopStage.REVIEW)
    assert 'data-testid="exit-top-missing"' in client.get(episode.get_absolute_url()).content.decode()
    exit_top = TopAssessmentFactory(episode=episode, assessed_on=EXIT, stage=TopStage.EXIT)
    record = client.get(episode.get_absolute_url()).content.decode()
    assert 'data-testid="exit-top-missing"' not in record and "No exit TOP" not in record
    assert re.search(r'<option value="post_exit" selected>', client.get(top).content.decode())
    # An exit TOP entered in error is no exit TOP.
    services.record_mark_entered_in_error(record=exit_top, reason="Recorded for the wrong patient.", by=alice)
    assert 'data-testid="exit-top-missing"' in client.get(episode.get_absolute_url()).content.decode()


def test_the_record_and_the_timeline_show_the_relapse_risk_and_the_discussion(client, alice, episode):
    note = "He would not talk about it today; naloxone kit given at the pharmacy."
    services.episode_exit(
        episode=episode,
        exit_date=EXIT,
        exit_reason="dropped_out",
        by=alice,
        exit_relapse_risk="high",
        exit_risk_of_death_discussed=False,
        exit_harm_reduction_discussed=True,
        exit_discussion_note=note,
    )
    client.force_login(alice)
    record = client.get(episode.get_absolute_url()).content.decode()
    assert text_of(record, "exit-check") == (
        "Relapse risk at exit High "
        "Risk of death after leaving treatment (lost tolerance, overdose) discussed no "
        "Skills to reduce it (naloxone, not using alone, reduced tolerance) discussed yes "
        f"About the discussion {note}"
    )
    timeline = record.split('data-testid="timeline"')[1]
    # an ended episode's entries can hold no link at all: the list, which scrolls past 32rem, takes the focus
    # itself so that a keyboard can scroll it (axe: scrollable-region-focusable), and is named by its heading
    assert '<h2 class="h5" id="timeline-heading">Timeline</h2>' in timeline
    assert (
        '<ol class="list-unstyled timeline mb-0" tabindex="0" aria-labelledby="timeline-heading">' in timeline
    )
    entry = re.search(r'<li class="timeline-entry kind-episode flag-warning">(.*?)</li>', timeline, re.S)
    assert entry, "the exit is flagged on the timeline"
    assert "Left treatment" in entry.group(1)
    assert html.unescape(" ".join(re.sub(r"<[^>]+>", " ", entry.group(1)).split())).endswith(
        "Dropped out / left. Relapse risk: high. Risk of death after leaving treatment discussed: no; "
        f"skills to reduce it discussed: yes. {note}"
    )


def test_an_exit_recorded_before_the_check_was_asked_says_so(client, alice, episode):
    TreatmentEpisode.objects.filter(pk=episode.pk).update(exit_date=EXIT, exit_reason="completed_drug_free")
    client.force_login(alice)
    record = client.get(episode.get_absolute_url()).content.decode()
    assert text_of(record, "exit-check") == "No leaving-treatment safety check was recorded with this exit."
    assert "Treatment completed: drug free. No leaving-treatment safety check was recorded." in record


def test_the_audit_log_records_the_exit_and_what_ended_with_it(client, alice, in_treatment):
    client.force_login(alice)
    client.post(exit_url(in_treatment), POSTED)
    update = LogEntry.objects.get_for_object(in_treatment).filter(action=LogEntry.Action.UPDATE).get()
    assert update.actor == alice
    assert update.additional_data == {"patient_id": in_treatment.patient_id}
    changes = update.changes_dict
    assert changes["exit_date"] == ["None", "2026-04-30"]
    assert changes["exit_reason"][1] == "dropped_out"
    assert changes["exit_relapse_risk"][1] == "high"
    assert changes["exit_risk_of_death_discussed"] == ["None", "True"]
    ended = LogEntry.objects.filter(
        action=LogEntry.Action.UPDATE, content_type__model="intervention", actor=alice
    )
    assert sorted(e.changes_dict["ended_on"][1] for e in ended) == ["2026-04-30", "2026-04-30"]
    closed = LogEntry.objects.get(action=LogEntry.Action.UPDATE, content_type__model="dispensingarrangement")
    assert closed.changes_dict["ended_on"] == ["None", "2026-04-30"]
    assert closed.additional_data == {"patient_id": in_treatment.patient_id}


# --- The rules the database holds as well ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"exit_relapse_risk": "low"},
            "exit_date",
            "The relapse risk and the discussion at exit are recorded with the exit date.",
        ),
        (
            {"exit_date": EXIT, "exit_reason": "dropped_out", "exit_risk_of_death_discussed": False},
            "exit_discussion_note",
            "Say why the risk of death after leaving treatment was not discussed.",
        ),
        (
            {"exit_date": EXIT, "exit_reason": "dropped_out", "exit_relapse_risk": "extreme"},
            "exit_relapse_risk",
            "Value 'extreme' is not a valid choice.",
        ),
    ],
    ids=["check-without-exit", "no-without-note", "unknown-relapse-risk"],
)
def test_the_exit_check_rules_are_validated_and_held_by_the_database(episode, values, field, message):
    for name, value in values.items():
        setattr(episode, name, value)
    with pytest.raises(ValidationError) as refused:
        episode.full_clean()
    assert message in refused.value.message_dict[field]
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentEpisode.objects.filter(pk=episode.pk).update(**values)


def test_a_dispensing_arrangement_does_not_end_before_it_started(episode):
    arrangement = DispensingArrangementFactory(episode=episode, effective_from=date(2026, 2, 1))
    arrangement.ended_on = date(2026, 1, 31)
    with pytest.raises(ValidationError, match="cannot end before it started"):
        arrangement.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        DispensingArrangement.objects.filter(pk=arrangement.pk).update(ended_on=date(2026, 1, 31))


def test_the_record_of_an_episode_that_owes_nothing_reads_a_fixed_number_of_queries(
    client, alice, reported, django_assert_num_queries
):
    """The patient page of an ended episode that owes nothing reads the policy's facts to say why (one query per
    kind of input), whatever the number of rows."""
    services.episode_exit(episode=reported, exit_date=EXIT, exit_reason="died", by=alice)
    client.force_login(alice)
    with django_assert_num_queries(29):
        page = client.get(reported.get_absolute_url()).content.decode()
    assert "because the person died" in page
    InterventionFactory(
        episode=reported,
        kind="recovery_support",
        medicine="",
        daily_dose_mg=None,
        started_on=date(2026, 2, 1),
        ended_on=date(2026, 3, 1),
    )
    report(reported, alice, date(2026, 2, 1), date(2026, 2, 14), taken=13, missed=[date(2026, 2, 2)])
    with django_assert_num_queries(29):
        client.get(reported.get_absolute_url())
