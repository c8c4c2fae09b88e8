"""/metrics: the API's (in process and under gunicorn with two workers) and a prefork
worker's, scraped over HTTP after real jobs ran; counters move by what happened."""

from __future__ import annotations

import urllib.request

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from api import create_app
from shared.settings import Settings
from tests.support.processes import free_port, start_worker, wait_for
from tests.support.server import ApiServer
from tests.support.stack import build_stack

TOKEN = "metrics-test-token"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def _metrics_app(stack, **overrides):
    settings = Settings.from_env(stack.env, job_types=stack.settings.job_types.values(),
                                 **overrides)
    return create_app(settings).test_client()


def test_metrics_are_off_without_a_token_and_need_it_when_set(api_only):
    assert api_only.client.get("/metrics").status_code == 404
    client = _metrics_app(api_only, metrics_token=TOKEN)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.mimetype == "text/plain"


def test_api_counters_and_queue_depth_move_after_a_submission(api_only):
    client = _metrics_app(api_only, metrics_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = client.get("/metrics", headers=auth).text
    submitted = client.post("/v1/jobs", json={"type": "diag_sleep", "input": {"seconds": 0}},
                            headers=api_only.auth())
    assert submitted.status_code == 202
    after = client.get("/metrics", headers=auth).text
    assert value(after, "vitrine_jobs_submitted_total", type="diag_sleep") == \
        value(before, "vitrine_jobs_submitted_total", type="diag_sleep") + 1
    labels = {"route": "/v1/jobs", "method": "POST", "status": "202"}
    assert value(after, "vitrine_http_requests_total", **labels) == \
        value(before, "vitrine_http_requests_total", **labels) + 1
    assert value(after, "vitrine_http_request_seconds_count", route="/v1/jobs",
                 method="POST") >= 1
    # No worker consumes api_only's queue: the job waits there.
    assert value(after, "vitrine_queue_depth", queue="cpu") >= 1


@pytest.mark.slow
def test_gunicorn_workers_are_added_up(api_only, tmp_path):
    env = {**api_only.env, "VITRINE_METRICS_TOKEN": TOKEN, "WEB_CONCURRENCY": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    server = ApiServer(env, name="api-metrics")
    try:
        with requests.Session() as http:
            for _ in range(40):  # new connections: both workers answer some
                assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200
            text = http.get(f"{server.url}/metrics",
                            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).text
    finally:
        server.stop()
    assert value(text, "vitrine_http_requests_total", route="/readyz", method="GET",
                 status="200") == 40
    pids = {p.stem.rsplit("_", 1)[-1] for p in (tmp_path / "prometheus").glob("counter_*.db")}
    assert len(pids) >= 2, pids  # more than one process counted


@pytest.mark.slow
def test_worker_metrics_count_finished_jobs_by_status_and_error(redis_server, database_factory,
                                                                 tmp_path):
    stack = build_stack("sqlite", database_factory("sqlite"),
                        f"redis://127.0.0.1:{redis_server.port}/9", with_worker=False)
    port = free_port()
    env = {**stack.env, "VITRINE_METRICS_PORT": str(port),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    worker = start_worker(env, queues="cpu,maintenance", concurrency=2, name="cpu-metrics")
    try:
        worker.wait_for_log("event=metrics_serving", timeout=120)
        worker.wait_for_log("event=model_loaded kind=embedding", timeout=180, times=2)
        ok = stack.run("diag_sleep", {"seconds": 0.3})
        failed = stack.run("diag_raise", {"message": "counted"})
        assert (ok["status"], failed["status"]) == ("succeeded", "failed")

        def scrape() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()

        text = wait_for(lambda: (t := scrape()) and value(
            t, "vitrine_jobs_finished_total", type="diag_raise", status="failed",
            error_code="model_error") == 1 and t, 20, what="the failed job to be counted")
    finally:
        worker.stop()
        stack.stop()
    assert value(text, "vitrine_jobs_finished_total", type="diag_sleep", status="succeeded",
                 error_code="") == 1
    assert value(text, "vitrine_job_run_seconds_count", type="diag_sleep") == 1
    assert value(text, "vitrine_job_run_seconds_sum", type="diag_sleep") >= 0.3
    assert value(text, "vitrine_job_queue_wait_seconds_count", type="diag_raise") == 1
