"""The family of the job's first step: the recommendation engine and the profiling code,
set up once per worker process (a recommendation family of its own, with its caches and
trained models; the writing step is the generation family's, worker/generation/family.py)."""

from __future__ import annotations

from shared.settings import Settings
from worker.contract import Handler, bind
from worker.models.registry import ModelRegistry
from worker.personalised.ranking import RankingModels, rank_for_shopper
from worker.profiling.handler import ProfilingModels
from worker.profiling.interests import TaxonomyCache
from worker.recommendation.family import RecommendationFamily


class PersonalisedRankingFamily:
    name = "personalised_ranking"
    needs = ("embedding",)

    def __init__(self) -> None:
        self._models: RankingModels | None = None
        self._recommendation = RecommendationFamily()

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        embedder = models.require_embedder()
        taxonomies = TaxonomyCache(embedder)
        taxonomies.get(None)  # the default taxonomy is embedded here, not in the first job
        self._recommendation.setup(settings, device, models)
        self._models = RankingModels(
            recommendation=self._recommendation.models,
            profiling=ProfilingModels(embedder=embedder, taxonomies=taxonomies))

    def handler(self, job_type: str) -> Handler:
        return bind(rank_for_shopper, self._models)
