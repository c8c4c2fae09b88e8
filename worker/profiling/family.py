"""The profiling family: `user_profile` jobs, with all-MiniLM-L6-v2 and the taxonomies it
embeds, set up once per worker process."""

from __future__ import annotations

from shared.settings import Settings
from worker.contract import Handler, bind
from worker.models.registry import ModelRegistry
from worker.profiling.handler import ProfilingModels, profile_user
from worker.profiling.interests import TaxonomyCache


class ProfilingFamily:
    name = "profiling"
    needs = ("embedding",)

    def __init__(self) -> None:
        self._models: ProfilingModels | None = None

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        embedder = models.require_embedder()
        taxonomies = TaxonomyCache(embedder)
        taxonomies.get(None)  # embeds the default taxonomy here, not in the first job
        self._models = ProfilingModels(embedder=embedder, taxonomies=taxonomies)

    def handler(self, job_type: str) -> Handler:
        return bind(profile_user, self._models)
