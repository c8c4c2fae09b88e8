"""Trained recommender models: storing a new version, finding a catalog's newest."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.models import Catalog, Job, RecommenderModel
from shared.status import JobStatus


def store_model(session: Session, *, catalog_id: uuid.UUID, job_id: uuid.UUID | None,
                **fields: Any) -> int | None:
    """Store a trained model as the catalog's next version and make it the current one;
    None (nothing stored) when the job that trained it is no longer running (canceled).

    The catalog row is locked, so two trainings finishing at once get different versions."""
    catalog = session.scalars(select(Catalog).where(Catalog.id == catalog_id)
                              .with_for_update()).one_or_none()
    if catalog is None:
        return None
    if job_id is not None and session.scalar(
            select(Job.status).where(Job.id == job_id).with_for_update()) \
            != JobStatus.RUNNING.value:
        return None
    version = catalog.recommender_version + 1
    session.add(RecommenderModel(catalog_id=catalog_id, version=version, job_id=job_id,
                                 **fields))
    session.execute(update(Catalog).where(Catalog.id == catalog_id)
                    .values(recommender_version=version))
    return version


def model_version(session: Session, catalog_id: uuid.UUID, version: int
                  ) -> RecommenderModel | None:
    return session.scalar(select(RecommenderModel).where(
        RecommenderModel.catalog_id == catalog_id, RecommenderModel.version == version))


def job_is_running(session: Session, job_id: uuid.UUID) -> bool:
    return session.scalar(select(Job.status).where(Job.id == job_id)) \
        == JobStatus.RUNNING.value
