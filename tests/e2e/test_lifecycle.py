"""The job lifecycle through real workers, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import uuid

from sqlalchemy import select

from shared.dispatch import send_job
from shared.models import Job
from shared.queues import make_celery
from tests.support.processes import wait_for


def _job_row(stack, job_id: str) -> Job:
    with stack.db.session() as session:
        return session.scalar(select(Job).where(Job.id == uuid.UUID(job_id)))


def _worker_log(stack) -> str:
    return stack.workers[0].output


def test_job_runs_and_records_timings_model_and_host(stack):
    job = stack.run("diag_sleep", {"seconds": 0.2, "echo": {"hello": "world"}})
    assert job["status"] == "succeeded"
    assert job["result"] == {"slept": 0.2, "echo": {"hello": "world"}}
    assert job["attempts"] == 1
    assert job["model"] == {"name": "diagnostic", "revision": "1"}
    assert job["worker_host"]
    timings = job["timings"]
    assert timings["queue_seconds"] >= 0 and timings["run_seconds"] >= 0.2
    assert job["error"] is None


def test_a_task_that_raises_fails_with_model_error(stack):
    job = stack.run("diag_raise", {"message": "the model fell over"})
    assert job["status"] == "failed"
    assert job["error"] == {"code": "model_error",
                            "message": "RuntimeError: the model fell over"}
    assert job["result"] is None and job["timings"]["finished_at"]


def test_soft_time_limit_fails_with_timeout(stack):
    job = stack.run("diag_sleep", {"seconds": 10})
    assert job["status"] == "failed"
    assert job["error"]["code"] == "timeout"
    assert "4s" in job["error"]["message"]


def test_hard_time_limit_kills_and_records_timeout(stack):
    job = stack.run("diag_sleep", {"seconds": 20, "ignore_soft_limit": True}, timeout=60)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "timeout"
    assert "hard time limit of 6s" in job["error"]["message"]
    stack.wait_workers_ready()  # the pool replaces the killed process


def test_cancel_queued_job_never_runs(stack):
    blockers = [stack.submit("diag_sleep", {"seconds": 2}).json["id"] for _ in range(2)]
    for blocker in blockers:
        stack.wait(blocker, until=("running",), timeout=30)
    victim = stack.submit("diag_sleep", {"seconds": 0.1}).json["id"]
    canceled = stack.client.post(f"/v1/jobs/{victim}/cancel", headers=stack.auth())
    assert canceled.status_code == 200 and canceled.json["status"] == "canceled"
    for blocker in blockers:
        assert stack.wait(blocker)["status"] == "succeeded"
    wait_for(lambda: f"event=job_skipped job_id={victim}" in _worker_log(stack), 20,
             what="the worker to skip the canceled job")
    row = _job_row(stack, victim)
    assert row.status == "canceled" and row.attempts == 0 and row.started_at is None


def test_cancel_running_job_discards_its_result(stack):
    job_id = stack.submit("diag_sleep", {"seconds": 1.5, "echo": "late"}).json["id"]
    stack.wait(job_id, until=("running",), timeout=30)
    response = stack.client.post(f"/v1/jobs/{job_id}/cancel", headers=stack.auth())
    assert response.status_code == 200 and response.json["status"] == "canceled"
    wait_for(lambda: f"event=result_discarded job_id={job_id}" in _worker_log(stack), 20,
             what="the worker to discard the result")
    job = stack.get(job_id)
    assert job["status"] == "canceled" and job["result"] is None


def test_duplicate_delivery_runs_once(stack):
    response = stack.submit("diag_sleep", {"seconds": 0.5})
    job_id = response.json["id"]
    celery = make_celery(stack.settings)
    # The same message again, as a Redis redelivery or a sweeper re-send would produce.
    assert send_job(celery, stack.settings, job_id=uuid.UUID(job_id), job_type="diag_sleep",
                    priority=5)
    assert stack.wait(job_id)["status"] == "succeeded"
    # Lines carry the job id as context too (shared.logs), so wait for the two events.
    wait_for(lambda: f"event=job_skipped job_id={job_id}" in _worker_log(stack), 20,
             what="both deliveries to be handled")
    log = _worker_log(stack)
    assert log.count(f"event=job_started job_id={job_id}") == 1
    assert log.count(f"event=job_skipped job_id={job_id}") == 1
    assert _job_row(stack, job_id).attempts == 1


def test_worker_process_killed_mid_job_is_rerun(stack):
    job_id = stack.submit("diag_sleep", {"seconds": 2, "echo": "survived"}).json["id"]
    stack.wait(job_id, until=("running",), timeout=30)
    row = _job_row(stack, job_id)
    os.kill(row.worker_pid, signal.SIGKILL)
    job = stack.wait(job_id, timeout=90)
    assert job["status"] == "succeeded", job
    assert job["result"]["echo"] == "survived"
    assert job["attempts"] == 2
    stack.wait_workers_ready()  # the pool replaces the killed process


def test_higher_priority_runs_first(stack):
    # Blockers that end apart, so one process frees up at a time and must pick the next job;
    # the first lasts long enough that all four jobs are queued before it ends, even on a
    # loaded machine (at 1.5 s it sometimes ended first, and a low job took its place).
    stack.wait_workers_ready()
    blockers = [stack.submit("diag_sleep", {"seconds": s, "ignore_soft_limit": True}).json["id"]
                for s in (3.0, 5.0)]
    for blocker in blockers:
        stack.wait(blocker, until=("running",), timeout=30)
    low = [stack.submit("diag_sleep", {"seconds": 0.2}, priority=0).json["id"] for _ in range(3)]
    urgent = stack.submit("diag_sleep", {"seconds": 0.2}, priority=9).json["id"]
    finished = {job_id: stack.wait(job_id) for job_id in [*low, urgent]}
    started = {job_id: job["timings"]["started_at"] for job_id, job in finished.items()}
    assert started[urgent] <= min(started[job_id] for job_id in low)
