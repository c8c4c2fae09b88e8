"""Personalised recommendations through the whole stack: jobs/s, latency, who wrote the words.

    python bench/personalised.py [--shoppers 50] [--k 5] [--channel onsite] [--read 20]

Starts the API (gunicorn), a cpu worker and a gpu worker as scripts/up does, uploads the
Amazon Office catalog and its shoppers' events, then submits one `personalised_recommendations`
job per shopper (their purchases, the held-out last item removed) all at once, and reports
jobs/s, p50/p99 latency (created -> finished), the time each step took, and the share of
pitch words the model wrote vs the templates. `--read N` prints N pitches with the history
they connect to, for a person to read; `--out FILE` keeps every result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "clients" / "python")]

from bench.recommendation import _call  # noqa: E402
from bench.stack import (  # noqa: E402
    bench_env,
    free_port,
    fresh_database,
    serve,
    start_worker,
    stop,
)
from tests.support.events import office_slice  # noqa: E402
from vitrine_client import Vitrine  # noqa: E402

START = datetime(2024, 1, 1)


def upload(api: str, key: str, items: list[dict], sequences: dict[str, list[str]]) -> None:
    """The catalog and its shoppers' events (each without its last item), embedded."""
    for start in range(0, len(items), 1000):
        _call("PUT", f"{api}/v1/catalogs/office/items", key, {"items": items[start:start + 1000]})
    events = [{"shopper_id": u, "item_id": i} for u, s in sequences.items() for i in s[:-1]]
    for start in range(0, len(events), 2_000):
        _call("POST", f"{api}/v1/catalogs/office/events", key,
              {"events": events[start:start + 2_000]})
    started = time.perf_counter()
    while _call("GET", f"{api}/v1/catalogs/office", key)["embedded"] < len(items):
        time.sleep(0.5)
    print(f"  {len(items)} items embedded by the worker in {time.perf_counter() - started:.1f}s")


def shopper_inputs(items: list[dict], sequences: dict[str, list[str]], count: int, k: int,
                   channel: str) -> list[dict]:
    prices = {i["id"]: i["price"] for i in items}
    shoppers = [s[:-1][-20:] for s in sequences.values() if len(s) >= 4][:count]
    return [{"catalog_id": "office", "k": k, "channel": channel, "seed": n,
             "events": [{"type": "purchase", "item_id": item, "price": prices[item],
                         "timestamp": (START + timedelta(days=day)).isoformat() + "Z"}
                        for day, item in enumerate(history)]}
            for n, history in enumerate(shoppers)]


def run(api: str, key: str, inputs: list[dict]) -> tuple[list[dict], float]:
    client = Vitrine(api, key, timeout=120)

    def one(job_input: dict) -> dict:
        job = client.jobs.create("personalised_recommendations", job_input)
        return client.jobs.wait(job["id"])

    started = time.perf_counter()
    with ThreadPoolExecutor(len(inputs)) as pool:  # every shopper at once: a campaign
        jobs = list(pool.map(one, inputs))
    return jobs, time.perf_counter() - started


def latency(job: dict) -> float:
    timings = job["timings"]
    return (datetime.fromisoformat(timings["finished_at"])
            - datetime.fromisoformat(timings["created_at"])).total_seconds()


def report(jobs: list[dict], elapsed: float, read: int) -> None:
    done = [j for j in jobs if j["status"] == "succeeded"]
    failed = [j for j in jobs if j["status"] != "succeeded"]
    latencies = sorted(latency(j) for j in done)
    items = [i for j in done for i in j["result"]["items"]]
    words = lambda parts: sum(len(p["text"].split()) for p in parts)  # noqa: E731
    model_words = sum(words([p for p in i["pitch_sources"] if p["source"] == "model"])
                      for i in items)
    all_words = sum(words(i["pitch_sources"]) for i in items)
    print(f"jobs: {len(done)} succeeded, {len(failed)} failed "
          f"{sorted({(j['error'] or {}).get('code') for j in failed})}")
    if latencies:
        print(f"jobs/s {len(done) / elapsed:.3f}  p50 {statistics.median(latencies):.1f}s  "
              f"p99 {latencies[int(0.99 * (len(latencies) - 1))]:.1f}s  (all {elapsed:.0f}s)")
        for name in ("rank_s", "between_steps_s", "write_s", "batch_wait_s", "generation_s"):
            values = sorted(j["result"]["timings"].get(name) or 0 for j in done)
            print(f"  {name:16} p50 {statistics.median(values):6.1f}s  max {values[-1]:6.1f}s")
    print(f"pitches: {len(items)}; model-written words {model_words}/{all_words} "
          f"({model_words / max(1, all_words):.0%}); pitches with a model sentence "
          f"{sum(any(p['source'] == 'model' for p in i['pitch_sources']) for i in items)}; "
          f"naming the shopper's own item {sum(bool(i['because']) for i in items)}, "
          f"an interest {sum(bool(i['interest']) for i in items)}")
    for item in items[:read]:
        because = item["because"]["name"] if item["because"] else item["interest"]
        print(f"- [{item['title'][:60]}] (link: {because})\n    {item['pitch']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--channel", default="onsite")
    parser.add_argument("--read", type=int, default=20)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--max-item", type=int, default=None,
                        help="only Office items with a smaller id (a quicker catalog)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="vitrine-personalised-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    key, _ = fresh_database(url)
    cores = os.cpu_count() or 1
    env = bench_env(DATABASE_URL=url, BROKER_URL=args.broker)
    port = free_port()
    api = serve("api.wsgi:app", env, port, workdir / "api.log")
    info = dict(env, VITRINE_LOG_LEVEL="INFO")
    cpu_procs = max(1, cores // 2)
    processes = [api]
    try:
        processes.append(start_worker(
            dict(info, VITRINE_TORCH_THREADS="1"), workdir / "cpu.log",
            "-Q", "cpu,embeddings,maintenance",
            "--concurrency", str(cpu_procs), "-n", "cpu@%h",
            ready="event=model_loaded kind=embedding"))
        processes.append(start_worker(
            dict(info, VITRINE_TORCH_THREADS=str(max(1, cores - cpu_procs))),
            workdir / "gpu.log", "-Q", "gpu", "--pool", "threads", "--concurrency", "16",
            "-n", "gpu@%h", ready=" ready."))
        base = f"http://127.0.0.1:{port}"
        items, sequences = office_slice(args.max_item or 10**9)
        upload(base, key, items, sequences)
        inputs = shopper_inputs(items, sequences, args.shoppers, args.k, args.channel)
        print(f"{len(inputs)} shoppers x k={args.k}, channel {args.channel}, {cores} cores")
        jobs, elapsed = run(base, key, inputs)
        report(jobs, elapsed, args.read)
        if args.out:
            args.out.write_text(json.dumps(jobs, indent=1, ensure_ascii=False))
    finally:
        for process in reversed(processes):
            stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
