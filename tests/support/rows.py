"""Job rows written straight into a test's own database, as a worker or the API left them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from shared.models import Job, Tenant, utcnow
from tests.support.stack import Stack


def tenant_id(stack: Stack, name: str) -> uuid.UUID:
    """The id of tenant `name`, created with an API key on first use."""
    stack.key(name)
    with stack.db.session() as session:
        return session.scalar(select(Tenant.id).where(Tenant.name == name))


def insert_job(stack: Stack, tenant: uuid.UUID, **values: Any) -> uuid.UUID:
    """A committed job row (queued diag_sleep unless `values` say otherwise)."""
    row = {"id": uuid.uuid4(), "tenant_id": tenant, "type": "diag_sleep",
           "input": {"seconds": 0}, "priority": 5, "attempts": 0, "created_at": utcnow(),
           "status": "queued", **values}
    with stack.db.session() as session:
        session.add(Job(**row))
    return row["id"]


def job_row(stack: Stack, job_id: uuid.UUID) -> Job:
    with stack.db.session() as session:
        return session.get(Job, job_id)


def waiting(broker, queue: str = "cpu") -> int:
    """Messages in a queue: Redis keeps one list per priority level (cpu, cpu:1 .. cpu:9)."""
    return sum(broker.llen(key) for key in [queue, *(f"{queue}:{p}" for p in range(1, 10))])
