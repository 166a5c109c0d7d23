"""Prescribing decisions outside a review are a senior practitioner's (§2.5): starting, changing or ending opioid
substitution treatment, and introducing or extending take-home doses (App. C 1), which is refused, whoever asks,
while a run of missed doses waits for the prescriber to be told. Tried the way a determined keyworker would,
through the services and through the pages; every refusal says who can do it."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients import services
from patients.models import DispensingArrangement, Intervention
from tests.patients.test_views_forms import error_beside
from tests.support.factories import DispensingArrangementFactory, InterventionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
ENTRY = date(2026, 1, 15)  # the episode fixture's entry date
TODAY = ENTRY + timedelta(days=30)  # day 30 of treatment
SENIOR = "a senior practitioner records it (§2.5)"


@pytest.fixture
def on_methadone(episode):
    DispensingArrangementFactory(episode=episode)  # supervised consumption from entry
    return InterventionFactory(episode=episode)


def missed_run_untold(episode, by):
    """Three doses in a row missed (5-7 Feb): a safety event, the prescriber not recorded as told."""
    return services.pharmacy_report_record(
        episode=episode,
        pharmacy_name="High Street Pharmacy",
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 13),
        doses_due=13,
        supervised_doses_taken=10,
        take_home_doses_collected=0,
        missed_dates=[date(2026, 2, 5), date(2026, 2, 6), date(2026, 2, 7)],
        by=by,
    )


def seven_take_home(episode, by):
    return services.dispensing_change_record(
        episode=episode,
        effective_from=TODAY,
        take_home_doses_per_week=7,
        change_reason="introduce_take_home",
        reason_note="Doing well.",
        by=by,
    )


# --- OST: started, changed or ended by a senior practitioner ----------------------------------------------------


def test_a_keyworker_cannot_end_ost_through_the_service(on_methadone, alice):
    with pytest.raises(ValidationError) as error:
        services.intervention_end(intervention=on_methadone, ended_on=TODAY, by=alice)
    assert SENIOR in error.value.message_dict["ended_on"][0]
    on_methadone.refresh_from_db()
    assert on_methadone.ended_on is None


@pytest.mark.parametrize("who", ["alice", "mona"])
def test_nobody_but_a_senior_practitioner_starts_or_changes_ost_through_the_service(request, episode, who):
    with pytest.raises(ValidationError) as error:
        services.intervention_record(
            episode=episode,
            kind="ost",
            medicine="methadone",
            daily_dose_mg=Decimal("20"),
            started_on=TODAY,
            by=request.getfixturevalue(who),
        )
    assert SENIOR in error.value.message_dict["kind"][0]
    assert not Intervention.objects.exists()


def test_a_senior_practitioner_changes_the_dose_and_a_keyworker_still_records_other_interventions(
    on_methadone, sam, alice
):
    services.intervention_end(intervention=on_methadone, ended_on=TODAY, by=sam)
    services.intervention_record(
        episode=on_methadone.episode,
        kind="ost",
        medicine="methadone",
        daily_dose_mg=Decimal("40"),
        started_on=TODAY,
        by=sam,
    )
    psychosocial = services.intervention_record(
        episode=on_methadone.episode, kind="psychosocial", started_on=TODAY, by=alice
    )
    services.intervention_end(intervention=psychosocial, ended_on=TODAY, by=alice)
    assert list(
        Intervention.objects.filter(ended_on__isnull=True).values_list("daily_dose_mg", flat=True)
    ) == [Decimal("40")]


def test_a_keyworker_ending_ost_on_the_page_is_told_who_can(client, alice, on_methadone):
    client.force_login(alice)
    page = client.post(
        reverse("patients:intervention_end", args=[on_methadone.pk]), {"ended_on": TODAY.isoformat()}
    ).content.decode()
    assert SENIOR in error_beside(page, "ended_on")
    assert 'href="#id_ended_on"' in page.split('data-testid="form-errors"')[1].split("</div>")[0]
    on_methadone.refresh_from_db()
    assert on_methadone.ended_on is None


def test_a_keyworker_starting_ost_on_the_page_is_told_who_can(client, alice, episode):
    client.force_login(alice)
    page = client.post(
        reverse("patients:intervention_new", args=[episode.pk]),
        {"kind": "ost", "medicine": "methadone", "daily_dose_mg": "30", "started_on": TODAY.isoformat()},
    ).content.decode()
    assert SENIOR in error_beside(page, "kind")
    assert not Intervention.objects.exists()


# --- Take-home doses outside a review (App. C 1) ------------------------------------------------------------------


def test_a_keyworker_cannot_set_seven_take_home_doses_at_day_30_with_a_safety_event_untold(
    on_methadone, alice
):
    missed_run_untold(on_methadone.episode, alice)
    with pytest.raises(ValidationError) as error:
        seven_take_home(on_methadone.episode, alice)
    assert "a senior practitioner records it" in error.value.message_dict["take_home_doses_per_week"][0]
    assert DispensingArrangement.objects.count() == 1


def test_a_keyworker_cannot_introduce_take_home_doses_even_without_a_safety_event(on_methadone, alice):
    with pytest.raises(ValidationError, match="senior practitioner"):
        seven_take_home(on_methadone.episode, alice)
    assert DispensingArrangement.objects.count() == 1


def test_not_even_a_senior_practitioner_adds_take_home_doses_while_the_prescriber_is_not_told(
    on_methadone, alice, sam
):
    report = missed_run_untold(on_methadone.episode, alice)
    with pytest.raises(ValidationError) as error:
        seven_take_home(on_methadone.episode, sam)
    message = error.value.message_dict["take_home_doses_per_week"][0]
    assert "3 doses in a row were missed from 5 Feb 2026" in message
    assert "record that they were told" in message
    assert DispensingArrangement.objects.count() == 1
    services.prescriber_informed_record(report=report, informed_on=TODAY, by=sam)
    assert seven_take_home(on_methadone.episode, sam).take_home_doses_per_week == 7


def test_extending_counts_against_the_arrangement_in_force_and_reducing_is_never_refused(
    on_methadone, alice, sam
):
    missed_run_untold(on_methadone.episode, alice)
    DispensingArrangementFactory(
        episode=on_methadone.episode,
        effective_from=date(2026, 2, 1),
        take_home_doses_per_week=2,
        change_reason="introduce_take_home",
    )
    extend = {"effective_from": TODAY, "change_reason": "extend_take_home", "reason_note": "More."}
    with pytest.raises(ValidationError, match="senior practitioner"):
        services.dispensing_change_record(
            episode=on_methadone.episode, take_home_doses_per_week=3, by=alice, **extend
        )
    reinstated = services.dispensing_change_record(
        episode=on_methadone.episode,
        effective_from=TODAY,
        take_home_doses_per_week=0,
        change_reason="reinstate_supervision",
        reason_note="Three missed doses in a row.",
        by=alice,
    )
    assert reinstated.take_home_doses_per_week == 0


def test_a_report_entered_in_error_does_not_hold_back_take_home_doses(on_methadone, alice, sam):
    report = missed_run_untold(on_methadone.episode, alice)
    services.record_mark_entered_in_error(record=report, reason="Another patient's report.", by=sam)
    assert seven_take_home(on_methadone.episode, sam).take_home_doses_per_week == 7


def test_the_dispensing_page_shows_app_c_1s_conditions_and_the_untold_safety_event(
    client, alice, on_methadone
):
    missed_run_untold(on_methadone.episode, alice)
    client.force_login(alice)
    page = client.get(
        reverse("patients:dispensing_change_new", args=[on_methadone.episode.pk])
    ).content.decode()
    assert "demonstrated adherence to and stability on opioid substitution treatment" in page
    assert "further good continued adherence and clinical benefit" in page
    assert "3 doses in a row missed from 5 Feb 2026, the prescriber not yet recorded as told" in page
    assert "a senior practitioner adds them" in page


@pytest.mark.parametrize(
    ("who", "said"),
    [("alice", "a senior practitioner records it"), ("sam", "record that they were told")],
)
def test_seven_take_home_doses_on_the_page_are_refused_beside_the_field(
    request, client, alice, on_methadone, who, said
):
    missed_run_untold(on_methadone.episode, alice)
    client.force_login(request.getfixturevalue(who))
    response = client.post(
        reverse("patients:dispensing_change_new", args=[on_methadone.episode.pk]),
        {
            "effective_from": TODAY.isoformat(),
            "take_home_doses_per_week": 7,
            "change_reason": "introduce_take_home",
            "reason_note": "Doing well.",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert said in error_beside(page, "take_home_doses_per_week")
    assert 'href="#id_take_home_doses_per_week"' in page
    assert DispensingArrangement.objects.count() == 1
