"""Vigilance after a medication change (App. C 2; docs/design.md rule 3b): after a transition (a cut in the OST
dose, a change of medicine, an element of treatment started or ended) the patient page, the caseload badge and the
evidence pack say "within 3 months of a transition", with what changed and when, until the strategic review that
follows it is completed. The transitions are the schedule's own (reviews.services.schedule), read with no query
more on the patient page and the evidence pack, and one more for the caseload's page of rows."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from patients import services
from patients.models import InterventionKind, Medicine
from reviews.models import ReviewStatus, StrategicReview
from reviews.selectors import evidence_pack
from reviews.services.schedule import episode_schedule_refresh
from reviews.services.transitions import ElementRow, treatment_transitions, treatment_transitions_described
from tests.support.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 4, 1)
ENTRY = date(2026, 1, 15)
CUT = "Methadone 60 mg → 20 mg on 3 Feb 2026"


@pytest.fixture
def opened(patient, alice, sam):
    return services.episode_open(
        patient=patient, entry_date=ENTRY, primary_drug="heroin", by=alice, lead_practitioner=sam
    )


def start_ost(episode, by, *, on=ENTRY, medicine=Medicine.METHADONE, mg="60"):
    return services.intervention_record(
        episode=episode,
        kind=InterventionKind.OST,
        medicine=medicine,
        daily_dose_mg=Decimal(mg),
        started_on=on,
        by=by,
    )


def change_dose(ost, by, *, on, medicine=Medicine.METHADONE, mg):
    services.intervention_end(intervention=ost, ended_on=on, by=by)
    return start_ost(ost.episode, by, on=on, medicine=medicine, mg=mg)


@pytest.fixture
def cut(opened, sam):
    """On methadone 60 mg from entry, cut to 20 mg on 3 Feb 2026."""
    change_dose(start_ost(opened, sam), sam, on=date(2026, 2, 3), mg="20")
    return opened


def complete_review(episode, lead, on, **more):
    review = StrategicReviewFactory(
        episode=episode,
        lead=lead,
        held_on=on,
        status=ReviewStatus.COMPLETED,
        completed_on=on,
        patient_took_part=True,
        **more,
    )
    episode_schedule_refresh(episode)
    return review


def record_page(client, episode) -> str:
    return client.get(episode.patient.get_absolute_url()).content.decode()


def notice(page: str) -> str:
    return page.split('data-testid="vigilance"')[1].split("</div>")[0]


def caseload_row(client, episode) -> str:
    page = client.get(reverse("patients:caseload")).content.decode()
    rows = page.split('<tr data-testid="caseload-row"')[1:]
    (row,) = [r for r in rows if episode.patient.get_absolute_url() in r]
    return row.split("</tr>")[0]


def pack_page(client, sam, episode) -> str:
    client.force_login(sam)
    client.post(
        reverse("reviews:review_new", args=[episode.pk]), {"lead": sam.pk, "held_on": TODAY.isoformat()}
    )
    review = StrategicReview.objects.get(episode=episode, status=ReviewStatus.DRAFT)
    return client.get(review.get_absolute_url()).content.decode()


# --- What changed, and when --------------------------------------------------------------------------------------


def row(kind, start, end=None, medicine="", mg=None):
    return ElementRow(kind, medicine, Decimal(mg) if mg else None, start, end)


def test_each_transition_says_what_changed_and_its_dates_are_the_schedules(opened):
    ost, detox = InterventionKind.OST, InterventionKind.DETOX
    rows = [
        row(ost, ENTRY, date(2026, 2, 3), "methadone", "60"),
        row(ost, date(2026, 2, 3), date(2026, 3, 1), "methadone", "20"),
        row(ost, date(2026, 3, 2), date(2026, 3, 20), "methadone", "40"),  # a rise: not a transition
        row(ost, date(2026, 3, 20), date(2026, 3, 25), "buprenorphine", "8"),
        row(detox, date(2026, 2, 1), date(2026, 2, 10)),
        row(InterventionKind.RESIDENTIAL, date(2026, 3, 26)),
    ]
    described = treatment_transitions_described(rows, opened)
    assert [(t.on, t.what) for t in described] == [
        (date(2026, 2, 1), "Detoxification started"),
        (date(2026, 2, 3), "Methadone 60 mg → 20 mg"),
        (date(2026, 2, 10), "Detoxification ended"),
        (date(2026, 3, 20), "Methadone 40 mg → Buprenorphine 8 mg"),
        (date(2026, 3, 25), "Buprenorphine 8 mg ended"),
        (date(2026, 3, 26), "Residential rehabilitation started"),
    ]  # OST starting on the entry date is the entry, not a transition
    assert treatment_transitions(rows, opened) == tuple(sorted({t.on for t in described}))


# --- The three pages ------------------------------------------------------------------------------------------


def test_the_patient_page_says_within_3_months_of_a_transition_with_what_changed_and_when(client, alice, cut):
    client.force_login(alice)
    shown = notice(record_page(client, cut))
    assert "<strong>Within 3 months of a transition</strong>" in shown
    assert f"<li>{CUT}</li>" in shown
    assert "App. C 2" in shown


def test_the_caseload_badges_the_row_with_what_changed_and_when(client, alice, cut, team):
    quiet = EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice), entry_date=ENTRY)
    episode_schedule_refresh(quiet)
    client.force_login(alice)
    row_ = caseload_row(client, cut)
    assert 'data-testid="vigilance-badge"' in row_ and ">Within 3 months of a transition</span>" in row_
    assert f'data-testid="vigilance-changes">{CUT}</div>' in row_
    opened = row_.split('data-testid="vigilance-badge"')[1].split("</details>")[0]  # on tap, not a tooltip
    assert f"Within 3 months of a transition: {CUT}. Be vigilant" in opened
    assert "vigilance" not in caseload_row(client, quiet)


def test_the_evidence_pack_says_it_since_the_last_review(client, sam, cut):
    page = pack_page(client, sam, cut)
    shown = page.split('data-testid="pack-vigilance"')[1].split("</div>")[0]
    assert "<strong>Within 3 months of a transition</strong> since the last review" in shown
    assert f"<li>{CUT}</li>" in shown
    assert evidence_pack(cut, as_of=TODAY).vigilance.changes == [CUT]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            lambda ost, by: services.intervention_end(intervention=ost, ended_on=date(2026, 2, 10), by=by),
            "Methadone 60 mg ended on 10 Feb 2026",
        ),
        (
            lambda ost, by: change_dose(
                ost, by, on=date(2026, 3, 1), medicine=Medicine.BUPRENORPHINE, mg="16"
            ),
            "Methadone 60 mg → Buprenorphine 16 mg on 1 Mar 2026",
        ),
    ],
    ids=["OST ended", "medicine changed"],
)
def test_ending_ost_or_changing_the_medicine_is_said_the_same_way(client, alice, sam, opened, change, said):
    change(start_ost(opened, sam), sam)
    client.force_login(alice)
    assert f"<li>{said}</li>" in notice(record_page(client, opened))
    assert f'data-testid="vigilance-changes">{said}</div>' in caseload_row(client, opened)


def test_detoxification_ended_is_said_with_its_date(client, alice, opened):
    detox = services.intervention_record(
        episode=opened, kind=InterventionKind.DETOX, started_on=ENTRY, by=alice
    )
    services.intervention_end(intervention=detox, ended_on=date(2026, 2, 10), by=alice)
    client.force_login(alice)
    assert "<li>Detoxification ended on 10 Feb 2026</li>" in notice(record_page(client, opened))


def test_raising_the_dose_is_no_transition_and_says_nothing(client, alice, sam, opened):
    change_dose(start_ost(opened, sam), sam, on=date(2026, 2, 3), mg="80")
    client.force_login(alice)
    assert 'data-testid="vigilance"' not in record_page(client, opened)
    assert "vigilance" not in caseload_row(client, opened)


# --- Until the strategic review that follows is completed -------------------------------------------------------


def test_gone_from_the_three_pages_once_the_review_that_follows_is_completed(client, alice, sam, cut):
    complete_review(cut, sam, date(2026, 3, 10))
    client.force_login(alice)
    assert 'data-testid="vigilance"' not in record_page(client, cut)
    assert "vigilance" not in caseload_row(client, cut)
    assert 'data-testid="pack-vigilance"' not in pack_page(client, sam, cut)
    assert evidence_pack(cut, as_of=TODAY).vigilance is None


def test_a_review_awaiting_the_patient_does_not_end_it(client, alice, sam, cut):
    """Rule 6 (§2.4): a review held without the patient is not complete; vigilance goes on."""
    StrategicReviewFactory(
        episode=cut, lead=sam, held_on=date(2026, 3, 10), status=ReviewStatus.AWAITING_PATIENT
    )
    client.force_login(alice)
    assert f"<li>{CUT}</li>" in notice(record_page(client, cut))


def test_a_transition_after_the_review_is_said_and_one_before_is_not(client, alice, sam, opened):
    ost = start_ost(opened, sam)
    complete_review(opened, sam, date(2026, 2, 20))
    services.intervention_end(intervention=ost, ended_on=date(2026, 3, 5), by=sam)
    client.force_login(alice)
    shown = notice(record_page(client, opened))
    assert "<li>Methadone 60 mg ended on 5 Mar 2026</li>" in shown and "→" not in shown


def test_a_transition_on_the_day_of_the_review_is_still_said_as_the_schedule_counts_it(
    client, alice, sam, cut
):
    complete_review(cut, sam, date(2026, 2, 3))  # the review that planned the cut
    client.force_login(alice)
    assert f"<li>{CUT}</li>" in notice(record_page(client, cut))


def test_the_evidence_pack_of_the_review_that_followed_still_shows_what_its_reviewers_saw(sam, cut):
    review = complete_review(cut, sam, date(2026, 3, 10))
    assert evidence_pack(cut, as_of=date(2026, 3, 10), review=review).vigilance.changes == [CUT]


def test_after_the_episode_ends_the_check_ups_follow_and_nothing_is_said(client, alice, cut):
    services.episode_exit(
        episode=cut,
        exit_date=date(2026, 3, 15),
        exit_reason="dropped_out",
        by=alice,
        exit_relapse_risk="high",
        exit_risk_of_death_discussed=True,
        exit_harm_reduction_discussed=True,
    )
    client.force_login(alice)
    assert 'data-testid="vigilance"' not in record_page(client, cut)


# --- Query counts -----------------------------------------------------------------------------------------------


def test_the_caseload_badges_every_row_with_one_query_for_the_page(
    client, alice, sam, team, django_assert_num_queries
):
    """The pin of tests/patients/test_views_caseload.py (13, with this read) holds however many rows say it."""

    def with_a_cut(count):
        for _ in range(count):
            episode = EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice), entry_date=ENTRY)
            change_dose(start_ost(episode, sam), sam, on=date(2026, 2, 3), mg="20")

    client.force_login(alice)
    with_a_cut(1)
    with django_assert_num_queries(13):
        page = client.get(reverse("patients:caseload")).content.decode()
    assert page.count('data-testid="vigilance-badge"') == 1
    with_a_cut(6)
    with django_assert_num_queries(13):
        page = client.get(reverse("patients:caseload")).content.decode()
    assert page.count('data-testid="vigilance-badge"') == 7


def test_the_patient_page_and_the_evidence_pack_say_it_with_no_query_more(
    client, alice, sam, opened, django_assert_num_queries
):
    """Both read the interventions and the reviews already: the notice costs them nothing. 20 and 9 are their
    counts for this record, without evidence (the 25 and 14 pinned in tests/patients/test_views_record.py and
    tests/reviews/test_evidence_pack.py are for fuller ones)."""
    client.force_login(alice)
    ost = start_ost(opened, sam)
    with django_assert_num_queries(20):
        assert 'data-testid="vigilance"' not in record_page(client, opened)
    with django_assert_num_queries(9):
        assert evidence_pack(opened, as_of=TODAY).vigilance is None
    change_dose(ost, sam, on=date(2026, 2, 3), mg="20")
    with django_assert_num_queries(20):
        assert f"<li>{CUT}</li>" in notice(record_page(client, opened))
    with django_assert_num_queries(9):
        assert evidence_pack(opened, as_of=TODAY).vigilance.changes == [CUT]
