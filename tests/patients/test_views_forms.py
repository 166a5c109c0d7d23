"""The recording forms: what each stores, and bad input answered beside the field it is about (crispy names the
message's element error_1_id_<field>, inside the field's own div_id_<field>)."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from patients.models import (
    Appointment,
    DispensingArrangement,
    DrugTest,
    EpisodeCircumstance,
    Intervention,
    PharmacyReport,
    TopAssessment,
    TreatmentEpisode,
)
from reviews.services.schedule import episode_schedule_refresh
from tests.support.factories import CircumstanceFactory, InterventionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
FROZEN_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
TODAY = date(2026, 5, 1)


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def error_beside(page: str, field: str) -> str:
    """The message shown for `field`, found right beside its input."""
    match = re.search(
        rf'id="error_1_id_{field}"[^>]*>\s*(?:<strong>)?(.*?)(?:</strong>)?\s*</', page, flags=re.S
    )
    assert match, f"no message beside {field}"
    return match.group(1)


def schedule(episode):
    stored = TreatmentEpisode.objects.get(pk=episode.pk)
    return stored.next_review_target, stored.next_review_deadline


# --- Appointment ---------------------------------------------------------------------------------------------


def test_an_attended_appointment_is_recorded_with_its_review_note(logged_in, alice, episode):
    response = logged_in.post(
        reverse("patients:appointment_new", args=[episode.pk]),
        {
            "keyworker": alice.pk,
            "on": "2026-04-30",
            "at": "10:30",
            "status": "attended",
            "review_note": "Reviewed use.",
        },
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.review_note == "Reviewed use." and appointment.keyworker == alice


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"review_note": ""}, "review_note", "needs its ongoing-review note (§1.1)"),
        ({"on": "2026-05-20"}, "status", "can only be booked or cancelled"),
        ({"on": "2025-12-01"}, "on", "before the episode began on 15 Jan 2026"),
        ({"at": "25:00"}, "at", "Enter a valid time"),
    ],
)
def test_bad_appointment_input_is_answered_beside_the_field(
    logged_in, alice, episode, changes, field, message
):
    data = {
        "keyworker": alice.pk,
        "on": "2026-04-30",
        "at": "10:30",
        "status": "attended",
        "review_note": "Fine.",
    }
    response = logged_in.post(reverse("patients:appointment_new", args=[episode.pk]), {**data, **changes})
    assert message in error_beside(response.content.decode(), field)
    assert not Appointment.objects.exists()


# --- TOP ---------------------------------------------------------------------------------------------------------


def top_data(**answers):
    return {
        "assessed_on": "2026-04-30",
        "stage": "review",
        **{k: "" if v is None else v for k, v in answers.items()},
    }


def test_the_top_form_asks_every_item_grouped_by_section(logged_in, episode):
    page = logged_in.get(reverse("patients:top_new", args=[episode.pk])).content.decode()
    not_items = {"id", "episode", "assessed_on", "stage", "recorded_by", "created_at"}
    item_fields = [
        f.name
        for f in TopAssessment._meta.concrete_fields
        if f.name not in not_items and not f.name.startswith("entered_in_error")
    ]
    assert len(item_fields) > 40
    for name in item_fields:
        assert f'name="{name}"' in page, name
    for legend in (
        "Section 1: substance use",
        "Section 2: injecting",
        "Section 3: crime",
        "Section 4: health",
    ):
        assert legend in page
    assert '<option value="" selected>Not answered</option>' in page


def test_an_empty_box_is_stored_as_not_answered_and_zero_as_zero(logged_in, episode):
    response = logged_in.post(
        reverse("patients:top_new", args=[episode.pk]),
        top_data(
            opiates_week4=2, opiates_week3=1, opiates_week2=0, opiates_week1=0, opiates_amount="0.5",
            crack_week4=0, crack_week3=0, crack_week2=0, crack_week1=0,
            injecting_days=0, shared_needle="no", psychological_health=12, acute_housing_problem="yes",
        ),
    )  # fmt: skip
    assert response.status_code == 302
    top = TopAssessment.objects.get()
    assert top.days_used("opiates") == 3 and top.opiates_amount == Decimal("0.5")
    assert top.days_used("crack") == 0
    assert top.days_used("alcohol") is None and top.alcohol_week1 is None  # not answered, not zero
    assert (top.shared_needle, top.shared_paraphernalia, top.acute_housing_problem) == (False, None, True)
    assert top.physical_health is None and top.psychological_health == 12
    assert top.recorded_by.username == "alice"


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"alcohol_week1": 8}, "alcohol_week1", "Days in a week: 0 to 7."),
        ({"alcohol_week1": -1}, "alcohol_week1", "Days in a week: 0 to 7."),
        ({"cannabis_week2": "two"}, "cannabis_week2", "A whole number of days, 0 to 7."),
        ({"injecting_days": 29}, "injecting_days", "0 to 28."),
        ({"quality_of_life": 21}, "quality_of_life", "0 to 20."),
        ({"alcohol_amount": 1000}, "alcohol_amount", "At most 999 a day"),
        (
            {"crack_week4": 0, "crack_week3": 0, "crack_week2": 0, "crack_week1": 0, "crack_amount": 2},
            "crack_amount",
            "No days of use in the four weeks",
        ),
        ({"other_week1": 3}, "other_substance_name", "Name the other problem substance"),
        ({"injecting_days": 0, "shared_needle": "yes"}, "shared_needle", "No days of injecting are recorded"),
        ({"physical_health": 10, "assessed_on": "2026-05-02"}, "assessed_on", "in the future"),
    ],
)
def test_bad_top_answers_are_answered_beside_the_item(logged_in, episode, answers, field, message):
    response = logged_in.post(reverse("patients:top_new", args=[episode.pk]), top_data(**answers))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in error_beside(page, field)
    assert re.search(rf'id="id_{field}"[^>]*is-invalid|is-invalid[^>]*id="id_{field}"', page)
    assert not TopAssessment.objects.exists()


def test_a_top_with_nothing_answered_is_refused(logged_in, episode):
    response = logged_in.post(reverse("patients:top_new", args=[episode.pk]), top_data())
    assert "Nothing is answered" in response.content.decode()
    assert not TopAssessment.objects.exists()


# --- Drug test ---------------------------------------------------------------------------------------------------


def results_data(*rows, total=None):
    data = {"results-TOTAL_FORMS": str(total or len(rows)), "results-INITIAL_FORMS": "0"}
    for i, (substance, result, prescribed) in enumerate(rows):
        data |= {f"results-{i}-substance": substance, f"results-{i}-result": result}
        if prescribed:
            data[f"results-{i}-expected_because_prescribed"] = "on"
    return data


def test_several_substances_are_recorded_from_one_sample(logged_in, episode):
    response = logged_in.post(
        reverse("patients:drug_test_new", args=[episode.pk]),
        {
            "taken_on": "2026-04-29",
            "method": "urine",
            **results_data(
                ("heroin", "negative", False),
                ("methadone", "positive", True),
                ("cocaine", "", False),  # not tested: left out
                ("cannabis", "positive", False),
            ),
        },
    )
    assert response.status_code == 302
    test = DrugTest.objects.get()
    assert sorted(test.results.values_list("substance", "result", "expected_because_prescribed")) == [
        ("cannabis", "positive", False),
        ("heroin", "negative", False),
        ("methadone", "positive", True),
    ]


def test_the_prescribed_medicine_is_ticked_as_expected_in_the_usual_panel(logged_in, episode):
    InterventionFactory(episode=episode, medicine="buprenorphine", daily_dose_mg=8)
    page = logged_in.get(reverse("patients:drug_test_new", args=[episode.pk])).content.decode()
    rows = re.findall(r'<tr class="result-row">.*?</tr>', page, flags=re.S)
    ticked = [r for r in rows if 'name="results-0-expected_because_prescribed"' in r][0]
    assert '<option value="buprenorphine" selected>' in ticked and "checked" in ticked
    assert "checked" not in [r for r in rows if "results-1-" in r][0]  # heroin, the primary drug


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        (
            (("heroin", "negative", False), ("heroin", "positive", False)),
            "results-1-substance",
            "already has a result",
        ),
        ((("", "positive", False),), "results-0-substance", "Choose the substance"),
        ((("methadone", "", True),), "results-0-result", "Give the result"),
    ],
)
def test_bad_results_are_answered_beside_the_row(logged_in, episode, rows, field, message):
    response = logged_in.post(
        reverse("patients:drug_test_new", args=[episode.pk]),
        {"taken_on": "2026-04-29", "method": "urine", **results_data(*rows)},
    )
    assert message in error_beside(response.content.decode(), field)
    assert not DrugTest.objects.exists()


def test_a_test_without_any_result_is_refused(logged_in, episode):
    response = logged_in.post(
        reverse("patients:drug_test_new", args=[episode.pk]),
        {"taken_on": "2026-04-29", "method": "urine", **results_data(("heroin", "", False))},
    )
    assert "Give the result for at least one substance." in response.content.decode()
    assert not DrugTest.objects.exists()


def test_a_test_taken_in_the_future_is_refused_beside_its_date(logged_in, episode):
    response = logged_in.post(
        reverse("patients:drug_test_new", args=[episode.pk]),
        {"taken_on": "2026-06-01", "method": "urine", **results_data(("heroin", "negative", False))},
    )
    assert "in the future" in error_beside(response.content.decode(), "taken_on")


# --- Pharmacy report --------------------------------------------------------------------------------------------

PHARMACY = {
    "pharmacy_name": "Boots",
    "period_start": "2026-04-10",
    "period_end": "2026-04-23",
    "doses_due": 14,
    "supervised_doses_taken": 11,
    "take_home_doses_collected": 0,
    "missed_dates": "",
}


def test_three_missed_doses_in_a_row_warn_and_move_the_next_review_earlier(logged_in, episode):
    episode_schedule_refresh(episode)
    assert schedule(episode) == (date(2026, 4, 15), date(2026, 7, 15))
    response = logged_in.post(
        reverse("patients:pharmacy_report_new", args=[episode.pk]),
        {**PHARMACY, "missed_dates": "20/04/2026, 21/04/2026\n2026-04-22"},
        follow=True,
    )
    page = response.content.decode()
    assert "3 consecutive missed doses: a safety event" in page
    assert "The next review moved earlier: target 15 Apr 2026, deadline 20 May 2026" in page
    assert schedule(episode) == (date(2026, 4, 15), date(2026, 5, 20))
    assert "Adherence deteriorated on 22 Apr 2026" in page


def test_two_missed_doses_are_recorded_without_moving_the_review(logged_in, episode):
    episode_schedule_refresh(episode)
    response = logged_in.post(
        reverse("patients:pharmacy_report_new", args=[episode.pk]),
        {**PHARMACY, "missed_dates": "20/04/2026 21/04/26"},
        follow=True,
    )
    assert "Pharmacy report recorded." in response.content.decode()
    assert PharmacyReport.objects.get().missed_dose_run == 2
    assert schedule(episode) == (date(2026, 4, 15), date(2026, 7, 15))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("missed_dates", "20/04/2026, yesterday", "Not a date: yesterday"),
        ("missed_dates", "01/03/2026, 21/04/2026", "(10/04/2026 to 23/04/2026): 01/03/2026 does not."),
        ("missed_dates", "31/02/2026", "Not a date: 31/02/2026"),
        ("missed_dates", "20/04/2026 21/04/2026 22/04/2026 23/04/2026", "4 missed, 11 taken and 0 collected"),
        ("period_end", "2026-04-01", "cannot end before it starts"),
        ("supervised_doses_taken", "20", "cannot be more than the doses due"),
        ("period_start", "2025-12-01", "before the episode began"),
        ("pharmacy_name", "", "This field is required."),
    ],
)
def test_bad_pharmacy_report_input_is_answered_beside_the_field(logged_in, episode, field, value, message):
    response = logged_in.post(
        reverse("patients:pharmacy_report_new", args=[episode.pk]), {**PHARMACY, field: value}
    )
    assert response.status_code == 200
    assert message in error_beside(response.content.decode(), field)
    assert not PharmacyReport.objects.exists()


def test_an_outsider_cannot_record_a_pharmacy_report(client, olga, episode):
    client.force_login(olga)
    response = client.post(reverse("patients:pharmacy_report_new", args=[episode.pk]), PHARMACY)
    assert response.status_code == 404


# --- Changes of treatment ------------------------------------------------------------------------------------------


def test_a_dispensing_change_is_recorded_with_its_reason(logged_in, sam, episode):
    logged_in.force_login(sam)  # a prescribing decision, for a senior practitioner (§2.5)
    response = logged_in.post(
        reverse("patients:dispensing_change_new", args=[episode.pk]),
        {
            "effective_from": "2026-05-01",
            "take_home_doses_per_week": 2,
            "change_reason": "introduce_take_home",
            "reason_note": "Stable for three months.",
        },
    )
    assert response.status_code == 302
    arrangement = DispensingArrangement.objects.get()
    assert (arrangement.take_home_doses_per_week, arrangement.change_reason) == (2, "introduce_take_home")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("take_home_doses_per_week", "8", "At most 7 a week."),
        ("reason_note", "", "This field is required."),
        ("change_reason", "whim", "Select a valid choice."),
    ],
)
def test_bad_dispensing_changes_are_answered_beside_the_field(logged_in, episode, field, value, message):
    data = {
        "effective_from": "2026-05-01",
        "take_home_doses_per_week": 0,
        "change_reason": "reinstate_supervision",
        "reason_note": "Missed doses.",
    }
    response = logged_in.post(
        reverse("patients:dispensing_change_new", args=[episode.pk]), {**data, field: value}
    )
    assert message in error_beside(response.content.decode(), field)
    assert not DispensingArrangement.objects.exists()


def test_a_circumstance_calls_the_review_earlier_and_its_end_restores_it(logged_in, episode):
    episode_schedule_refresh(episode)
    response = logged_in.post(
        reverse("patients:circumstance_new", args=[episode.pk]),
        {"code": "complex_needs", "started_on": "2026-02-01", "note": "Psychosis"},
        follow=True,
    )
    assert "The next review moved earlier" in response.content.decode()
    assert schedule(episode) == (date(2026, 4, 15), date(2026, 4, 15))
    circumstance = EpisodeCircumstance.objects.get()
    bad = logged_in.post(
        reverse("patients:circumstance_end", args=[circumstance.pk]), {"ended_on": "2026-01-20"}
    )
    assert "before it started on 1 Feb 2026" in error_beside(bad.content.decode(), "ended_on")
    logged_in.post(reverse("patients:circumstance_end", args=[circumstance.pk]), {"ended_on": "2026-04-30"})
    assert schedule(episode) == (date(2026, 4, 15), date(2026, 7, 15))


def test_an_ended_circumstance_cannot_be_ended_again(logged_in, episode):
    circumstance = CircumstanceFactory(episode=episode, ended_on=date(2026, 3, 1))
    response = logged_in.post(
        reverse("patients:circumstance_end", args=[circumstance.pk]), {"ended_on": "2026-04-30"}
    )
    assert "already ended on 1 Mar 2026" in error_beside(response.content.decode(), "ended_on")


def test_ost_needs_its_medicine_and_a_plausible_dose(logged_in, sam, episode):
    logged_in.force_login(sam)  # a prescribing decision, for a senior practitioner (§2.5)
    url = reverse("patients:intervention_new", args=[episode.pk])
    data = {"kind": "ost", "medicine": "buprenorphine", "daily_dose_mg": "80", "started_on": "2026-04-01"}
    page = logged_in.post(url, data).content.decode()
    assert "above 32 mg is not plausible" in error_beside(page, "daily_dose_mg")
    page = logged_in.post(url, {**data, "medicine": ""}).content.decode()
    assert "needs its medicine" in error_beside(page, "medicine")
    assert logged_in.post(url, {**data, "daily_dose_mg": "16"}).status_code == 302
    assert str(Intervention.objects.get()) == "Buprenorphine (sublingual) 16 mg daily"


def test_an_intervention_is_ended(logged_in, sam, episode):
    logged_in.force_login(sam)  # a prescribing decision, for a senior practitioner (§2.5)
    intervention = InterventionFactory(episode=episode)
    response = logged_in.post(
        reverse("patients:intervention_end", args=[intervention.pk]), {"ended_on": "2026-04-30"}
    )
    assert response.status_code == 302
    intervention.refresh_from_db()
    assert intervention.ended_on == date(2026, 4, 30)


def test_ending_the_episode_schedules_recovery_check_ups(logged_in, episode):
    url = reverse("patients:episode_exit", args=[episode.pk])
    page = logged_in.post(
        url, {"exit_date": "2026-01-01", "exit_reason": "completed_drug_free"}
    ).content.decode()
    assert "before the episode began" in error_beside(page, "exit_date")
    page = logged_in.post(url, {"exit_date": "2026-04-30", "exit_reason": ""}).content.decode()
    assert "This field is required." in error_beside(page, "exit_reason")
    logged_in.post(
        url,
        {
            "exit_date": "2026-04-30",
            "exit_reason": "completed_drug_free",
            "exit_relapse_risk": "low",
            "exit_risk_of_death_discussed": "yes",
            "exit_harm_reduction_discussed": "yes",
        },
    )
    stored = TreatmentEpisode.objects.get(pk=episode.pk)
    assert (stored.next_review_kind, stored.next_review_target) == ("recovery_check_up", date(2026, 5, 14))


def test_a_new_episode_can_be_opened_once_the_last_has_ended(logged_in, sam, patient):
    url = reverse("patients:episode_open", args=[patient.pk])
    data = {
        "entry_date": "2026-04-01",
        "primary_drug": "crack",
        "other_substances": ["alcohol"],
        "lead_practitioner": sam.pk,
    }
    assert logged_in.post(url, data).status_code == 302
    assert "already has an open treatment episode" in logged_in.post(url, data).content.decode()
    episode = TreatmentEpisode.objects.get()
    assert (episode.other_substances, episode.next_review_target) == (["alcohol"], date(2026, 7, 1))


@pytest.mark.parametrize(
    "name",
    [
        "appointment_new",
        "top_new",
        "drug_test_new",
        "pharmacy_report_new",
        "dispensing_change_new",
        "circumstance_new",
        "intervention_new",
        "episode_exit",
    ],
)
def test_every_form_is_a_404_outside_scope_and_a_logged_view_inside(client, olga, alice, episode, name):
    url = reverse(f"patients:{name}", args=[episode.pk])
    client.force_login(olga)
    assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code == 404
    client.force_login(alice)
    assert client.get(url).status_code == 200
    from auditlog.models import LogEntry

    assert (
        LogEntry.objects.filter(
            action=LogEntry.Action.ACCESS, additional_data__patient_id=episode.patient_id
        ).count()
        == 1
    )


def test_appointment_times_are_stored_in_local_time(logged_in, alice, episode):
    logged_in.post(
        reverse("patients:appointment_new", args=[episode.pk]),
        {
            "keyworker": alice.pk,
            "on": "2026-04-30",
            "at": "10:30",
            "status": "attended",
            "review_note": "Fine.",
        },
    )
    assert Appointment.objects.get().starts_at == datetime(2026, 4, 30, 9, 30, tzinfo=UTC)  # 10:30 BST
