"""Rule 3c (docs/design.md, rule 3c): a co-morbidity recorded without complex needs current prompts the keyworker to
consider complex needs (§1.6); it does not set them, and the schedule does not move until someone records them."""

from datetime import date

import pytest
from django.urls import reverse

from patients import services
from patients.models import Circumstance, TreatmentEpisode

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
TODAY = date(2026, 5, 1)
PROMPT = 'data-testid="consider-complex-needs"'


def record_page(client, episode) -> str:
    return client.get(reverse("patients:detail", args=[episode.patient_id])).content.decode()


@pytest.fixture
def with_co_morbidity(episode):
    TreatmentEpisode.objects.filter(pk=episode.pk).update(co_morbidities="Hepatitis C; depression")
    episode.refresh_from_db()
    return episode


def test_a_co_morbidity_without_complex_needs_prompts_to_consider_them(client, alice, with_co_morbidity):
    client.force_login(alice)
    page = record_page(client, with_co_morbidity)
    assert PROMPT in page
    assert "Co-morbidities are recorded: Hepatitis C; depression. Do they make the needs complex?" in page
    link = reverse("patients:circumstance_new", args=[with_co_morbidity.pk]) + "?code=complex_needs"
    assert link in page
    form = client.get(link).content.decode()
    assert '<option value="complex_needs" selected>' in form


def test_the_prompt_does_not_set_complex_needs_or_move_the_review(client, alice, with_co_morbidity):
    before = TreatmentEpisode.objects.values_list("next_review_target", "next_review_deadline").get(
        pk=with_co_morbidity.pk
    )
    client.force_login(alice)
    record_page(client, with_co_morbidity)
    assert not with_co_morbidity.circumstances.exists()
    after = TreatmentEpisode.objects.values_list("next_review_target", "next_review_deadline").get(
        pk=with_co_morbidity.pk
    )
    assert after == before


def test_no_prompt_once_complex_needs_are_current(client, alice, with_co_morbidity):
    services.circumstance_record(
        episode=with_co_morbidity, code=Circumstance.COMPLEX_NEEDS, started_on=date(2026, 4, 1), by=alice
    )
    client.force_login(alice)
    assert PROMPT not in record_page(client, with_co_morbidity)


def test_no_prompt_without_a_co_morbidity(client, alice, episode):
    client.force_login(alice)
    assert PROMPT not in record_page(client, episode)
