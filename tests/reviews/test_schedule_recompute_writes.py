"""What the nightly recompute writes (reviews.services.schedule.episodes_schedule_recompute with
reviews.services.schedule_writes): only what changed, and on PostgreSQL in statements counted like any other."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import TreatmentEpisode
from reviews.models import OwedItem, ReviewStatus
from reviews.services.schedule import episodes_schedule_recompute
from tests.support.factories import EpisodeFactory, PatientFactory, StrategicReviewFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 6, 1)


@pytest.fixture
def episodes(team, alice, sam):
    made = [
        EpisodeFactory(patient=PatientFactory(team=team, keyworker=alice), entry_date=date(2025, 6, d))
        for d in (2, 3, 4)
    ]
    for episode in made:
        StrategicReviewFactory(
            episode=episode,
            lead=sam,
            held_on=date(2025, 9, 1),
            status=ReviewStatus.COMPLETED,
            patient_took_part=True,
            completed_on=date(2025, 9, 1),
        )
    episodes_schedule_recompute(today=TODAY)
    return made


def test_an_episode_whose_columns_alone_changed_keeps_its_item_rows(episodes):
    items = sorted(OwedItem.objects.values_list("pk", "episode_id", "kind", "target"))
    TreatmentEpisode.objects.filter(pk=episodes[0].pk).update(first_review_completed_on=None)
    result = episodes_schedule_recompute(today=TODAY)
    assert result.changed == 1
    assert TreatmentEpisode.objects.get(pk=episodes[0].pk).first_review_completed_on == date(2025, 9, 1)
    assert (
        sorted(OwedItem.objects.values_list("pk", "episode_id", "kind", "target")) == items
    )  # not rewritten


def test_an_episode_whose_items_changed_has_them_replaced(episodes):
    OwedItem.objects.filter(episode=episodes[1]).update(target=date(2030, 1, 1), deadline=date(2030, 1, 1))
    result = episodes_schedule_recompute(today=TODAY)
    assert result.changed == 1
    assert (
        OwedItem.objects.get(episode=episodes[1]).target
        == TreatmentEpisode.objects.get(pk=episodes[1].pk).next_review_target
    )


@pytest.mark.postgres
def test_the_bulk_writes_are_logged_and_counted_like_any_query(episodes):
    TreatmentEpisode.objects.update(next_review_target=None, next_review_deadline=None, next_review_kind="")
    OwedItem.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        assert episodes_schedule_recompute(today=TODAY).changed == 3
    statements = [q["sql"].split()[0:3] for q in queries.captured_queries]
    assert ["UPDATE", "patients_treatmentepisode", "AS"] in statements
    assert ["INSERT", "INTO", "reviews_oweditem"] in statements
    assert OwedItem.objects.count() == 3
