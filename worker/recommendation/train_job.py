"""The `train_recommender` job: a catalog's sequential model, trained from its events on
the `training` lane, validated on held-out last items, versioned and stored."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import func, select

from shared.catalogs import find_catalog
from shared.models import CatalogEvent
from shared.recommenders import job_is_running, store_model
from shared.schemas.catalogs import TrainRecommenderInput
from worker.contract import InvalidJobInput, JobCanceled, JobContext, Outcome, parse_input
from worker.recommendation import training
from worker.recommendation.cooccurrence import read_sequences
from worker.recommendation.index import load_index
from worker.recommendation.retrain import EVENTS_KEY
from worker.recommendation.sequential import SequentialConfig

log = logging.getLogger("vitrine.training")

CANCEL_CHECK_S = 1.0
# Validation, blend choice and storing come after the budget; keep time for them.
AFTER_TRAINING_SHARE = 0.2
MIN_SHOPPERS = 3


class _Progress:
    """Reports training progress and stops training soon after the job is canceled."""

    def __init__(self, context: JobContext, phase: str) -> None:
        self.context, self.phase = context, phase
        self._checked = time.monotonic()

    def __call__(self, progress: dict[str, Any]) -> None:
        self.context.report_progress({"phase": self.phase, **progress})
        if time.monotonic() - self._checked >= CANCEL_CHECK_S:
            self._checked = time.monotonic()
            with self.context.db.session() as session:
                if not job_is_running(session, self.context.job_id):
                    raise training.Canceled()


def train_recommender(job_input: dict[str, Any], _models: None, context: JobContext) -> Outcome:
    request = parse_input(TrainRecommenderInput, job_input)
    with context.db.session() as session:
        catalog = find_catalog(session, context.tenant_id, request.catalog_id)
        catalog_id = catalog.id if catalog else None
    if catalog_id is None:
        raise InvalidJobInput(f"catalog {request.catalog_id!r} no longer exists")
    with context.db.session() as session:  # counted first: later events are not in it
        events = session.scalar(select(func.count()).where(
            CatalogEvent.catalog_id == catalog_id))
    index = load_index(context.db, catalog_id, ann_min_items=2**62)  # exact scoring only
    sequences = list(read_sequences(context.db, catalog_id, index.position).values())
    data = training.split(sequences)
    if len(data.validation) < MIN_SHOPPERS:
        raise InvalidJobInput(
            f"catalog {request.catalog_id!r} has {len(data.validation)} shoppers with 3 or "
            f"more events on embedded items; training needs at least {MIN_SHOPPERS}")
    config = SequentialConfig(text_dim=index.vectors.shape[1], dim=request.dim,
                              layers=request.layers, max_len=request.max_len)
    budget = min(request.time_budget_s, context.seconds_left() * (1 - AFTER_TRAINING_SHARE))
    started = time.monotonic()
    progress = _Progress(context, "training")
    try:
        fitted = training.fit(data.training, data.validation, index, config, budget_s=budget,
                              max_epochs=request.max_epochs, seed=request.seed,
                              on_step=progress, patience=request.patience)
        context.report_progress({"phase": "validating"}, force=True)
        choice = training.choose_blend(fitted.model, index, data.training, data.validation,
                                       request.seed)
        refitted = training.refit(
            sequences, index, config, fitted, seed=request.seed,
            budget_s=budget - (time.monotonic() - started),
            on_step=_Progress(context, "refitting"))
    except (training.Canceled, JobCanceled):  # its own check, or a progress report's
        log.info("event=training_canceled job_id=%s", context.job_id)
        return Outcome(result={"canceled": True})  # the runner discards it: job is canceled
    blend = {"text": choice.blend.text, "cooccurrence": choice.blend.cooccurrence,
             "model": choice.blend.model}
    # The refit model is what is stored when it finished in time; `validation` describes
    # the model the epochs and blend were chosen with (the refit one has seen those items).
    kept = refitted or fitted
    seconds = fitted.seconds + (refitted.seconds if refitted else 0.0)
    refit_view = ({"epochs": refitted.epochs, "seconds": round(refitted.seconds, 2),
                   "interactions": sum(len(s) for s in sequences)} if refitted else None)
    with context.db.session() as session:
        version = store_model(
            session, catalog_id=catalog_id, job_id=context.job_id,
            config=config.as_dict(), item_ids=index.ids, blend=blend,
            metrics={"validation": choice.validation, "epochs": fitted.history,
                     "refit": refit_view, EVENTS_KEY: events},
            training_seconds=seconds, weights=kept.model.to_bytes())
    if version is None:
        return Outcome(result={"canceled": True})
    log.info("event=recommender_trained job_id=%s catalog=%s version=%d seconds=%.1f "
             "refit=%s ndcg=%s", context.job_id, catalog_id, version, seconds,
             refit_view is not None,
             choice.validation["model_blend"]["ndcg_at_10"])
    return Outcome(result={
        "version": version, "catalog_version": index.version, "items": len(index),
        "shoppers": len(sequences), "validation_shoppers": choice.shoppers,
        "training_interactions": sum(len(s) for s in data.training),
        "epochs": fitted.epochs, "steps": fitted.steps, "best_epoch": fitted.best_epoch,
        "stopped": fitted.stopped, "training_seconds": round(seconds, 2),
        "validation": choice.validation, "blend": blend, "refit": refit_view,
    }, model_name="sasrec", model_revision=str(version))
