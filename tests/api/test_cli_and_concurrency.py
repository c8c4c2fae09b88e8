"""The key-creating CLI, and idempotency under concurrent requests."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from tests.support.processes import ROOT

EVENT = {"type": "view", "timestamp": "2011-05-01T10:00:00Z", "title": "RED MUG"}


def test_create_api_key_command_prints_a_working_key(api_only):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "api", "create-api-key", "--tenant", "cli-co"],
        cwd=ROOT, env=api_only.env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("vt_") and len(key) > 40
    response = api_only.client.get("/v1/jobs", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_concurrent_requests_with_one_idempotency_key_make_one_job(api_only):
    headers = {**api_only.auth("racer"), "Idempotency-Key": "same-everywhere"}
    body = {"type": "user_profile", "input": {"events": [EVENT]}}

    def post(_):
        response = api_only.app.test_client().post("/v1/jobs", json=body, headers=headers)
        return response.status_code, response.json["id"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(16)))
    assert {status for status, _ in results} == {202}
    assert len({job_id for _, job_id in results}) == 1
