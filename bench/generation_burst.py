"""The burst workload of bench/generation.py: mixed generation jobs submitted at once.

Each job type on real Office products (social replies to the messages copy_quality uses),
the prompts those jobs send (recorded by running the same handlers in process against a
backend that only writes them down), a stack like scripts/up's (gunicorn API, one gpu
worker with a threads pool of 16), and what its worker log says about batch fill.
"""

from __future__ import annotations

import contextlib
import re
import statistics
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from bench.copy_quality import REPLY_SETTINGS, SOCIAL
from bench.stack import bench_env, free_port, fresh_database, serve, start_worker, stop
from tests.support.events import office_products_with_descriptions
from vitrine_client import Vitrine

FORMATS = ["article", "email", "social_post", "video_script"]
FINAL = {"succeeded", "failed", "canceled"}
# The first products are the tests' own; the benchmark reads others.
SKIP_PRODUCTS = 20


def burst_jobs(count: int) -> list[tuple[str, dict]]:
    """`count` jobs cycling through the four generation types, each on its own product(s)."""
    products = office_products_with_descriptions()[SKIP_PRODUCTS:]
    jobs = []
    for i in range(count):
        product = products[i % len(products)]
        kind = i % 4
        if kind == 0:
            jobs.append(("product_description",
                         {"product": product, "options": {"max_words": 40, "seed": i}}))
        elif kind == 1:
            jobs.append(("seo_metadata", {"product": product, "options": {"seed": i}}))
        elif kind == 2:
            jobs.append(("marketing_copy", {
                "format": FORMATS[(i // 4) % len(FORMATS)], "topic": "Office essentials",
                "products": [product, products[(i + 1) % len(products)]],
                "options": {"max_words": 60, "seed": i}}))
        else:
            jobs.append(("social_reply", {
                "platform": "instagram", "message": SOCIAL[(i // 4) % len(SOCIAL)][0],
                "product": product, "reply_settings": REPLY_SETTINGS, "options": {"seed": i}}))
    return jobs


class _Recorder:
    """A generation backend that writes requests down and answers each with nothing, so the
    handlers run their ordinary path (falling back to the facts) without a model."""

    def __init__(self, source) -> None:
        self.source = source
        self.requests: list = []

    def submit(self, request) -> Future:
        from worker.generation.engine import GenerationOutput

        self.requests.append(request)
        request.future.set_result(GenerationOutput(text="", tokens=0, finish_reason="stop",
                                                   batch_size=1))
        return request.future


def recorded_prompts(jobs: list[tuple[str, dict]], device: str) -> list[list]:
    """Per job, the GenerationRequests its handler submits (the worker's own code)."""
    from shared.settings import Settings
    from worker.contract import JobContext
    from worker.generation.family import GenerationFamily
    from worker.models.registry import ModelRegistry, resolve_sources
    from worker.models.sources import generation_source

    class QuietContext(JobContext):
        def report_progress(self, *args, **kwargs) -> None:
            pass

    settings = Settings.from_env()
    registry = ModelRegistry.load(resolve_sources(["embedding"], settings), device, settings)
    registry.generation = recorder = _Recorder(generation_source("", ""))
    family = GenerationFamily()
    family.setup(settings, device, registry)
    prompts = []
    for kind, job_input in jobs:
        before = len(recorder.requests)
        context = QuietContext(job_id=None, job_type=kind, job_input=job_input, tenant_id=None,
                               db=None, settings=settings, soft_limit_s=600)
        with contextlib.suppress(Exception):  # empty text may fail a job: its prompts count
            family.handler(kind)(context)
        prompts.append(recorder.requests[before:])
    return prompts


@contextlib.contextmanager
def stack(workdir: Path, broker: str, name: str, **settings: str) -> Iterator[tuple]:
    """A fresh SQLite database, the API under gunicorn and one gpu worker as scripts/up
    starts it (threads pool of 16 unless settings say CONCURRENCY); yields (url, key, log)."""
    concurrency = settings.pop("CONCURRENCY", "16")
    url = f"sqlite:///{workdir / f'{name}.db'}"
    key, _ = fresh_database(url)
    env = bench_env(DATABASE_URL=url, BROKER_URL=broker, VITRINE_LOG_LEVEL="INFO", **settings)
    port = free_port()
    api = serve("api.wsgi:app", dict(env, VITRINE_LOG_LEVEL="WARNING"), port,
                workdir / f"{name}-api.log")
    log = workdir / f"{name}-worker.log"
    try:
        worker = start_worker(env, log, "-Q", "gpu", "--pool", "threads", "--concurrency",
                              concurrency, "-n", f"{name}@%h", ready=" ready.",
                              timeout=900)  # loading two models takes minutes on a busy CPU
    except BaseException:
        stop(api)
        raise
    try:
        yield f"http://127.0.0.1:{port}", key, log
    finally:
        stop(worker)
        stop(api)


def submit_and_wait(api: str, key: str, jobs: list[tuple[str, dict]]) -> list[dict]:
    """Submit every job at once (16 client threads) and wait for each with the client's
    long-poll (it answers as each job ends: no polling loop)."""
    with Vitrine(api, key, timeout=120) as vitrine, \
            ThreadPoolExecutor(min(16, len(jobs))) as pool:
        ids = list(pool.map(lambda job: vitrine.jobs.create(job[0], job[1])["id"], jobs))
        views = list(pool.map(vitrine.jobs.wait, ids))
    assert all(v["status"] in FINAL for v in views), [v["status"] for v in views]
    return views


def _at(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarise(views: list[dict]) -> dict:
    """Latency (created -> finished), outcomes, generated tokens over the burst's span."""
    latencies = [_at(v["timings"]["finished_at"]) - _at(v["timings"]["created_at"])
                 for v in views]
    span = (max(_at(v["timings"]["finished_at"]) for v in views)
            - min(_at(v["timings"]["created_at"]) for v in views))
    codes = [v["error"]["code"] for v in views if v["error"]]
    generations = [g for v in views for g in (v["result"] or {}).get("generations", [])]
    tokens = sum(g["tokens"] for g in generations)
    return {
        "jobs": len(views), "span_s": span, "p50_s": percentile(latencies, 50),
        "p99_s": percentile(latencies, 99), "succeeded": sum(v["status"] == "succeeded"
                                                             for v in views),
        "timeouts": codes.count("timeout"), "deadline_exceeded": codes.count("deadline_exceeded"),
        "other_failures": sorted(c for c in codes if c not in {"timeout", "deadline_exceeded"}),
        "rows": len(generations), "tokens": tokens, "tokens_per_s": tokens / span,
        "jobs_per_s": len(views) / span,
        "batch_wait_p50_s": percentile([(v["result"] or {}).get("timings", {}).get(
            "batch_wait_s", 0.0) for v in views if v["result"]], 50),
    }


STATS = re.compile(r"event=batcher_stats steps=(\d+) row_steps=(\d+) step_s=([\d.]+)")


def batcher_stats(log: Path) -> tuple[int, int, float]:
    """The last cumulative (steps, row_steps, step seconds) the worker logged."""
    found = STATS.findall(log.read_text())
    if not found:
        return 0, 0, 0.0
    steps, rows, seconds = found[-1]
    return int(steps), int(rows), float(seconds)


def stats_between(before: tuple[int, int, float], after: tuple[int, int, float]) -> dict:
    steps, rows, seconds = (a - b for a, b in zip(after, before, strict=True))
    return {"steps": steps, "row_steps": rows, "rows_per_step": rows / steps if steps else 0.0,
            "steps_per_s": steps / seconds if seconds else 0.0}
