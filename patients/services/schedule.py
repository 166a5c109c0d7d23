"""Where a write to the clinical record calls the layer above it: the episode's stored next review is refreshed in
the same transaction as the change that is one of its inputs (docs/conventions.md 2), so that no list or reminder ever
reads a schedule that disagrees with the record. The import-linter contract (pyproject.toml) names this exception to
the one-way layers; no other module of patients imports reviews' services."""

from patients.models import TreatmentEpisode
from reviews.services.schedule import episode_schedule_refresh


def schedule_refresh(episode: TreatmentEpisode) -> None:
    episode_schedule_refresh(episode)
