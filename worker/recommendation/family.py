"""The recommendation family: `recommendation` jobs, with all-MiniLM-L6-v2, an encoder that
batches concurrent jobs' texts, and per-catalog caches, all owned by one instance per worker
process."""

from __future__ import annotations

from shared.settings import Settings
from worker.contract import Handler, bind
from worker.models.registry import ModelRegistry
from worker.recommendation.cooccurrence import CooccurrenceCache
from worker.recommendation.handler import RecommendationModels, recommend
from worker.recommendation.index import IndexCache


class RecommendationFamily:
    name = "recommendation"
    needs = ("embedding",)

    def __init__(self) -> None:
        self._models: RecommendationModels | None = None

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        self._models = RecommendationModels(
            embedder=models.require_embedder(), encoder=models.require_shared_encoder(),
            indexes=IndexCache(), cooccurrence=CooccurrenceCache())

    def handler(self, job_type: str) -> Handler:
        return bind(recommend, self._models)
