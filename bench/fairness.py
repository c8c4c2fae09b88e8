"""Fair share, measured in one run on the scripts/up worker layout (gunicorn API, a cpu worker,
an embeddings worker, a maintenance worker, beat) with the real models:

    python bench/fairness.py [--tries 20] [--flood 1000] [--cpu-procs 2] [--embed-threads 2]

1. Embedding: tenant A uploads the Amazon Office catalog (2,420 items); items/s from the
   first upload until the catalog view says `done`, against bare all-MiniLM-L6-v2 encoding
   the same texts at batch 32 in this process with the same torch threads.
2. Tenant B's single `user_profile` job: its queue wait (created -> started) over `--tries`
   tries, first on an idle system, then while tenant A keeps a flood of recommendation jobs
   queued (topped up so that at least `--flood` / 2 wait at all times).
3. The sweeper's lag under that flood: a never-sent job row on the gpu lane (no gpu worker
   runs, so only the sweeper can release it) is inserted every few seconds; lag = time until
   it is sent, with VITRINE_SWEEP_INTERVAL_S=2.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import bench_env, free_port, fresh_database, serve, start_worker, stop  # noqa: E402
from tests.support.events import office_catalog_items  # noqa: E402
from tests.support.processes import RedisServer  # noqa: E402

EVENT = {"type": "purchase", "item_id": "sku-1", "price": 2.5, "quantity": 1,
         "timestamp": "2011-05-01T10:00:00Z"}
SWEEP_INTERVAL_S = 2


def _call(method: str, url: str, key: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    for _ in range(50):
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if exc.code != 429:
                raise
            time.sleep(float(exc.headers.get("Retry-After", "1")))
    raise RuntimeError("still rate-limited")


def _stamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _bare_items_per_s(texts: list[str], threads: int) -> float:
    import torch
    from sentence_transformers import SentenceTransformer

    from shared.settings import Settings
    from worker.models.registry import resolve_sources

    torch.set_num_threads(threads)
    source = resolve_sources({"embedding": None}, Settings.from_env())["embedding"]
    model = SentenceTransformer(source.location, device="cpu")
    model.encode(texts[:64], batch_size=32)  # warm-up
    started = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - started)


def _b_waits(api: str, key: str, tries: int) -> list[float]:
    waits = []
    for _ in range(tries):
        job = _call("POST", f"{api}/v1/jobs", key,
                    {"type": "user_profile", "input": {"events": [EVENT]}})
        while job["status"] in ("queued", "running"):
            time.sleep(0.05)
            job = _call("GET", f"{api}/v1/jobs/{job['id']}", key)
        if job["status"] != "succeeded":
            raise RuntimeError(f"B's job ended {job['status']}: {job['error']}")
        waits.append(job["timings"]["queue_seconds"])
    return waits


class Flood(threading.Thread):
    """Tenant A keeps at least `backlog` recommendation jobs queued until stopped."""

    def __init__(self, api: str, key: str, backlog: int) -> None:
        super().__init__(daemon=True)
        self.api, self.key, self.backlog = api, key, backlog
        self.sent = 0
        self.stopping = threading.Event()

    def queued(self) -> int:
        lanes = _call("GET", f"{self.api}/v1/queues", self.key)["queues"]
        return next(q for q in lanes if q["queue"] == "cpu")["tenant"]["queued"]

    def run(self) -> None:
        body = {"type": "recommendation", "input": {
            "catalog_id": "office", "k": 10, "history": [{"item_id": "0"}, {"item_id": "1"}]}}
        while not self.stopping.is_set():
            if self.queued() >= self.backlog:
                time.sleep(0.2)
                continue
            for _ in range(self.backlog):
                _call("POST", f"{self.api}/v1/jobs", self.key, body)
                self.sent += 1


def _sweeper_lags(database_url: str, tenant_id: str, seconds: float) -> list[float]:
    from shared.db import Database
    from shared.models import Job, utcnow

    db = Database(database_url)
    lags, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        job_id = uuid.uuid4()
        with db.session() as session:
            session.add(Job(id=job_id, tenant_id=uuid.UUID(tenant_id), type="seo_metadata",
                            status="queued", priority=5, input={}, attempts=0,
                            created_at=utcnow(), enqueued_at=None))
        inserted = time.monotonic()
        while True:
            with db.session() as session:
                if session.get(Job, job_id).enqueued_at is not None:
                    break
            time.sleep(0.05)
        lags.append(time.monotonic() - inserted)
        time.sleep(1.3)
    db.dispose()
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--flood", type=int, default=1000)
    parser.add_argument("--cpu-procs", type=int, default=2)
    parser.add_argument("--embed-threads", type=int, default=2)
    parser.add_argument("--items", type=int, default=0,
                        help="embed only the first N catalog items (default: all 2,420)")
    parser.add_argument("--database-url", default="",
                        help="an empty database; default: SQLite in a temporary folder")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="vitrine-fairness-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'vitrine.db'}"
    redis = RedisServer()
    redis.start()
    key_a, tenant_a = fresh_database(database_url, "tenant-a")
    key_b, _ = fresh_database(database_url, "tenant-b")
    _, tenant_c = fresh_database(database_url, "sweeper-probe")
    env = bench_env(DATABASE_URL=database_url, BROKER_URL=redis.url,
                    VITRINE_SWEEP_INTERVAL_S=str(SWEEP_INTERVAL_S),
                    VITRINE_TENANT_IN_FLIGHT=f"cpu={args.cpu_procs},gpu=32")
    from shared.db import Database
    from shared.tenant_limits import set_limits

    db = Database(database_url)
    with db.session() as session:  # A floods: the operator lets it
        set_limits(session, "tenant-a", {"submit_rate": 1000.0, "submit_burst": 1000,
                                         "max_active_jobs": 100000})
    db.dispose()

    catalog = office_catalog_items()[:args.items or None]
    texts = _catalog_texts(catalog)
    print(f"bare all-MiniLM-L6-v2, batch 32, {args.embed_threads} torch threads: ", end="",
          flush=True)
    bare = _bare_items_per_s(texts, args.embed_threads)
    print(f"{bare:.0f} items/s")

    port = free_port()
    api = f"http://127.0.0.1:{port}"
    processes = [serve("api.wsgi:app", env, port, workdir / "api.log")]
    try:
        processes.append(start_worker(
            dict(env, VITRINE_LOG_LEVEL="INFO", VITRINE_TORCH_THREADS="1"),
            workdir / "cpu.log", "-Q", "cpu", "-c", str(args.cpu_procs), "-n", "cpu@%h",
            ready="event=family_ready family=recommendation", timeout=600))
        processes.append(start_worker(
            dict(env, VITRINE_LOG_LEVEL="INFO", VITRINE_TORCH_THREADS=str(args.embed_threads)),
            workdir / "embeddings.log", "-Q", "embeddings", "-c", "1", "-n", "emb@%h",
            ready="event=model_loaded kind=embedding", timeout=600))
        processes.append(start_worker(
            dict(env, VITRINE_LOG_LEVEL="INFO"), workdir / "maintenance.log", "-Q", "maintenance",
            "-P", "threads", "-c", "2",
            "-n", "maintenance@%h", ready="ready", timeout=300))
        processes.append(_beat(env, workdir))

        items = catalog
        started = time.monotonic()
        for start in range(0, len(items), 1000):
            _call("PUT", f"{api}/v1/catalogs/office/items", key_a,
                  {"items": items[start:start + 1000]})
        while not _call("GET", f"{api}/v1/catalogs/office", key_a)["embedding"]["done"]:
            time.sleep(0.2)
        system = len(items) / (time.monotonic() - started)
        print(f"embedding through the system ({len(items)} items, chunks on the embeddings "
              f"queue): {system:.0f} items/s = {system / bare:.2f}x bare")

        idle = _b_waits(api, key_b, args.tries)
        flood = Flood(api, key_a, args.flood // 2)
        flood.start()
        while flood.queued() < args.flood // 2:
            time.sleep(0.2)
        flooded = _b_waits(api, key_b, args.tries)
        lags = _sweeper_lags(database_url, tenant_c, 20)
        backlog = flood.queued()
        flood.stopping.set()
        flood.join(30)
        for label, waits in (("idle", idle), (f"A's flood ({flood.sent} jobs sent)", flooded)):
            print(f"tenant B's user_profile queue wait, {label}: p50 "
                  f"{statistics.median(waits):.2f} s, p99 {_percentile(waits, 0.99):.2f} s, "
                  f"max {max(waits):.2f} s over {len(waits)} tries")
        print(f"A's jobs still queued when B's tries ended: {backlog}")
        print(f"sweeper lag under the flood (never-sent row -> sent, interval "
              f"{SWEEP_INTERVAL_S} s): p50 {statistics.median(lags):.2f} s, max "
              f"{max(lags):.2f} s over {len(lags)} probes")
    finally:
        for process in reversed(processes):
            stop(process)
        redis.stop()
    print(f"logs: {workdir}")


def _catalog_texts(items: list[dict]) -> list[str]:
    from shared.schemas.catalogs import CatalogItemIn

    return [CatalogItemIn(**item).embedded_text() for item in items]


def _beat(env: dict, workdir: Path):
    import subprocess

    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shared.beat", "beat", "-s",
         str(workdir / "celerybeat-schedule")], cwd=ROOT, env=env,
        stdout=(workdir / "beat.log").open("w"), stderr=subprocess.STDOUT)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    main()
