"""An episode carries its patient's team and keyworker (TreatmentEpisode.team, migration patients 0004) so that
scoping and the dashboards read one table. Access depends on them: they must follow the patient's by every path,
on SQLite and PostgreSQL alike, and an episode saved from a stale copy must not write an old team back."""

from datetime import date

import pytest
from django.db import connection
from django.db.models import F

from patients.access import episodes_for_user
from patients.models import Patient, TreatmentEpisode
from recovery_reviews.access import scoped
from recovery_reviews.models import Role
from reviews.models import StrategicReview
from tests.support.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory, UserFactory


def stored(episode) -> tuple[int, int]:
    return tuple(TreatmentEpisode.objects.filter(pk=episode.pk).values_list("team_id", "keyworker_id").get())


def test_a_new_episode_takes_its_patients_team_and_keyworker(episode, team, alice):
    assert stored(episode) == (team.pk, alice.pk)
    assert (episode.team_id, episode.keyworker_id) == (team.pk, alice.pk)


def test_episodes_inserted_in_bulk_are_filled_by_the_database(patient, team, alice):
    (episode,) = TreatmentEpisode.objects.bulk_create(
        [TreatmentEpisode(patient_id=patient.pk, entry_date=date(2026, 1, 5), primary_drug="heroin")]
    )
    assert stored(episode) == (team.pk, alice.pk)


def test_episodes_follow_a_patient_moved_to_another_team_by_save(patient, episode, other_team, olga):
    closed = EpisodeFactory(
        patient=patient, entry_date=date(2024, 1, 1), exit_date=date(2024, 6, 1), exit_reason="other"
    )
    patient.team, patient.keyworker = other_team, olga
    patient.save()
    assert stored(episode) == (other_team.pk, olga.pk)
    assert stored(closed) == (other_team.pk, olga.pk)


def test_episodes_follow_a_bulk_update_of_patients(patient, episode, team, sam):
    new_keyworker = UserFactory(username="kim", role=Role.KEYWORKER, team=team)
    Patient.objects.filter(pk=patient.pk).update(keyworker=new_keyworker)
    assert stored(episode) == (team.pk, new_keyworker.pk)


def test_a_stale_episode_saved_after_a_move_keeps_the_new_team(patient, episode, other_team, olga):
    stale = TreatmentEpisode.objects.get(pk=episode.pk)  # loaded before the move, patient not cached
    Patient.objects.filter(pk=patient.pk).update(team=other_team, keyworker=olga)
    stale.co_morbidities = "Asthma"
    stale.save()
    assert stored(episode) == (other_team.pk, olga.pk)
    assert TreatmentEpisode.objects.get(pk=episode.pk).co_morbidities == "Asthma"


def test_an_episode_cannot_be_given_another_team_by_hand(episode, other_team, team):
    TreatmentEpisode.objects.filter(pk=episode.pk).update(team=other_team)
    assert stored(episode)[0] == team.pk


def test_access_follows_the_patient_when_they_move_team(patient, episode, alice, olga, other_team, team):
    """The keyworker of the new team sees the episode and its reviews; the old team no longer does."""
    review = StrategicReviewFactory(episode=episode)
    former_colleague = UserFactory(username="kit", role=Role.KEYWORKER, team=team)
    assert episodes_for_user(former_colleague).filter(pk=episode.pk).exists()
    assert not episodes_for_user(olga).filter(pk=episode.pk).exists()

    patient.team, patient.keyworker = other_team, olga
    patient.save()

    assert episodes_for_user(olga).filter(pk=episode.pk).exists()
    assert scoped(StrategicReview.objects.all(), olga).filter(pk=review.pk).exists()
    assert not episodes_for_user(former_colleague).filter(pk=episode.pk).exists()
    assert not scoped(StrategicReview.objects.all(), former_colleague).filter(pk=review.pk).exists()
    assert not episodes_for_user(alice).filter(pk=episode.pk).exists()


def test_every_episode_agrees_with_its_patient_after_many_changes(team, other_team, alice, olga):
    patients = [PatientFactory(team=team, keyworker=alice) for _ in range(6)]
    for p in patients:
        EpisodeFactory(patient=p)
    Patient.objects.filter(pk__in=[p.pk for p in patients[::2]]).update(team=other_team, keyworker=olga)
    disagreeing = TreatmentEpisode.objects.exclude(team_id=F("patient__team_id")) | (
        TreatmentEpisode.objects.exclude(keyworker_id=F("patient__keyworker_id"))
    )
    assert not disagreeing.exists()
    assert TreatmentEpisode.objects.filter(team=other_team).count() == 3


@pytest.mark.parametrize("name", ["episode_care_team", "patient_care_team"])
def test_the_triggers_exist(db, name):
    """SQLite rebuilds a table for many schema changes and drops its triggers with it: a later migration that
    rebuilds patients_patient or patients_treatmentepisode must create these again, and this test says so."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    assert any(n.startswith(name) for n in names), names
