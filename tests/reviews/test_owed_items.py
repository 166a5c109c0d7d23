"""Every item an episode owes is stored, listed, counted, forecast and reminded on its own
(docs/design.md, Review scheduling policy; rule 7b): ending OST while the episode stays open owes a check-up 14 days after, beside the
strategic review, and neither hides the other. The check-up after an element is recorded from the record; an
attempt that could not reach the patient keeps it owed."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients import services
from patients.models import InterventionKind, Medicine, TreatmentEpisode
from recovery_reviews.models import Team
from reviews import reminders
from reviews.dashboards.forecast import workload_forecast
from reviews.dashboards.status import status_counts_by_team
from reviews.models import CheckUpOutcome, ElementCheckUp, OwedItem, Reminder
from reviews.services.element_check_ups import element_check_up_record
from reviews.services.schedule import episodes_schedule_recompute
from tests.support.factories import PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 2, 20)
ENTRY = date(2025, 12, 1)
ENDED = date(2026, 2, 10)
CHECK_UP = (
    "element_check_up",
    date(2026, 2, 24),
    date(2026, 3, 10),
)  # rule 7b: end + 14 days, 14 days' grace


@pytest.fixture
def ost_ended(patient, alice, sam):
    """On methadone from entry; OST ended on 10 Feb 2026 and the episode stays open (keywork goes on)."""
    episode = services.episode_open(
        patient=patient, entry_date=ENTRY, primary_drug="heroin", by=alice, lead_practitioner=sam
    )
    ost = services.intervention_record(
        episode=episode,
        kind=InterventionKind.OST,
        medicine=Medicine.METHADONE,
        daily_dose_mg=Decimal("40"),
        started_on=ENTRY,
        by=sam,
    )
    services.intervention_end(intervention=ost, ended_on=ENDED, by=sam)
    return TreatmentEpisode.objects.get(pk=episode.pk)


def items(episode):
    return list(
        OwedItem.objects.filter(episode=episode).order_by("target").values_list("kind", "target", "deadline")
    )


def test_both_items_are_stored_with_the_first_on_the_episode(ost_ended):
    owed = items(ost_ended)
    assert owed[0] == CHECK_UP
    assert [kind for kind, *_ in owed] == ["element_check_up", "strategic_review"]
    assert (
        ost_ended.next_review_kind,
        ost_ended.next_review_target,
        ost_ended.next_review_deadline,
    ) == CHECK_UP


def test_the_review_list_and_its_csv_show_each_item_with_its_own_dates_and_reasons(client, mona, ost_ended):
    client.force_login(mona)
    page = client.get(reverse("reviews:list"), {"sort": "target"})
    rows = page.context["page"].rows
    assert [(row.kind, row.episode_id) for row in rows] == [
        ("element_check_up", ost_ended.pk),
        ("strategic_review", ost_ended.pk),
    ]
    assert page.content.decode().count('data-testid="list-row"') == 2
    response = client.get(reverse("reviews:list_csv"), {"sort": "target"})
    lines = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(line["Review"], line["Target date"], line["Status"]) for line in lines] == [
        ("Check-up after an element of treatment", "2026-02-24", "Due soon"),
        ("Strategic review", "2026-03-01", "Due soon"),  # rule 1: entry + 3 months
    ]
    assert "ended on 10 Feb 2026" in lines[0]["Reasons"] and "(§1.7)" in lines[0]["Reasons"]
    assert (
        "ended on 10 Feb 2026" not in lines[1]["Reasons"].split("(§1.7)")[0] or "§1.6" in lines[1]["Reasons"]
    )


def test_the_list_filters_by_the_items_kind(client, mona, ost_ended):
    client.force_login(mona)
    rows = client.get(reverse("reviews:list"), {"kind": "element_check_up"}).context["page"].rows
    assert [row.kind for row in rows] == ["element_check_up"]


def test_the_dashboard_counts_each_item_and_the_forecast_each_check_up(mona, ost_ended):
    (row,) = status_counts_by_team(mona, today=TODAY)
    assert (row.counts["due_soon"], row.counts["upcoming"], row.total) == (2, 0, 2)
    (forecast,) = workload_forecast(mona, today=TODAY)
    assert sum(forecast.check_ups) == 1 and forecast.check_ups[0] == 1  # week 1: 20-26 Feb
    assert sum(forecast.reviews) == 1


def test_the_caseload_row_shows_the_item_after_the_first(client, alice, ost_ended):
    client.force_login(alice)
    page = client.get(reverse("patients:caseload")).content.decode()
    also = page.split('data-testid="also-owed"')[1].split("</div>")[0]
    assert "Also owed: strategic review" in also and "Due soon" in also and "target 1 Mar 2026" in also


def test_the_record_shows_every_item_and_offers_the_check_up(client, alice, ost_ended):
    client.force_login(alice)
    page = client.get(ost_ended.patient.get_absolute_url()).content.decode()
    assert 'data-testid="next-review-target">24 Feb 2026<' in page
    assert "Record the check-up after the element that ended 10 Feb 2026" in page
    also = page.split('data-testid="also-owed"')[1].split("</section>")[0]
    assert "Also owed: strategic review" in also and "Why these dates" in also


def test_a_reminder_goes_out_for_the_check_up_and_the_review_on_the_same_day(alice, sam, ost_ended):
    """The reminder's identity carries its kind: two items on one target day are two reminders."""
    OwedItem.objects.filter(episode=ost_ended, kind="strategic_review").update(
        target=date(2026, 2, 24), deadline=date(2026, 3, 24)
    )
    result = reminders.reminders_sweep(today=TODAY)
    claimed = sorted(
        Reminder.objects.filter(pk__in=result.claimed).values_list("kind", "stage", "recipient__username")
    )
    assert claimed == [
        ("element_check_up", "due_soon", "alice"),
        ("element_check_up", "due_soon", "sam"),
        ("strategic_review", "due_soon", "alice"),
        ("strategic_review", "due_soon", "sam"),
    ]


def test_an_attempt_keeps_the_check_up_owed_and_the_held_one_closes_it(alice, ost_ended):
    element_check_up_record(
        episode=ost_ended, element_end=ENDED, held_on=date(2026, 2, 18), outcome="not_reached", by=alice
    )
    assert items(ost_ended)[0] == CHECK_UP
    element_check_up_record(
        episode=ost_ended, element_end=ENDED, held_on=date(2026, 2, 20), outcome="stable", by=alice
    )
    assert [kind for kind, *_ in items(ost_ended)] == ["strategic_review"]
    assert TreatmentEpisode.objects.get(pk=ost_ended.pk).next_review_kind == "strategic_review"
    with pytest.raises(ValidationError, match="held already"):
        element_check_up_record(
            episode=ost_ended, element_end=ENDED, held_on=date(2026, 2, 20), outcome="stable", by=alice
        )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"element_end": date(2026, 2, 9)},
            "element_end",
            "No element of treatment of this episode ended on",
        ),
        ({"held_on": TODAY + timedelta(days=1)}, "held_on", "in the future"),
        ({"held_on": date(2026, 2, 9)}, "held_on", "follows the end of the element"),
        ({"outcome": CheckUpOutcome.RETURNED_TO_TREATMENT}, "outcome", "still in this episode"),
    ],
)
def test_a_check_up_that_cannot_be_is_refused_and_nothing_is_saved(alice, ost_ended, change, field, message):
    values = {"element_end": ENDED, "held_on": TODAY, "outcome": "stable", **change}
    with pytest.raises(ValidationError) as error:
        element_check_up_record(episode=ost_ended, by=alice, **values)
    assert message in " ".join(error.value.message_dict[field])
    assert not ElementCheckUp.objects.exists() and items(ost_ended)[0] == CHECK_UP


def test_the_check_up_is_recorded_from_the_page(client, alice, ost_ended):
    client.force_login(alice)
    url = reverse("reviews:element_check_up_new", args=[ost_ended.pk, "2026-02-10"])
    page = client.get(url).content.decode()
    assert "due <strong>24 Feb 2026</strong>, no later than <strong>10 Mar 2026</strong>" in page
    refused = client.post(url, {"held_on": "2026-02-21", "outcome": "stable"})
    assert refused.status_code == 200 and "This date is in the future." in refused.content.decode()
    response = client.post(url, {"held_on": "2026-02-19", "outcome": "support_increased"}, follow=True)
    assert "The check-up after the element that ended on 10 Feb 2026 is recorded (§1.7)." in (
        response.content.decode()
    )
    assert "Check-up after the element of treatment that ended on 10 Feb 2026" in response.content.decode()
    assert [kind for kind, *_ in items(ost_ended)] == ["strategic_review"]
    assert (
        client.get(reverse("reviews:element_check_up_new", args=[ost_ended.pk, "2026-02-11"])).status_code
        == 404
    )


def test_another_teams_user_cannot_open_the_check_up(client, olga, ost_ended):
    client.force_login(olga)
    url = reverse("reviews:element_check_up_new", args=[ost_ended.pk, "2026-02-10"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"held_on": "2026-02-19", "outcome": "stable"}).status_code == 404
    assert not ElementCheckUp.objects.exists()


def test_items_follow_the_patients_team_by_trigger(ost_ended, other_team):
    """The items carry the episode's team and keyworker, whatever path changes the patient's."""
    keyworker = ost_ended.patient.keyworker
    type(ost_ended.patient).objects.filter(pk=ost_ended.patient_id).update(team=other_team)
    assert set(OwedItem.objects.filter(episode=ost_ended).values_list("team_id", "keyworker_id")) == {
        (other_team.pk, keyworker.pk)
    }
    assert Team.objects.filter(pk=other_team.pk).exists()


def test_items_follow_their_episode_to_another_patient(ost_ended, other_team, olga):
    """An UPDATE that sets only the episode's patient names no team: the items follow all the same (reviews
    0015; before it, on PostgreSQL, they kept the old team)."""
    elsewhere = PatientFactory(team=other_team, keyworker=olga)
    TreatmentEpisode.objects.filter(pk=ost_ended.pk).update(patient=elsewhere)
    assert OwedItem.objects.filter(episode=ost_ended).exists()
    assert set(OwedItem.objects.filter(episode=ost_ended).values_list("team_id", "keyworker_id")) == {
        (other_team.pk, olga.pk)
    }


def test_the_nightly_recompute_restores_items_lost_and_leaves_the_rest(ost_ended):
    stored = items(ost_ended)
    OwedItem.objects.filter(episode=ost_ended, kind="strategic_review").delete()
    result = episodes_schedule_recompute(today=TODAY)
    assert result.changed == 1 and items(ost_ended) == stored
    assert episodes_schedule_recompute(today=TODAY).changed == 0
