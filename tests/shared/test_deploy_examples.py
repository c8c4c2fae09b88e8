"""deploy/: the Grafana dashboard asks only for series Vitrine exports, and the Prometheus
config scrapes services that docker-compose.yml runs, on the ports they serve."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import shared.metrics  # noqa: F401  (registers the series)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _exported() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names |= {sample.name for sample in family.samples} | {family.name}
    # Histograms' series appear once observed; list their suffixes from the family name.
    for family in REGISTRY.collect():
        if family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count")}
        if family.type == "counter":
            names.add(f"{family.name}_total")
    names.add("vitrine_queue_depth")  # read from the broker at scrape time (api.metrics)
    return names


def test_dashboard_queries_only_exported_series():
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {name for e in expressions for name in re.findall(r"\b(vitrine_[a-z_]+)", e)}
    assert used and used <= _exported(), used - _exported()
    wanted = {"vitrine_jobs_finished_total", "vitrine_queue_depth",
              "vitrine_job_queue_wait_seconds_bucket", "vitrine_job_run_seconds_bucket",
              "vitrine_generation_tokens_per_second_bucket", "vitrine_webhook_attempts_total",
              "vitrine_http_request_seconds_bucket", "vitrine_job_latency_seconds_bucket"}
    assert wanted <= used


def test_prometheus_scrapes_services_compose_runs():
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    worker_port = yaml.safe_load((ROOT / "docker-compose.yml").read_text())[
        "x-env"]["VITRINE_METRICS_PORT"]
    for job in config["scrape_configs"]:
        for target in job["static_configs"][0]["targets"]:
            host, port = target.split(":")
            assert host in services, target
            if host.startswith("worker-"):
                assert port == worker_port
    api = next(j for j in config["scrape_configs"] if j["job_name"] == "vitrine-api")
    assert api["authorization"]["type"] == "Bearer"
