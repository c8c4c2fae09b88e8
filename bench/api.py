"""Front-door throughput: POST /v1/jobs through gunicorn vs a bare insert-and-enqueue route.

    python bench/api.py [--requests 1000] [--concurrency 1 8]

Starts both servers itself (the API's gunicorn settings, api/gunicorn_conf.py, for both; fresh
SQLite files in WAL mode; a Redis database no worker reads), sends keep-alive requests from
separate client processes, alternating between the servers in slices so that other load on
the machine weighs on both alike, and prints requests/s, p50 and p99 for each, and the ratio
real/bare, all from one run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import GUNICORN_FLAGS, free_port, fresh_database, serve  # noqa: E402

BODY = json.dumps({"type": "user_profile", "input": {"as_of": "2011-12-10T00:00:00Z", "events": [
    {"type": "purchase", "timestamp": "2011-11-01T10:00:00Z", "item_id": "22837",
     "title": "HOT WATER BOTTLE BABUSHKA", "price": 4.65, "quantity": 8, "order_id": "536425"},
    {"type": "purchase", "timestamp": "2011-11-01T10:00:00Z", "item_id": "22585",
     "title": "PACK OF 6 BIRDY GIFT TAGS", "price": 1.25, "quantity": 12, "order_id": "536425"},
    {"type": "view", "timestamp": "2011-11-20T09:00:00Z", "title": "CHILLI LIGHTS"},
]}}).encode()


def _client(port: int, path: str, headers: dict, count: int, queue: mp.Queue) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors = [], 0
    for _ in range(count):
        started = time.perf_counter()
        connection.request("POST", path, body=BODY, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        errors += response.status != 202
    connection.close()
    queue.put((latencies, errors))


def measure(port: int, path: str, headers: dict, total: int, concurrency: int) -> dict:
    queue: mp.Queue = mp.Queue()
    share = [total // concurrency + (i < total % concurrency) for i in range(concurrency)]
    clients = [mp.Process(target=_client, args=(port, path, headers, n, queue)) for n in share]
    started = time.perf_counter()
    for client in clients:
        client.start()
    results = [queue.get() for _ in clients]
    elapsed = time.perf_counter() - started
    for client in clients:
        client.join()
    latencies = sorted(seconds for r in results for seconds in r[0])
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "errors": sum(r[1] for r in results),
        "count": len(latencies), "elapsed": elapsed, "latencies": latencies,
    }


ROUNDS = 5


def measure_interleaved(ports: dict, targets: dict, total: int, concurrency: int) -> dict:
    """`total` requests per server in ROUNDS alternating slices, so that whatever else the
    machine does at the time weighs on both sides of the ratio alike."""
    parts: dict[str, list[dict]] = {name: [] for name in targets}
    for _ in range(ROUNDS):
        for name, (path, headers) in targets.items():
            parts[name].append(measure(ports[name], path, headers, total // ROUNDS,
                                       concurrency))
    return {name: {
        "rps": sum(p["count"] for p in runs) / sum(p["elapsed"] for p in runs),
        "p50_ms": statistics.median(s for p in runs for s in p["latencies"]) * 1000,
        "p99_ms": _percentile(sorted(s for p in runs for s in p["latencies"]), 0.99) * 1000,
        "errors": sum(p["errors"] for p in runs),
    } for name, runs in parts.items()}


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[int(share * (len(ordered) - 1))]


def _cells(result: dict) -> str:
    return f"{result['rps']:>10.0f} {result['p50_ms']:>7.1f} {result['p99_ms']:>7.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/9",
                        help="a Redis database no worker consumes")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="vitrine-bench-"))
    servers, rows = [], []
    try:
        urls = {name: f"sqlite:///{workdir / name}.db" for name in ("real", "bare")}
        keys, tenant_id = {}, None
        for name, url in urls.items():
            keys[name], tenant_id = fresh_database(url)
        # Throughput is measured, not the tenant's rate limit or its quota of active jobs
        # (nothing consumes: every job stays queued).
        env = dict(os.environ, BROKER_URL=args.broker, VITRINE_LOG_LEVEL="WARNING",
                   VITRINE_TENANT_SUBMIT_RATE="1000000", VITRINE_TENANT_SUBMIT_BURST="1000000",
                   VITRINE_TENANT_MAX_ACTIVE_JOBS="1000000")
        ports = {"real": free_port(), "bare": free_port()}
        servers.append(serve("api.wsgi:app", dict(env, DATABASE_URL=urls["real"]),
                              ports["real"], workdir / "real.log"))
        servers.append(serve("bench.bare_app:app", dict(env, DATABASE_URL=urls["bare"],
                                                         BENCH_TENANT_ID=str(tenant_id)),
                              ports["bare"], workdir / "bare.log"))
        targets = {
            "real": ("/v1/jobs", {"Content-Type": "application/json",
                                  "Authorization": f"Bearer {keys['real']}"}),
            "bare": ("/bare/jobs", {"Content-Type": "application/json"}),
        }
        for name, (path, headers) in targets.items():  # warm both up: imports, connections
            measure(ports[name], path, headers, 50, 2)
        for concurrency in args.concurrency:
            result = measure_interleaved(ports, targets, args.requests, concurrency)
            rows.append((concurrency, result))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        subprocess.run(["redis-cli", "-u", args.broker, "flushdb"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"POST /v1/jobs, {args.requests} requests per row, gunicorn {' '.join(GUNICORN_FLAGS)}, "
          f"SQLite WAL, {os.cpu_count()} cores")
    print(f"{'clients':>7} | {'real req/s':>10} {'p50 ms':>7} {'p99 ms':>7} | "
          f"{'bare req/s':>10} {'p50 ms':>7} {'p99 ms':>7} | {'real/bare':>9} | errors")
    for concurrency, result in rows:
        real, bare = result["real"], result["bare"]
        cells = [f"{concurrency:>7}", _cells(real), _cells(bare),
                 f"{real['rps'] / bare['rps']:>9.2f}", str(real["errors"] + bare["errors"])]
        print(" | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
