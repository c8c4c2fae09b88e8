"""Multi-step jobs through the real API, broker and worker processes: one job, one status
that never goes back, one result, one `completed` event; a failing step names itself; a
cancel stops every step; a hand-off whose message is lost is sent again by the sweeper."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from shared.models import Job, Tenant, WebhookDelivery, utcnow
from shared.queues import make_celery
from tests.support.diagnostics import two_steps
from tests.support.processes import wait_for
from worker.runner import JobRunner
from worker.sweeper import sweep


def _events(stack, job_id: str) -> list[str]:
    with stack.db.session() as session:
        return sorted(session.scalars(select(WebhookDelivery.event)
                                      .where(WebhookDelivery.job_id == uuid.UUID(job_id))))


def test_both_steps_run_and_the_second_sees_what_the_first_handed_over(stack, receiver):
    receiver.script("/steps", 200)
    job = stack.run("diag_two_step", {"first_seconds": 0.3, "second_seconds": 0.3,
                                      "echo": {"n": 1}}, timeout=60,
                    webhook={"url": receiver.url("/steps"), "events": ["started", "completed"]})
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["handed_over"]["echo"] == {"n": 1}
    assert job["attempts"] == 1
    # One job from the client's side: one `started`, one `completed`, whatever the steps.
    assert _events(stack, job["id"]) == ["completed", "started"]


def test_progress_names_the_step_and_status_stays_running_between_steps(stack):
    job_id = stack.submit("diag_two_step", {"first_seconds": 1.0, "second_seconds": 1.5}).json["id"]
    seen: list[tuple[str, str | None]] = []

    def finished() -> bool:
        job = stack.get(job_id)
        seen.append((job["status"], (job["progress"] or {}).get("step")))
        return job["status"] in {"succeeded", "failed", "canceled"}

    wait_for(finished, 60, interval=0.05, what="the two-step job to finish")
    statuses = [status for status, _ in seen]
    assert statuses[-1] == "succeeded"
    first_running = statuses.index("running")
    assert set(statuses[first_running:-1]) == {"running"}  # never back to `queued`
    steps = [step for status, step in seen if status == "running" and step]
    assert "start" in steps and "finish" in steps
    assert steps.index("finish") > steps.index("start")


def test_a_failing_step_fails_the_job_and_names_the_step(stack):
    second = stack.run("diag_two_step", {"fail_in": "finish"}, timeout=60)
    assert second["status"] == "failed"
    assert second["error"]["code"] == "model_error"
    assert second["error"]["message"].startswith("step finish: ")
    first = stack.run("diag_two_step", {"fail_in": "start"}, timeout=60)
    assert first["error"]["message"].startswith("step start: ")
    undeclared = stack.run("diag_two_step", {"bad_next_step": True}, timeout=60)
    assert undeclared["status"] == "failed"
    assert "does not declare" in undeclared["error"]["message"]


def test_cancel_during_the_second_step_discards_its_result(stack):
    job_id = stack.submit("diag_two_step", {"second_seconds": 3}).json["id"]
    wait_for(lambda: (stack.get(job_id)["progress"] or {}).get("step") == "finish", 30,
             what="the second step to start")
    assert stack.client.post(f"/v1/jobs/{job_id}/cancel",
                             headers=stack.auth()).status_code == 200
    time.sleep(3.5)  # the second step has ended by now, and its result was refused
    job = stack.get(job_id)
    assert job["status"] == "canceled" and job["result"] is None


def test_cancel_during_the_first_step_never_starts_the_second(stack):
    job_id = stack.submit("diag_two_step", {"first_seconds": 2}).json["id"]
    stack.wait(job_id, until=("running",), timeout=30)
    assert stack.client.post(f"/v1/jobs/{job_id}/cancel",
                             headers=stack.auth()).status_code == 200
    time.sleep(2.5)
    with stack.db.session() as session:
        job = session.get(Job, uuid.UUID(job_id))
        assert job.status == "canceled" and job.step is None  # nothing was handed over


def test_a_lost_hand_off_is_sent_again_and_late_duplicates_are_skipped(stack):
    # A row the API never sent: the first step runs here, with no broker to send the next
    # step to, as if that message were lost. The job then waits, running, at step `finish`,
    # claimed by nobody.
    stack.key("steps")
    with stack.db.session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == "steps"))
        job = Job(tenant_id=tenant_id, type="diag_two_step", input={}, priority=5,
                  status="queued", enqueued_at=utcnow())
        session.add(job)
        session.flush()
        job_id = str(job.id)
    runner = JobRunner(db=stack.db, settings=stack.settings)
    assert runner.run(job_id, "diag_two_step", two_steps) == "handed_off"
    job = stack.get(job_id, tenant="steps")
    assert job["status"] == "running" and job["progress"]["step"] == "finish"
    # A late duplicate of the first step's message changes nothing.
    assert runner.run(job_id, "diag_two_step", two_steps) == "skipped"
    with stack.db.session() as session:  # the hand-off is old enough to count as lost
        session.execute(update(Job).where(Job.id == uuid.UUID(job_id))
                        .values(started_at=utcnow() - timedelta(hours=1)))
    report = sweep(stack.db, stack.settings, make_celery(stack.settings))
    assert report.resent_stale >= 1
    job = stack.wait(job_id, tenant="steps", timeout=60)
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["handed_over"]["start_pid"] != job["result"]["finish_pid"]
