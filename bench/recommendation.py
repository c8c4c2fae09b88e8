"""Recommendation speed: the system over HTTP vs the bare computation vs the naive approach.

    python bench/recommendation.py [--jobs 200] [--concurrency 1 8 32] [--notify webhook]

Uploads the Amazon Office catalog (2,420 items) and its shopper events through the API,
waits until every item is embedded, then submits `--jobs` recommendation jobs per
concurrency level (clients that submit and poll) and reports jobs/s and p50/p99 latency
(the jobs' own created -> finished times). With `--notify webhook` the clients do not poll:
each job names a webhook on a local receiver and the client waits for its `completed`
event, delivered by a webhooks worker. In the same run, for the same shoppers:
- bare: the ranker alone on the stored matrix, in this process (no HTTP, queue or database);
- naive: encoding every candidate's text for each request, as a pair scorer without stored
  embeddings must (timed on a few requests; it is slow).
Then (unless `--model-budget-s 0`) it trains the catalog's sequential model in this process
on the stored vectors and events, stores it as `train_recommender` would, and runs the same
rows again: the running worker picks the model up, and the ratios say what it costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "clients" / "python")]

from bench.stack import (  # noqa: E402
    bench_env,
    cpu_seconds,
    free_port,
    fresh_database,
    serve,
    start_worker,
    stop,
)
from tests.support.events import office_catalog_items, office_sequences  # noqa: E402
from tests.support.receiver import Receiver  # noqa: E402
from vitrine_client import Vitrine  # noqa: E402


def _call(method: str, url: str, key: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"{}")


def _shoppers(count: int) -> list[list[str]]:
    sequences = [s for s in office_sequences().values() if len(s) >= 4]
    return [s[:-1][-20:] for s in sequences[:count]]


def upload(api: str, key: str) -> None:
    items = office_catalog_items()
    for start in range(0, len(items), 1000):
        _call("PUT", f"{api}/v1/catalogs/office/items", key, {"items": items[start:start + 1000]})
    events = [{"shopper_id": u, "item_id": i} for u, s in office_sequences().items()
              for i in s[:-1]]
    # 2,000 a request: on a loaded machine, 10,000 outlasted gunicorn's worker timeout.
    for start in range(0, len(events), 2_000):
        _call("POST", f"{api}/v1/catalogs/office/events", key,
              {"events": events[start:start + 2_000]})
    started = time.perf_counter()
    while _call("GET", f"{api}/v1/catalogs/office", key)["embedded"] < len(items):
        time.sleep(0.5)
    print(f"  catalog embedded by the worker in {time.perf_counter() - started:.1f}s")


def run_jobs(api: str, key: str, histories: list[list[str]], concurrency: int,
             receiver=None, processes: dict[str, int] | None = None) -> dict:
    def one(history: list[str]) -> float:
        body = {"type": "recommendation", "input": {
            "catalog_id": "office", "k": 10,
            "history": [{"item_id": i, "event": "purchase"} for i in history]}}
        if receiver is not None:
            path = f"/done/{uuid.uuid4().hex}"
            body["webhook"] = {"url": receiver.script(path, 204)}
        job = vitrine.jobs.create("recommendation", body["input"],
                                  webhook=body.get("webhook"))
        if receiver is not None:
            job = json.loads(receiver.wait(path, timeout=300)[0].body)
        elif job["status"] in {"queued", "running"}:
            job = vitrine.jobs.wait(job["id"])  # long-polls: answered as the job ends
        assert job["status"] == "succeeded", job["error"]
        timings = job["timings"]
        return (datetime.fromisoformat(timings["finished_at"])
                - datetime.fromisoformat(timings["created_at"])).total_seconds()

    vitrine = Vitrine(api, key, timeout=120)
    processes = processes or {}
    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    clients_before = time.process_time()  # this process only: the others are its children
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(pool.map(one, histories))
    elapsed = time.perf_counter() - started
    vitrine.close()
    # Where the two cores went, per job: shows what the system costs beyond the ranker.
    cpu_ms = {name: round((cpu_seconds(pid) - cpu_before[name]) / len(histories) * 1e3, 1)
              for name, pid in processes.items()}
    cpu_ms["clients"] = round((time.process_time() - clients_before) / len(histories) * 1e3, 1)
    return {"jobs_per_s": len(histories) / elapsed, "p50_ms": statistics.median(latencies) * 1e3,
            "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1e3,
            "cpu_ms_per_job": cpu_ms}


def store_trained_model(url: str, budget_s: float) -> None:
    """Train the catalog's model on what the database holds and store it as version N+1."""
    import torch
    from sqlalchemy import select

    from shared.db import Database
    from shared.models import Catalog
    from shared.recommenders import store_model
    from worker.recommendation import training
    from worker.recommendation.cooccurrence import read_sequences
    from worker.recommendation.index import load_index
    from worker.recommendation.sequential import SequentialConfig

    torch.set_num_threads(1)
    db = Database(url)
    with db.session() as session:
        catalog_id = session.scalar(select(Catalog.id).where(Catalog.name == "office"))
    index = load_index(db, catalog_id, ann_min_items=2**62)
    data = training.split(list(read_sequences(db, catalog_id, index.position).values()))
    config = SequentialConfig(text_dim=index.vectors.shape[1])
    fitted = training.fit(data.training, data.validation, index, config, budget_s=budget_s,
                          max_epochs=200, seed=0)
    choice = training.choose_blend(fitted.model, index, data.training, data.validation, 0)
    with db.session() as session:
        version = store_model(session, catalog_id=catalog_id, job_id=None,
                              config=config.as_dict(), item_ids=index.ids,
                              blend=vars(choice.blend), metrics=choice.validation,
                              training_seconds=fitted.seconds, weights=fitted.model.to_bytes())
    db.dispose()
    print(f"  trained and stored model version {version} ({fitted.epochs} epochs, "
          f"{fitted.seconds:.0f}s)", flush=True)


def _redis_pid() -> int | None:
    found = subprocess.run(["pgrep", "-o", "redis-server"], capture_output=True, text=True)
    return int(found.stdout.split()[0]) if found.stdout.strip() else None


def bare_and_naive(histories: list[list[str]], naive_requests: int) -> tuple[float, float]:
    """Requests/s of the ranker alone, and of re-encoding every candidate per request."""
    import numpy as np

    from bench.recommendation_quality import build_index
    from shared.schemas.catalogs import CatalogItemIn, Filters
    from worker.models.embeddings import Embedder
    from worker.models.sources import embedding_source
    from worker.recommendation import cooccurrence, ranker

    embedder = Embedder.load(embedding_source(""), "cpu")
    index = build_index(embedder)
    training = [[index.position[i] for i in s[:-1]] for s in office_sequences().values()]
    matrix = cooccurrence.build(training, len(index))

    def entries(history, vectors):
        return [ranker.HistoryEntry(title=index.titles[index.position[i]], event="purchase",
                                    vector=vectors[index.position[i]],
                                    position=index.position[i]) for i in history]

    started = time.perf_counter()
    for history in histories:
        ranker.rank(index, entries(history, index.vectors), matrix, filters=Filters(), k=10,
                    exclude_seen=True, diversity=0.0)
    bare = len(histories) / (time.perf_counter() - started)

    texts = [CatalogItemIn(**item).embedded_text() for item in office_catalog_items()]
    started = time.perf_counter()
    for history in histories[:naive_requests]:
        vectors = embedder.encode(texts).astype(np.float32)  # no stored embeddings
        ranker.rank(index, entries(history, vectors), matrix, filters=Filters(), k=10,
                    exclude_seen=True, diversity=0.0)
    naive = naive_requests / (time.perf_counter() - started)
    return bare, naive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--naive-requests", type=int, default=2)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--notify", choices=["poll", "webhook"], default="poll",
                        help="clients poll every 50 ms, or wait for the completed webhook")
    parser.add_argument("--model-budget-s", type=float, default=60,
                        help="train a sequential model this long, then measure again; 0: no")
    parser.add_argument("--postgres", action="store_true",
                        help="a fresh database on the local PostgreSQL instead of SQLite")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="vitrine-recbench-"))
    histories = _shoppers(args.jobs)
    cores = os.cpu_count() or 1
    postgres = None
    if args.postgres:
        from tests.support.stack import PostgresDatabase

        postgres = PostgresDatabase()
        url = postgres.url
    else:
        url = f"sqlite:///{workdir / 'rec.db'}"
    key, _ = fresh_database(url)
    env = bench_env(DATABASE_URL=url, BROKER_URL=args.broker, VITRINE_TORCH_THREADS="1",
                    VITRINE_WEBHOOK_ALLOWLIST="127.0.0.1/32")
    port = free_port()
    api = serve("api.wsgi:app", env, port, workdir / "api.log")
    worker = start_worker(dict(env, VITRINE_LOG_LEVEL="INFO"), workdir / "worker.log", "-Q",
                          "cpu,embeddings,maintenance", "--concurrency", str(cores), "-n", "rec@%h",
                          ready="event=model_loaded kind=embedding")
    processes, receiver = [worker, api], None
    rows, with_model = {}, {}
    try:
        if args.notify == "webhook":
            processes.append(start_worker(dict(env, VITRINE_LOG_LEVEL="INFO"),
                                          workdir / "webhooks.log", "-Q", "webhooks", "--pool",
                                          "threads", "--concurrency", "16", "-n", "hooks@%h",
                                          ready=" ready."))
            receiver = Receiver().start()
        base = f"http://127.0.0.1:{port}"
        upload(base, key)
        run_jobs(base, key, histories[:10], 2, receiver)  # warm-up: caches filled
        watched = {"api": api.pid, "cpu worker": worker.pid, "redis": _redis_pid()}
        if receiver is not None:
            watched["webhooks worker"] = processes[-1].pid
        for concurrency in args.concurrency:
            rows[concurrency] = run_jobs(base, key, histories, concurrency, receiver,
                                         {k: v for k, v in watched.items() if v})
            print(f"  system, concurrency {concurrency}: {rows[concurrency]}", flush=True)
        if args.model_budget_s > 0:
            store_trained_model(url, args.model_budget_s)
            run_jobs(base, key, histories[:10], 2, receiver)  # warm-up: the model loaded
            for concurrency in args.concurrency:
                with_model[concurrency] = run_jobs(base, key, histories, concurrency, receiver,
                                                   {k: v for k, v in watched.items() if v})
                print(f"  with the model, concurrency {concurrency}: "
                      f"{with_model[concurrency]}", flush=True)
    finally:
        for process in processes:
            stop(process)
        if receiver is not None:
            receiver.stop()
        subprocess.run(["redis-cli", "-u", args.broker, "flushdb"], capture_output=True)
        if postgres is not None:
            postgres.drop()
    bare, naive = bare_and_naive(histories, args.naive_requests)
    shutil.rmtree(workdir, ignore_errors=True)

    print(f"\nrecommendation, Amazon Office ({len(office_catalog_items())} items), "
          f"{args.jobs} jobs per row, {cores} cores, cpu worker with {cores} processes, "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}, clients "
          f"{'wait for webhooks' if receiver else 'poll every 50 ms'}")
    print(f"{'clients':>7} | {'jobs/s':>7} {'p50 ms':>7} {'p99 ms':>7} | {'system/bare':>11} | "
          f"{'system/naive':>12}")
    for concurrency, row in rows.items():
        print(f"{concurrency:>7} | {row['jobs_per_s']:>7.1f} {row['p50_ms']:>7.1f} "
              f"{row['p99_ms']:>7.1f} | {row['jobs_per_s'] / bare:>11.3f} | "
              f"{row['jobs_per_s'] / naive:>12.1f}")
    for concurrency, row in rows.items():
        spent = ", ".join(f"{k} {v}" for k, v in row["cpu_ms_per_job"].items())
        print(f"CPU ms per job at {concurrency} clients: {spent}")
    for concurrency, row in with_model.items():
        before = rows[concurrency]
        print(f"with the sequential model, {concurrency} clients: {row['jobs_per_s']:.1f} "
              f"jobs/s ({row['jobs_per_s'] / before['jobs_per_s']:.2f}x without), p50 "
              f"{row['p50_ms']:.1f} ms ({row['p50_ms'] / before['p50_ms']:.2f}x), p99 "
              f"{row['p99_ms']:.1f} ms")
    print(f"bare ranker: {bare:.1f} requests/s; naive (re-encode {len(office_catalog_items())} "
          f"candidates per request): {naive:.3f} requests/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
