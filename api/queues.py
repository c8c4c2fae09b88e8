"""/v1/queues: each job queue's depth, running jobs, workers and throughput, and the
calling tenant's share of it."""

from __future__ import annotations

from flask import Blueprint, g

from api.openapi import documented
from api.services import get_db, get_settings
from shared.lanes import lanes_view
from shared.queues import JOB_QUEUES
from shared.schemas.jobs import LaneList

bp = Blueprint("queues", __name__, url_prefix="/queues")


@bp.get("")
@documented("Queues: depth, running, workers, recent throughput, and this tenant's share",
            answer="one entry per job queue", schema=LaneList)
def list_queues():
    with get_db().session() as session:
        return {"queues": lanes_view(session, get_settings(), list(JOB_QUEUES), g.tenant_id)}
