"""The Celery task's own state tells the job's outcome, as Flower and `celery events` see it:
read here through a real event receiver on the broker the workers publish to."""

from __future__ import annotations

import pytest

from tests.support.task_events import TaskEvents

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)


def test_a_failed_job_is_a_failed_task_and_a_succeeded_one_succeeds(stack):
    with TaskEvents(stack.celery) as events:
        failed = stack.run("diag_raise", {"message": "the model fell over"})
        succeeded = stack.run("diag_sleep", {"seconds": 0.1})
        failed_task = events.final(events.task_id_for(failed["id"]))
        succeeded_task = events.final(events.task_id_for(succeeded["id"]))

    assert failed["status"] == "failed" and failed["error"]["code"] == "model_error"
    assert failed_task["type"] == "task-failed"
    assert "JobFailed" in failed_task["exception"]
    assert "model_error: RuntimeError: the model fell over" in failed_task["exception"]
    assert succeeded["status"] == "succeeded"
    assert succeeded_task["type"] == "task-succeeded" and "succeeded" in succeeded_task["result"]


def test_a_failed_task_is_acked_not_redelivered(stack):
    """Raising after the failure is recorded must not make the broker deliver it again."""
    with TaskEvents(stack.celery) as events:
        job = stack.run("diag_raise", {"message": "once"})
        task_id = events.task_id_for(job["id"])
        events.final(task_id)
        stack.run("diag_sleep", {"seconds": 0.1})  # the worker has moved on
    received = [e for e in events.events
                if e["type"] == "task-received" and job["id"] in e.get("args", "")]
    assert len(received) == 1
    assert stack.get(job["id"])["attempts"] == 1
    # Celery logs a declared `throws` exception as an expected outcome, not as a crash.
    log = stack.workers[0].output
    assert f"[{task_id}] raised expected: JobFailed" in log
    assert f"[{task_id}] raised unexpected" not in log
