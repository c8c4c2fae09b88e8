"""Schemathesis fuzzes every operation of /openapi.json against the live API (real gunicorn,
PostgreSQL, Redis): no 5xx, and every answer matches the schema (status, content type, body).

Bounded: at most EXAMPLES positive and EXAMPLES negative cases per operation, derandomized so
a run can be repeated, each mode within BUDGET_PER_MODE_S, so that the whole test stays within
~3 minutes on two shared cores. The counts are printed (`-s`) for the record.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.server import ApiServer
from tests.support.stack import build_stack

EXAMPLES = 100
BUDGET_PER_MODE_S = 6.0
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def live(redis_server, database_factory):
    """The API under gunicorn as deployed, on PostgreSQL (the stricter backend: NUL bytes and
    lone surrogates fail there), no workers."""
    stack = build_stack("postgresql", database_factory("postgresql"),
                        f"redis://127.0.0.1:{redis_server.port}/6", with_worker=False)
    server = ApiServer(stack.env, name="api-fuzz")
    yield stack, server
    server.stop()
    stack.stop()


def _fuzz(case_strategy, call, examples: int) -> None:
    deadline = time.monotonic() + BUDGET_PER_MODE_S

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=case_strategy)
    def run(case):
        if time.monotonic() < deadline:
            call(case)

    run()


def test_every_operation_survives_fuzzing_without_5xx(live):
    stack, server = live
    auth = stack.auth("fuzz")
    stack.client.put("/v1/catalogs/office/items", headers=auth,
                     json={"items": [{"id": "1", "title": "Big-button corded phone"}]})
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    session = requests.Session()
    statuses: Counter[int] = Counter()
    per_operation: dict[str, int] = {}
    failures: list[str] = []

    def call(case) -> None:
        response = case.call(base_url=server.url, session=session, headers=auth, timeout=20)
        statuses[response.status_code] += 1
        per_operation[label] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except AssertionError as failure:  # collect them all: one summary, not the first only
            failures.append(f"{label}: {str(failure)[:600]}")
        except Exception as failure:  # schemathesis raises its own failure groups
            failures.append(f"{label}: {type(failure).__name__}: {str(failure)[:600]}")

    operations = [result.ok() for result in schema.get_all_operations()]
    started = time.monotonic()
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        per_operation[label] = 0
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation.as_strategy(generation_mode=mode), call, EXAMPLES)
            except Unsatisfiable:  # no way to break a schema without parameters or body
                assert mode is GenerationMode.NEGATIVE, label
    elapsed = time.monotonic() - started

    print(f"\nschemathesis: {len(operations)} operations, {sum(statuses.values())} requests in "
          f"{elapsed:.0f}s; statuses {dict(sorted(statuses.items()))}")
    for label, count in per_operation.items():
        print(f"  {count:4d}  {label}")
    assert len(operations) == sum(len(ops) for ops in schema.raw_schema["paths"].values())
    assert all(per_operation.values()), per_operation  # every operation was exercised
    assert not [s for s in statuses if s >= 500], statuses
    assert failures == [], "\n".join(failures[:20])
