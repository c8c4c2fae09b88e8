"""One batch of N jobs vs N single POSTs, in the same run, through the client package.

    nice -n 10 python bench/batches.py [--jobs 10000] [--e2e-jobs 300] [--clients 8]

Submit phase (no worker; a Redis database nobody reads): N `user_profile` jobs as N POST
/v1/jobs from --clients threads, then the same N as one JSONL batch; for each, the wall time
and the CPU the API's gunicorn processes spent (from /proc), per job. End-to-end phase (a
second API and a real cpu worker, 2 processes): --e2e-jobs jobs each way, from the first
submit until the last is terminal (the client's long-poll waits), as jobs/s. Prints the
ratios single/batch. SQLite (WAL) by default; --database for PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
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
from vitrine_client import Vitrine  # noqa: E402

EVENTS = [
    {"type": "purchase", "timestamp": "2011-11-01T10:00:00Z", "item_id": "22837",
     "title": "HOT WATER BOTTLE BABUSHKA", "price": 4.65, "quantity": 8, "order_id": "536425"},
    {"type": "view", "timestamp": "2011-11-20T09:00:00Z", "title": "CHILLI LIGHTS"},
]


def _input(n: int) -> dict:
    return {"as_of": "2011-12-10T00:00:00Z",
            "events": [dict(EVENTS[0], order_id=f"o{n}"), EVENTS[1]]}


def _singles(vitrine: Vitrine, count: int, clients: int, tag: str) -> list[str]:
    with ThreadPoolExecutor(clients) as pool:
        jobs = pool.map(lambda n: vitrine.jobs.create("user_profile", _input(n))["id"],
                        range(count))
        return list(jobs)


def _lines(count: int, tag: str) -> list[dict]:
    return [{"custom_id": f"{tag}-{n}", "type": "user_profile", "input": _input(n)}
            for n in range(count)]


def _submit_phase(url: str, key: str, api_pid: int, jobs: int, clients: int) -> dict:
    results = {}
    with Vitrine(url, key, timeout=120) as vitrine:
        _singles(vitrine, 50, clients, "warm")  # imports, connections, caches
        vitrine.batches.create(_lines(50, "warm"))
        for name in ("single", "batch"):
            cpu, started = cpu_seconds(api_pid), time.perf_counter()
            if name == "single":
                _singles(vitrine, jobs, clients, name)
            else:
                batch = vitrine.batches.create(_lines(jobs, name))
                assert batch["request_counts"]["total"] == jobs, batch
            results[name] = {"submit_s": time.perf_counter() - started,
                             "cpu_ms_per_job": (cpu_seconds(api_pid) - cpu) * 1000 / jobs}
    return results


def _e2e_phase(url: str, key: str, jobs: int, clients: int) -> dict:
    results = {}
    with Vitrine(url, key, timeout=120) as vitrine:
        vitrine.jobs.wait(vitrine.jobs.create("user_profile", _input(0))["id"], timeout=300)
        started = time.perf_counter()
        ids = _singles(vitrine, jobs, clients, "e2e-single")
        with ThreadPoolExecutor(32) as pool:
            statuses = list(pool.map(lambda i: vitrine.jobs.wait(i)["status"], ids))
        results["single"] = {"jobs_per_s": jobs / (time.perf_counter() - started),
                             "succeeded": statuses.count("succeeded")}
        started = time.perf_counter()
        batch = vitrine.batches.create(_lines(jobs, "e2e-batch"))
        ended = vitrine.batches.wait(batch["id"])
        results["batch"] = {"jobs_per_s": jobs / (time.perf_counter() - started),
                            "succeeded": ended["request_counts"]["succeeded"]}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--e2e-jobs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database", help="a PostgreSQL URL prefix (…/dbname is appended)")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379",
                        help="Redis; databases 11 and 12 are used and flushed")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="vitrine-bench-batches-"))
    processes = []
    try:
        brokers = {"submit": f"{args.broker}/11", "e2e": f"{args.broker}/12"}
        urls = {name: f"sqlite:///{workdir / name}.db" for name in brokers}
        if args.database:
            urls = _postgres(args.database)
        servers = {}
        for name in brokers:
            key, _ = fresh_database(urls[name])
            env = bench_env(DATABASE_URL=urls[name], BROKER_URL=brokers[name])
            port = free_port()
            processes.append(serve("api.wsgi:app", env, port, workdir / f"api-{name}.log"))
            servers[name] = (f"http://127.0.0.1:{port}", key, processes[-1].pid, env)
        url, key, pid, _ = servers["submit"]
        submit = _submit_phase(url, key, pid, args.jobs, args.clients)
        url, key, _, env = servers["e2e"]
        processes.append(start_worker(dict(env, VITRINE_LOG_LEVEL="INFO"), workdir / "worker.log",
                                      "-Q", "cpu", "-c", "2",
                                      ready="event=model_loaded kind=embedding"))
        e2e = _e2e_phase(url, key, args.e2e_jobs, args.clients)
    finally:
        for process in processes:
            stop(process)
        for name in ("11", "12"):
            subprocess.run(["redis-cli", "-u", f"{args.broker}/{name}", "flushdb"],
                           capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{args.jobs} user_profile jobs, {args.clients} client threads for single POSTs, "
          f"{'PostgreSQL' if args.database else 'SQLite WAL'}, {os.cpu_count()} cores")
    print(f"{'':>8} | {'submit s':>9} | {'API CPU ms/job':>14} | e2e jobs/s ({args.e2e_jobs})")
    for name in ("single", "batch"):
        print(f"{name:>8} | {submit[name]['submit_s']:>9.2f} | "
              f"{submit[name]['cpu_ms_per_job']:>14.3f} | {e2e[name]['jobs_per_s']:>8.1f} "
              f"({e2e[name]['succeeded']} succeeded)")
    print(f"{'ratio':>8} | {submit['single']['submit_s'] / submit['batch']['submit_s']:>8.1f}x "
          f"| {submit['single']['cpu_ms_per_job'] / submit['batch']['cpu_ms_per_job']:>13.1f}x "
          f"| {e2e['batch']['jobs_per_s'] / e2e['single']['jobs_per_s']:>7.2f}x "
          "(single/batch for time and CPU, batch/single for jobs/s)")
    return 0


def _postgres(prefix: str) -> dict[str, str]:
    import uuid

    import psycopg

    base = prefix.rsplit("/", 1)[0]
    names = {name: f"vitrine_bench_{name}_{uuid.uuid4().hex[:6]}" for name in ("submit", "e2e")}
    with psycopg.connect(prefix, autocommit=True) as connection:
        for database in names.values():
            connection.execute(f'CREATE DATABASE "{database}"')
    return {name: f"{base}/{database}" for name, database in names.items()}


if __name__ == "__main__":
    sys.exit(main())
