"""A result that is not storable JSON fails its job `model_error` at once, naming the handler.

Before: a NaN score on PostgreSQL failed the write after the handler returned, the job stayed
`running`, was run again and ended `worker_lost` ~200 s later; on SQLite it `succeeded` and
GET answered `"score": NaN`, which is not JSON. Real worker processes, both backends.
"""

from __future__ import annotations

import json

import pytest

from tests.support.job_types import TEST_JOB_TYPES
from tests.support.poison import POISON, POISON_TYPE
from tests.support.processes import start_worker
from tests.support.stack import build_stack

# Seconds, not the ~200 s a lost worker takes: the failure is recorded by the run itself.
SETTLES_WITHIN_S = 20


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def poisoned(request, redis_server, database_factory):
    """The API plus a real cpu worker (one process) that also runs the poison job type."""
    redis_db = 14 if request.param == "sqlite" else 15
    broker = f"redis://127.0.0.1:{redis_server.port}/{redis_db}"
    built = build_stack(request.param, database_factory(request.param), broker,
                        with_worker=False, job_types=(*TEST_JOB_TYPES, POISON))
    worker = start_worker(built.env, queues="cpu", concurrency=1, name=f"poison-{request.param}",
                          app="tests.support.poison_worker")
    built.workers.append(worker)
    worker.wait_for_log("event=model_loaded kind=embedding", timeout=120)
    yield built
    built.stop()


@pytest.mark.parametrize(("kind", "problem"), [
    ("nan", "result.interest_tags[1].score is nan, which is not JSON"),
    ("infinity", "result.interest_tags[1].score is inf, which is not JSON"),
    ("nul", "result.interest_tags[1].score contains U+0000"),
    ("not_json", "result.interest_tags[1].score is a datetime, which is not a JSON type"),
])
def test_unstorable_results_fail_model_error_naming_the_handler(poisoned, kind, problem):
    job = poisoned.run(POISON_TYPE, {"kind": kind}, timeout=SETTLES_WITHIN_S)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "model_error"
    assert "return_poison returned a result that is not valid JSON" in job["error"]["message"]
    assert problem in job["error"]["message"]
    assert job["result"] is None and job["attempts"] == 1  # failed by its run, not re-run
    response = poisoned.client.get(f"/v1/jobs/{job['id']}", headers=poisoned.auth())
    json.loads(response.get_data(as_text=True), parse_constant=_not_json)  # strict JSON


def test_an_error_message_with_a_nul_is_still_recorded(poisoned):
    job = poisoned.run(POISON_TYPE, {"kind": "nul_in_error"}, timeout=SETTLES_WITHIN_S)
    assert job["status"] == "failed" and job["error"]["code"] == "model_error"
    assert "the model said \ufffd and stopped" in job["error"]["message"]


def _not_json(literal: str):
    raise AssertionError(f"{literal} in a response body")
