"""What one POST /v1/jobs costs the database, counted, not timed: the API's throughput is
CPU-bound and each statement costs more CPU in SQLAlchemy than in the database, so a new
statement on the submission path is a regression bench/api.py would show as a lower ratio."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select

from api.lane_facts import READ_EVERY_S
from api.services import services_of
from shared.models import Job, Tenant, utcnow
from tests.support.statements import recorded_statements

EVENT = {"type": "purchase", "item_id": "sku-1", "price": 2.5, "quantity": 1,
         "timestamp": "2011-05-01T10:00:00Z"}
# The tenant's limits with its active-job count; the insert, which also claims a slot under
# the tenant's cap; for a job sent at once, its place among the lane's released jobs, read
# after the commit (a held job's comes from the lane's snapshot).
STATEMENTS_SENT, STATEMENTS_HELD = 3, 2


def _statements_of_one_submission(stack, tenant: str) -> list[str]:
    with recorded_statements(services_of(stack.app).db.engine) as ran:  # the API's engine
        response = stack.submit("user_profile", {"events": [EVENT]}, tenant)
    assert response.status_code == 202, response.get_json()
    return [statement.one_line for statement in ran]


def test_a_submission_runs_three_statements_sent_and_two_held(api_on_both):
    tenant = "counted"
    api_on_both.key(tenant)
    api_on_both.submit("user_profile", {"events": [EVENT]}, tenant)  # warms the lane facts
    sent = _statements_of_one_submission(api_on_both, tenant)
    assert len(_without_lane_reads(sent)) == STATEMENTS_SENT, sent
    assert sum(s.startswith("INSERT INTO jobs") for s in sent) == 1, sent
    # No worker: past its in-flight cap (cpu=4) the tenant's jobs are held. A held job's
    # place comes from the lane's snapshot, and the lane's recent throughput (for its
    # estimated start) and that snapshot are read at most once a second per API process,
    # not per submission.
    for _ in range(6):
        api_on_both.submit("user_profile", {"events": [EVENT]}, tenant)
    time.sleep(READ_EVERY_S)  # the next submission reads the snapshot afresh
    first, second = (_statements_of_one_submission(api_on_both, tenant) for _ in range(2))
    for held in (first, second):
        assert len(_without_lane_reads(held)) == STATEMENTS_HELD, held
        assert not any(s.startswith("UPDATE") for s in held), held
    lane_reads = [s for s in first + second if s not in _without_lane_reads([s])]
    assert len(lane_reads) == len(set(lane_reads)), lane_reads  # each once at most


def test_a_submission_behind_a_deep_backlog_does_not_count_it(api_on_both):
    """A new job's place behind its tenant's held jobs comes from the lane's snapshot (read
    once a second), so a submission costs the same behind 1,000 held jobs as behind
    100,000; a poll counts it, and finds the same place."""
    tenant = "deep"
    api_on_both.key(tenant)
    tenant_id = _tenant_id(api_on_both, tenant)
    now = utcnow()
    with api_on_both.db.session() as session:
        # Its in-flight cap taken by jobs sent (none runs: no worker), and a backlog held.
        session.add_all(Job(id=uuid.uuid4(), tenant_id=tenant_id, type="user_profile",
                            input={}, status="queued", priority=5, attempts=0,
                            created_at=now, enqueued_at=now if n < 10 else None)
                        for n in range(10 + 1100))
    time.sleep(READ_EVERY_S)  # the lane's snapshot from before the backlog is gone
    api_on_both.submit("user_profile", {"events": [EVENT]}, tenant)  # reads the snapshot
    engine = services_of(api_on_both.app).db.engine
    with recorded_statements(engine) as ran:
        response = api_on_both.submit("user_profile", {"events": [EVENT]}, tenant)
    held = [statement.one_line for statement in ran]
    assert len(_without_lane_reads(held)) == STATEMENTS_HELD, held
    assert not any("GROUP BY" in statement for statement in held), held
    # Behind the 10 sent and the 1,101 held before it (other tests' tenants hold some too).
    assert response.json["queue_position"] >= 10 + 1101
    with recorded_statements(engine) as ran:
        assert api_on_both.get(response.json["id"], tenant)["queue_position"] == (
            response.json["queue_position"])
    polled = [statement.one_line for statement in ran]
    assert any("GROUP BY jobs.tenant_id" in statement for statement in polled), polled


def _tenant_id(stack, name: str) -> uuid.UUID:
    with stack.db.session() as session:
        return session.scalar(select(Tenant.id).where(Tenant.name == name))


def _without_lane_reads(statements: list[str]) -> list[str]:
    """Less what is read at most once a second per API process (api.lane_facts) and the
    API key's lookup (cached for half a second, api.auth)."""
    return [s for s in statements if not s.startswith(
        ("SELECT jobs.finished_at", "SELECT jobs.tenant_id, jobs.priority",
         "SELECT worker_heartbeats", "SELECT api_keys.tenant_id"))]
