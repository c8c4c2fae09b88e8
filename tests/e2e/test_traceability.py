"""The request id of the HTTP request that submitted a job is on the worker's log lines for
that job (carried in the task's headers), and on its lines when the sweeper re-sent it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from shared.models import Job, Tenant
from tests.support.processes import wait_for
from worker.sweeper import sweep

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)


def _lines_about(log: str, job_id: str) -> list[str]:
    return [line for line in log.splitlines() if f"job_id={job_id}" in line]


def test_request_id_from_the_request_is_on_every_worker_line_of_its_job(stack):
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    response = stack.client.post(
        "/v1/jobs", json={"type": "diag_raise", "input": {"message": "traced"}},
        headers={**stack.auth(), "X-Request-Id": request_id})
    assert response.headers["X-Request-Id"] == request_id
    job_id = response.json["id"]
    stack.wait(job_id)
    worker = stack.workers[0]
    wait_for(lambda: f"event=job_failed job_id={job_id}" in worker.output, 20,
             what="the job's last log line")
    lines = _lines_about(worker.output, job_id)
    assert any("event=job_started" in line for line in lines)
    assert any("event=handler_error" in line for line in lines)
    assert lines and all(f"request_id={request_id}" in line for line in lines), lines


def test_a_job_the_sweeper_resends_keeps_its_request_id(stack):
    """No header on the re-sent message: the worker takes the id stored on the job."""
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    job_id = uuid.uuid4()
    stack.key()  # the tenant exists
    with stack.db.session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == "acme"))
        session.add(Job(id=job_id, tenant_id=tenant_id, type="diag_sleep", status="queued",
                        priority=5, input={"seconds": 0}, attempts=0, request_id=request_id,
                        enqueued_at=None))  # never sent: the sweeper sends it
    assert sweep(stack.db, stack.settings, stack.celery).resent_queued >= 1
    assert stack.wait(str(job_id), timeout=60)["status"] == "succeeded"
    worker = stack.workers[0]
    wait_for(lambda: f"event=job_succeeded job_id={job_id}" in worker.output, 20,
             what="the job's last log line")
    lines = _lines_about(worker.output, str(job_id))
    assert lines and all(f"request_id={request_id}" in line for line in lines), lines
