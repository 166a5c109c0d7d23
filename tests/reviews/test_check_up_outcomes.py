"""Check-ups that lead somewhere (§1.7 "rapid access back into treatment at early signs of relapse risk";
docs/design.md rule 7c): an attempt that could not reach the patient is kept and the check-up stays owed; early
signs of relapse bring the next check-up within 14 days and offer a new episode; rapid access back into treatment
opens the new episode with the check-up, in one transaction; and once the patient is back in treatment the
earlier episode owes nothing more. Recorded through the services and the pages, read back from the stored
schedule.

These run on whichever database DATABASE_URL names; CI runs them on PostgreSQL."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients import services
from patients.models import ExitReason, TreatmentEpisode
from reviews.models import CheckUpOutcome, RecoveryCheckUp
from reviews.services import strategic
from reviews.services.schedule import (
    back_in_treatment_reason,
    episode_schedule_refresh,
    episodes_schedule_recompute,
)
from tests.support.factories import EpisodeFactory, PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 6, 1)
ENTRY = date(2026, 1, 15)
EXIT = date(2026, 3, 1)
FIRST_CHECK_UP = ("recovery_check_up", date(2026, 3, 15), date(2026, 3, 29))  # exit + 14 days (rule 7)
SECOND_CHECK_UP = ("recovery_check_up", date(2026, 6, 1), date(2026, 6, 15))  # exit + 3 months


def stored(episode):
    episode = TreatmentEpisode.objects.get(pk=episode.pk)
    return episode.next_review_kind, episode.next_review_target, episode.next_review_deadline


def reasons(episode):
    return TreatmentEpisode.objects.get(pk=episode.pk).next_review_reasons


def end(episode, exit_date=EXIT, reason=ExitReason.COMPLETED_DRUG_FREE):
    """The episode's exit, set directly: how the exit is recorded is the exit page's business."""
    episode.exit_date, episode.exit_reason = exit_date, reason
    episode.save()
    episode_schedule_refresh(episode)
    return episode


@pytest.fixture
def ended(patient, sam):
    return end(EpisodeFactory(patient=patient, lead_practitioner=sam, entry_date=ENTRY))


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def check_up(episode, by, held_on, outcome, **extra):
    return strategic.check_up_record(episode=episode, held_on=held_on, outcome=outcome, by=by, **extra)


def page(client, episode):
    return client.get(reverse("patients:detail", args=[episode.patient_id]) + f"?episode={episode.pk}")


# --- Could not be reached: an attempt, kept; the check-up stays owed ----------------------------------------------


def test_a_check_up_that_could_not_reach_the_patient_is_an_attempt_and_the_check_up_stays_owed(ended, alice):
    assert stored(ended) == FIRST_CHECK_UP
    before = reasons(ended)
    first = check_up(
        ended, alice, date(2026, 3, 15), CheckUpOutcome.NOT_REACHED, notes="Two calls, no answer."
    )
    second = check_up(ended, alice, date(2026, 3, 18), CheckUpOutcome.NOT_REACHED)
    assert (first.sequence, second.sequence) == (1, 1)  # several attempts at one check-up
    assert first.is_attempt and second.is_attempt
    assert stored(ended) == FIRST_CHECK_UP and reasons(ended) == before  # the schedule is unchanged
    assert strategic.next_check_up_sequence(ended) == 1
    assert RecoveryCheckUp.objects.filter(episode=ended).count() == 2  # both attempts kept


def test_the_record_shows_attempts_as_attempts_under_the_check_up_still_owed(logged_in, ended, alice):
    check_up(ended, alice, date(2026, 3, 15), CheckUpOutcome.NOT_REACHED, notes="Two calls, no answer.")
    html = page(logged_in, ended).content.decode()
    assert "Check-up 1: tried to reach them on 15 Mar 2026: could not be reached." in html
    assert "Tried to reach them on 15 Mar 2026: could not be reached" in html  # the timeline
    assert "Recovery check-up 1: not yet held. Two calls, no answer." in html
    form = logged_in.get(reverse("reviews:check_up_new", args=[ended.pk])).content.decode()
    assert "Check-up 1 of 4 after treatment ended on 1 Mar 2026" in form
    assert "Tried to reach them on 15 Mar 2026: could not be reached (Two calls, no answer.)." in form


def test_the_view_says_an_attempt_leaves_the_check_up_owed(logged_in, ended):
    response = logged_in.post(
        reverse("reviews:check_up_new", args=[ended.pk]),
        {"held_on": "2026-03-15", "outcome": CheckUpOutcome.NOT_REACHED, "notes": ""},
        follow=True,
    )
    assert (
        "Attempt recorded: Pat Example could not be reached on 15 Mar 2026. Recovery check-up 1 is still owed: "
        "target 15 Mar 2026, no later than 29 Mar 2026 (§1.7)." in response.content.decode()
    )
    assert stored(ended) == FIRST_CHECK_UP


def test_a_later_held_check_up_of_the_same_number_closes_it(logged_in, ended, alice):
    check_up(ended, alice, date(2026, 3, 15), CheckUpOutcome.NOT_REACHED)
    held = check_up(ended, alice, date(2026, 3, 20), CheckUpOutcome.STABLE)
    assert held.sequence == 1 and not held.is_attempt
    assert stored(ended) == SECOND_CHECK_UP
    assert strategic.next_check_up_sequence(ended) == 2
    assert "Recovery check-up 1: held on 20 Mar 2026." in page(logged_in, ended).content.decode()
    later_attempt = check_up(ended, alice, date(2026, 5, 30), CheckUpOutcome.NOT_REACHED)
    assert later_attempt.sequence == 2  # the next check-up not yet held
    assert stored(ended) == SECOND_CHECK_UP


def test_a_check_up_once_held_is_held_once(ended, alice):
    check_up(ended, alice, date(2026, 3, 20), CheckUpOutcome.STABLE)
    with pytest.raises(ValidationError, match="already been held"):
        check_up(ended, alice, date(2026, 3, 25), CheckUpOutcome.NOT_REACHED, sequence=1)
    duplicate = RecoveryCheckUp(
        episode=ended, sequence=1, held_on=date(2026, 3, 25), held_by=alice, outcome=CheckUpOutcome.STABLE
    )
    with pytest.raises(ValidationError, match="already exists"):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    attempt = RecoveryCheckUp(
        episode=ended,
        sequence=1,
        held_on=date(2026, 3, 25),
        held_by=alice,
        outcome=CheckUpOutcome.NOT_REACHED,
    )
    attempt.full_clean()  # attempts are not unique: the database keeps them all
    attempt.save()


# --- Early signs of relapse: the next check-up within 14 days, and a new episode offered -----------------------------


def test_early_signs_of_relapse_bring_the_next_check_up_within_14_days_and_offer_a_new_episode(
    logged_in, ended
):
    response = logged_in.post(
        reverse("reviews:check_up_new", args=[ended.pk]),
        {
            "held_on": "2026-03-20",
            "outcome": CheckUpOutcome.RELAPSE_RISK,
            "notes": "Using again at weekends.",
        },
        follow=True,
    )
    assert stored(ended) == ("recovery_check_up", date(2026, 4, 3), date(2026, 4, 3))  # 20 Mar + 14 days
    html = response.content.decode()
    open_url = reverse("patients:episode_open", args=[ended.patient_id])
    assert (
        "Recovery check-up 1 recorded: early signs of relapse. The next check-up is now due within 14 days: "
        "target 3 Apr 2026, no later than 3 Apr 2026 (§1.7)." in html
    )
    assert f'Offer rapid access back into treatment: <a class="alert-link" href="{open_url}">' in html
    assert (
        'data-testid="relapse-offer"' in html and f'href="{open_url}" data-testid="open-new-episode"' in html
    )
    form = logged_in.get(reverse("reviews:check_up_new", args=[ended.pk])).content.decode()
    assert "found <strong>early signs of relapse</strong>" in form
    assert "The next check-up is due within 14 days, by <strong>3 Apr 2026</strong>" in form
    assert f'href="{open_url}" data-testid="open-new-episode"' in form


def test_early_signs_of_relapse_at_the_last_check_up_still_offer_a_new_episode(logged_in, ended, alice):
    for sequence, held_on in enumerate([date(2026, 3, 15), date(2026, 4, 1), date(2026, 4, 20)], start=1):
        check_up(ended, alice, held_on, CheckUpOutcome.STABLE, sequence=sequence)
    check_up(ended, alice, date(2026, 5, 20), CheckUpOutcome.RELAPSE_RISK)
    assert stored(ended) == ("", None, None)  # the text names no fifth check-up (H-016, open)
    html = page(logged_in, ended).content.decode()
    assert 'data-testid="relapse-offer"' in html
    assert reverse("patients:episode_open", args=[ended.patient_id]) in html


# --- Rapid access back into treatment: the new episode, with the check-up, in one transaction ----------------------


def test_rapid_access_back_into_treatment_opens_the_new_episode_with_the_check_up(logged_in, ended, sam):
    response = logged_in.post(
        reverse("reviews:check_up_new", args=[ended.pk]),
        {
            "held_on": "2026-03-20",
            "outcome": CheckUpOutcome.RETURNED_TO_TREATMENT,
            "notes": "",
            "new_episode_entry_date": "",  # the day of the check-up
            "new_episode_primary_drug": "heroin",
            "new_episode_other_substances": ["crack"],
            "new_episode_co_morbidities": "",
            "new_episode_lead_practitioner": sam.pk,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("patients:detail", args=[ended.patient_id])
    back = TreatmentEpisode.objects.get(patient=ended.patient, exit_date__isnull=True)
    assert (back.entry_date, back.primary_drug, back.other_substances) == (
        date(2026, 3, 20),
        "heroin",
        ["crack"],
    )
    assert back.lead_practitioner == sam
    assert stored(back) == ("strategic_review", date(2026, 6, 20), date(2026, 9, 20))  # rule 1 (§1.3)
    held = RecoveryCheckUp.objects.get(episode=ended)
    assert (held.sequence, held.outcome) == (1, CheckUpOutcome.RETURNED_TO_TREATMENT)
    assert stored(ended) == ("", None, None)
    assert reasons(ended) == [back_in_treatment_reason(date(2026, 3, 20))]
    html = response.content.decode()
    assert (
        "Pat Example is in treatment again from 20 Mar 2026: first strategic review target 20 Jun 2026"
        in html
    )
    assert "The check-ups after the episode that ended on 1 Mar 2026 stop (§1.7)." in html


def test_the_new_episode_entry_date_may_be_given(ended, alice):
    check_up(
        ended,
        alice,
        date(2026, 3, 20),
        CheckUpOutcome.RETURNED_TO_TREATMENT,
        new_episode={"entry_date": date(2026, 3, 23), "primary_drug": "heroin"},
    )
    assert TreatmentEpisode.objects.get(patient=ended.patient, exit_date__isnull=True).entry_date == date(
        2026, 3, 23
    )


@pytest.mark.parametrize(
    ("new_episode", "field", "message"),
    [
        (
            {"entry_date": date(2026, 2, 1), "primary_drug": "heroin"},
            "new_episode_entry_date",
            "before the last",
        ),
        ({"primary_drug": "not-a-drug"}, "new_episode_primary_drug", "not a valid choice"),
    ],
)
def test_if_the_new_episode_is_refused_nothing_is_saved_not_even_the_check_up(
    ended, alice, new_episode, field, message
):
    before = stored(ended), reasons(ended)
    with pytest.raises(ValidationError) as error:
        check_up(
            ended, alice, date(2026, 3, 20), CheckUpOutcome.RETURNED_TO_TREATMENT, new_episode=new_episode
        )
    assert message in " ".join(error.value.message_dict[field])
    assert not RecoveryCheckUp.objects.exists()
    assert not TreatmentEpisode.objects.filter(exit_date__isnull=True).exists()
    assert (stored(ended), reasons(ended)) == before
    assert not LogEntry.objects.filter(content_type__model="recoverycheckup").exists()


def test_a_new_episode_is_not_opened_beside_an_open_one(ended, alice, patient):
    EpisodeFactory(patient=patient, entry_date=date(2026, 3, 10))
    with pytest.raises(ValidationError, match="already has an open treatment episode"):
        check_up(
            ended,
            alice,
            date(2026, 3, 20),
            CheckUpOutcome.RETURNED_TO_TREATMENT,
            new_episode={"primary_drug": "heroin"},
        )
    assert not RecoveryCheckUp.objects.exists()


def test_the_form_refuses_rapid_access_without_the_new_episode_and_saves_nothing(logged_in, ended):
    response = logged_in.post(
        reverse("reviews:check_up_new", args=[ended.pk]),
        {
            "held_on": "2026-03-20",
            "outcome": CheckUpOutcome.RETURNED_TO_TREATMENT,
            "new_episode_primary_drug": "",
        },
    )
    assert response.status_code == 200
    assert "Give the new episode&#x27;s primary problem drug." in response.content.decode()
    assert not RecoveryCheckUp.objects.exists()
    assert TreatmentEpisode.objects.count() == 1


def test_the_new_episode_fields_are_left_alone_for_any_other_outcome(logged_in, ended):
    logged_in.post(
        reverse("reviews:check_up_new", args=[ended.pk]),
        {
            "held_on": "2026-03-20",
            "outcome": CheckUpOutcome.STABLE,
            "new_episode_entry_date": "not a date",
            "new_episode_primary_drug": "heroin",
        },
    )
    assert RecoveryCheckUp.objects.get().outcome == CheckUpOutcome.STABLE
    assert TreatmentEpisode.objects.count() == 1


def test_the_service_says_rapid_access_opens_a_new_episode(ended, alice):
    with pytest.raises(ValidationError, match="opens a new treatment episode"):
        check_up(ended, alice, date(2026, 3, 20), CheckUpOutcome.RETURNED_TO_TREATMENT)
    with pytest.raises(ValidationError, match="only when rapid access"):
        check_up(
            ended, alice, date(2026, 3, 20), CheckUpOutcome.STABLE, new_episode={"primary_drug": "heroin"}
        )
    assert not RecoveryCheckUp.objects.exists()


# --- Back in treatment: the earlier episode owes nothing more --------------------------------------------------------


def test_once_the_patient_is_back_in_treatment_the_earlier_episode_owes_nothing(ended, alice, patient):
    assert stored(ended) == FIRST_CHECK_UP
    back = services.episode_open(
        patient=patient, entry_date=date(2026, 4, 2), primary_drug="heroin", by=alice
    )
    assert stored(ended) == ("", None, None)  # refreshed by episode_open, in its transaction
    assert reasons(ended) == [
        "The patient is back in treatment from 2 Apr 2026 (a later episode): the recovery check-ups of this episode "
        "stop, and the later episode's own reviews follow (§1.7)."
    ]
    assert stored(back)[0] == "strategic_review"
    assert episodes_schedule_recompute(today=TODAY).changed == 0  # the nightly recompute agrees
    end(back, exit_date=date(2026, 5, 1), reason=ExitReason.DROPPED_OUT)
    episode_schedule_refresh(ended)
    assert stored(ended) == ("", None, None)  # "nothing more", even after the later episode ends
    assert stored(back) == ("recovery_check_up", date(2026, 5, 15), date(2026, 5, 29))  # its own check-ups


def test_the_earlier_episode_page_says_why_nothing_is_owed(logged_in, ended, alice, patient):
    services.episode_open(patient=patient, entry_date=date(2026, 4, 2), primary_drug="heroin", by=alice)
    html = page(logged_in, ended).content.decode()
    assert "The patient is back in treatment from 2 Apr 2026 (a later episode)" in html
    assert "every recovery check-up has been held" not in html


def test_only_an_episode_begun_after_the_exit_counts_as_back_in_treatment(patient, alice):
    """Only an episode begun on or after this one's exit counts as later."""
    before = end(EpisodeFactory(patient=patient, entry_date=date(2025, 1, 10)), exit_date=date(2025, 6, 1))
    services.episode_open(patient=patient, entry_date=date(2026, 1, 15), primary_drug="heroin", by=alice)
    assert reasons(before) == [back_in_treatment_reason(date(2026, 1, 15))]
    latest = TreatmentEpisode.objects.get(exit_date__isnull=True)
    end(latest, exit_date=date(2026, 3, 1))
    assert stored(latest) == FIRST_CHECK_UP  # nothing later than the latest: its check-ups are owed


WRITES = ("UPDATE", "INSERT", "SAVEPOINT", "RELEASE")


def _recompute_queries(count, team, alice, *, back_in_treatment=True):
    """`count` more patients, each with an open episode and, when back_in_treatment, an ended episode before it
    (an attempt, then a held check-up that found early signs of relapse); every stored schedule cleared so that the
    recompute reads and writes them all. Returns (reads, all queries) of the recompute."""
    for i in range(count):
        patient = PatientFactory(team=team, keyworker=alice)
        if back_in_treatment:
            earlier = end(
                EpisodeFactory(patient=patient, entry_date=date(2025, 1, 1 + i % 28)), date(2025, 6, 1)
            )
            for held_on, outcome in ((date(2025, 6, 14), "not_reached"), (date(2025, 6, 20), "relapse_risk")):
                RecoveryCheckUp.objects.create(
                    episode=earlier, sequence=1, held_on=held_on, held_by=alice, outcome=outcome
                )
        EpisodeFactory(patient=patient, entry_date=date(2025, 7, 1 + i % 28))
    TreatmentEpisode.objects.update(
        next_review_target=None,
        next_review_deadline=None,
        next_review_kind="",
        next_review_reasons=[],
        schedule_computed_at=None,
    )
    with CaptureQueriesContext(connection) as queries:
        result = episodes_schedule_recompute(today=TODAY)
    assert result.changed == TreatmentEpisode.objects.count()
    assert not TreatmentEpisode.objects.filter(
        exit_date__isnull=False, next_review_target__isnull=False
    ).exists()
    reads = [q for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith(WRITES)]
    return len(reads), len(queries)


def test_the_recompute_reads_with_the_same_number_of_queries_with_patients_back_in_treatment(team, alice):
    open_only_reads, _ = _recompute_queries(3, team, alice, back_in_treatment=False)
    few_reads, few = _recompute_queries(2, team, alice)
    many_reads, many = _recompute_queries(7, team, alice)
    assert few_reads == many_reads == open_only_reads + 1  # one query over all episodes: the later episodes
    if connection.vendor == "postgresql":  # SQLite writes the changed rows one by one
        assert many == few


def test_the_audit_log_records_the_check_up_and_the_attempt(ended, alice):
    attempt = check_up(ended, alice, date(2026, 3, 15), CheckUpOutcome.NOT_REACHED)
    held = check_up(ended, alice, date(2026, 3, 20), CheckUpOutcome.RELAPSE_RISK)
    for row in (attempt, held):
        logged = LogEntry.objects.get_for_object(row).get(action=LogEntry.Action.CREATE)
        assert logged.additional_data["patient_id"] == ended.patient_id
        assert logged.changes_dict["outcome"][1] == row.outcome


def test_check_up_standing_reads_the_owed_check_up_its_attempts_and_relapse(ended, alice):
    check_up(ended, alice, date(2026, 3, 15), CheckUpOutcome.RELAPSE_RISK)
    check_up(ended, alice, date(2026, 3, 25), CheckUpOutcome.NOT_REACHED)
    check_up(ended, alice, date(2026, 3, 27), CheckUpOutcome.NOT_REACHED)
    standing = strategic.check_up_standing(ended.check_ups.all())
    assert standing.owed == 2
    assert [a.held_on for a in standing.attempts] == [date(2026, 3, 25), date(2026, 3, 27)]
    assert standing.relapse.held_on == date(2026, 3, 15)  # an attempt since does not hide it
    assert stored(ended) == ("recovery_check_up", date(2026, 3, 29), date(2026, 3, 29))
