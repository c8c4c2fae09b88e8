"""What one POST /v1/jobs costs the database, counted, not timed: the API's throughput is
CPU-bound and each statement costs more CPU in SQLAlchemy than in the database, so a new
statement on the submission path is a regression bench/api.py would show as a lower ratio."""

from __future__ import annotations

from sqlalchemy import event

from api.services import services_of

EVENT = {"type": "purchase", "item_id": "sku-1", "price": 2.5, "quantity": 1,
         "timestamp": "2011-05-01T10:00:00Z"}
# The tenant's limits with its active-job count; the insert, which also claims a slot under
# the tenant's cap; the job's place in its lane, read after the commit.
STATEMENTS_PER_SUBMISSION = 3


def _statements_of_one_submission(stack, tenant: str) -> list[str]:
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        seen.append(" ".join(statement.split())[:120])

    engine = services_of(stack.app).db.engine  # the API's own, not the test's
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = stack.submit("user_profile", {"events": [EVENT]}, tenant)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 202, response.get_json()
    return seen


def test_a_submission_runs_three_statements_held_or_sent(api_on_both):
    tenant = "counted"
    api_on_both.key(tenant)
    api_on_both.submit("user_profile", {"events": [EVENT]}, tenant)  # warms the lane facts
    sent = _statements_of_one_submission(api_on_both, tenant)
    assert len(_without_rate_reads(sent)) == STATEMENTS_PER_SUBMISSION, sent
    assert sum(s.startswith("INSERT INTO jobs") for s in sent) == 1, sent
    # No worker: past its in-flight cap (cpu=4) the tenant's jobs are held, and a held job's
    # place is read in one statement too; the lane's recent throughput (for its estimated
    # start) is read at most once a second per API process, not per submission.
    for _ in range(6):
        api_on_both.submit("user_profile", {"events": [EVENT]}, tenant)
    first, second = (_statements_of_one_submission(api_on_both, tenant) for _ in range(2))
    for held in (first, second):
        assert len(_without_rate_reads(held)) == STATEMENTS_PER_SUBMISSION, held
        assert not any(s.startswith("UPDATE") for s in held), held
    assert len(first + second) - len(_without_rate_reads(first + second)) <= 1


def _without_rate_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith("SELECT jobs.finished_at")]
