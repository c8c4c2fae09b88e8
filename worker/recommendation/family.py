"""The recommendation family: `recommendation` jobs, with all-MiniLM-L6-v2, an encoder that
batches concurrent jobs' texts, and per-catalog caches (matrices, co-occurrence, trained
sequential models), all owned by one instance per worker process. The training family runs
`train_recommender` on its own lane."""

from __future__ import annotations

import logging

from shared.db import Database
from shared.settings import Settings
from worker.contract import Handler, bind
from worker.models.registry import ModelRegistry
from worker.recommendation.cooccurrence import CooccurrenceCache
from worker.recommendation.handler import RecommendationModels, recommend
from worker.recommendation.index import IndexCache
from worker.recommendation.sequential_cache import SequentialCache

log = logging.getLogger("vitrine.recommendation")


class RecommendationFamily:
    name = "recommendation"
    needs = ("embedding",)

    def __init__(self) -> None:
        self._models: RecommendationModels | None = None

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        self._models = RecommendationModels(
            embedder=models.require_embedder(), encoder=models.require_shared_encoder(),
            indexes=IndexCache(), cooccurrence=CooccurrenceCache(),
            sequential=SequentialCache())
        db = Database(settings.database_url)
        try:  # the newest trained models now, so that no job pays for loading them
            loaded = self._models.sequential.preload(db, self._models.indexes,
                                                     settings.ann_min_items)
            log.info("event=recommenders_preloaded catalogs=%d", loaded)
        except Exception:  # a job loads its catalog's model itself if this failed
            log.exception("event=recommenders_not_preloaded")
        finally:
            db.dispose()

    @property
    def models(self) -> RecommendationModels:
        """What recommend uses (other families that rank, e.g. personalised, share it)."""
        if self._models is None:
            raise RuntimeError("the recommendation family is not set up")
        return self._models

    def handler(self, job_type: str) -> Handler:
        return bind(recommend, self._models)


class TrainingFamily:
    """`train_recommender`: no shared model to load; torch threads as the worker says."""

    name = "training"
    needs: tuple[str, ...] = ()

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        import torch

        if settings.torch_threads > 0:
            torch.set_num_threads(settings.torch_threads)

    def handler(self, job_type: str) -> Handler:
        from worker.recommendation.train_job import train_recommender

        return bind(train_recommender, None)
