"""Generation throughput: the whole system vs the bare model, batched vs unbatched.

    python bench/generation.py [--sizes 1 4 8 16] [--max-words 40]

In one run, on real Amazon Office products:
1. the bare model: the same chat prompts through `model.generate` at each batch size;
2. the system: N concurrent `product_description` jobs through the HTTP API (gunicorn),
   Redis, a gpu-queue worker (threads pool feeding the dynamic batcher), the database;
3. the system with batching off (VITRINE_GENERATION_MAX_BATCH_SIZE=1) at the largest size.
Prints aggregate generated tokens/s and jobs/s for each and the ratios. The bare side runs
exactly the prompts the jobs send (an opening and the first facts, each with the worker's
candidates), in batches of 16 rows as the batcher would; it generates to the token budget,
where the system stops a row at the end of its sentence, so compare jobs/s too.
"""

from __future__ import annotations

import argparse
import gc
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
    free_port,
    fresh_database,
    serve,
    start_worker,
    stop,
)
from shared.schemas.generation import GenerationOptions, Product  # noqa: E402
from shared.settings import Settings  # noqa: E402
from tests.support.events import office_products_with_descriptions  # noqa: E402
from vitrine_client import Vitrine  # noqa: E402
from worker.generation.copywriting import product_units  # noqa: E402
from worker.generation.engine import REPETITION_PENALTY, TOP_P  # noqa: E402
from worker.generation.facts import FactSheet  # noqa: E402

TEMPERATURE = 0.7
ROWS_PER_BATCH = 16


def _products(count: int) -> list[dict]:
    return office_products_with_descriptions()[:count]


def _prompts(product: dict, max_words: int) -> list[tuple[list[dict[str, str]], int]]:
    """(messages, max_new_tokens) for every row a description job of `product` generates."""
    options = GenerationOptions(max_words=max_words)
    _, specs = product_units(FactSheet.from_product(Product(**product)), options, 0, max_words)
    candidates = Settings.from_env().candidates_for("cpu")
    return [(spec.template.messages(**spec.values), spec.max_new_tokens)
            for spec in specs for _ in range(candidates)]


def bare_model(sizes: list[int], max_words: int) -> dict[int, dict]:
    """The model alone: one left-padded sampling `generate` per batch."""
    import torch

    from worker.models.generation import Generator
    from worker.models.sources import generation_source

    torch.set_num_threads(os.cpu_count() or 1)
    generator = Generator.load(generation_source("", ""), "cpu")
    tokenizer, model = generator.tokenizer, generator.model
    products = _products(max(sizes))

    def generate(rows: list[tuple[list[dict[str, str]], int]]) -> int:
        prompts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
                   for m, _ in rows]
        encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            output = model.generate(**encoded, do_sample=True, temperature=TEMPERATURE,
                                    top_p=TOP_P, repetition_penalty=REPETITION_PENALTY,
                                    max_new_tokens=max(n for _, n in rows),
                                    pad_token_id=tokenizer.pad_token_id)
        tokens = 0
        for row in output[:, encoded["input_ids"].shape[1]:].tolist():
            eos = tokenizer.eos_token_id
            tokens += row.index(eos) if eos in row else len(row)
        return tokens

    def run(batch: list[dict]) -> tuple[int, float]:
        rows = [row for p in batch for row in _prompts(p, max_words)]
        started = time.perf_counter()
        tokens = sum(generate(rows[i:i + ROWS_PER_BATCH])
                     for i in range(0, len(rows), ROWS_PER_BATCH))
        return tokens, time.perf_counter() - started

    run(products[:2])  # warm-up
    results = {}
    for size in sizes:
        tokens, elapsed = run(products[:size])
        results[size] = {"tokens_per_s": tokens / elapsed, "jobs_per_s": size / elapsed}
        print(f"  bare model, batch {size:2d}: {tokens} tokens in {elapsed:.1f}s", flush=True)
    return results  # the model is freed with this frame, before the system phase


def system_round(api: str, key: str, size: int, max_words: int, offset: int) -> dict:
    """`size` concurrent jobs over HTTP; wall time from first submit to last result."""
    products = _products(offset + size)[offset:offset + size]
    started = time.perf_counter()
    with Vitrine(api, key, timeout=60) as vitrine, ThreadPoolExecutor(size) as pool:
        jobs = list(pool.map(lambda item: vitrine.jobs.create("product_description", {
            "product": item[1], "options": {"max_words": max_words, "seed": offset + item[0],
                                            "temperature": TEMPERATURE}}), enumerate(products)))
        # The client's long-poll answers each job as it ends: no polling loop here.
        finished = {job["id"]: job for job in pool.map(lambda j: vitrine.jobs.wait(j["id"]),
                                                       jobs)}
    elapsed = time.perf_counter() - started
    tokens = sum(g["tokens"] for job in finished.values()
                 for g in (job["result"] or {}).get("generations", []))
    batch_sizes = [g["batch_size"] for job in finished.values()
                   for g in (job["result"] or {}).get("generations", [])]
    statuses = [job["status"] for job in finished.values()]
    print(f"  system, {size:2d} concurrent: {tokens} tokens in {elapsed:.1f}s, batches of "
          f"{max(batch_sizes, default=0)}, {statuses.count('succeeded')}/{size} succeeded",
          flush=True)
    return {"tokens_per_s": tokens / elapsed, "jobs_per_s": size / elapsed}


def system(sizes: list[int], max_words: int, workdir: Path, broker: str,
           batch_size: int) -> dict[int, dict]:
    url = f"sqlite:///{workdir / f'system-{batch_size}.db'}"
    key, _ = fresh_database(url)
    env = bench_env(DATABASE_URL=url, BROKER_URL=broker,
                    VITRINE_TORCH_THREADS=str(os.cpu_count() or 1),
                    VITRINE_GENERATION_MAX_BATCH_SIZE=str(batch_size))
    port = free_port()
    api = serve("api.wsgi:app", env, port, workdir / "api.log")
    worker = start_worker(dict(env, VITRINE_LOG_LEVEL="INFO"), workdir / "worker.log", "-Q",
                          "gpu", "--pool", "threads", "--concurrency", "16", "-n",
                          f"bench{batch_size}@%h", ready=" ready.")
    try:
        base = f"http://127.0.0.1:{port}"
        system_round(base, key, 2, max_words, 0)  # warm-up
        offset, results = 2, {}
        for size in sizes:
            results[size] = system_round(base, key, size, max_words, offset)
            offset += size
        return results
    finally:
        stop(worker)
        stop(api)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--max-words", type=int, default=40)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/10")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="vitrine-genbench-"))
    largest = max(args.sizes)
    try:
        print("bare model", flush=True)
        bare = bare_model(args.sizes, args.max_words)
        gc.collect()
        print("system, batching on", flush=True)
        batched = system(args.sizes, args.max_words, workdir, args.broker, batch_size=16)
        print("system, batching off", flush=True)
        unbatched = system([largest], args.max_words, workdir, args.broker, batch_size=1)
    finally:
        subprocess.run(["redis-cli", "-u", args.broker, "flushdb"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\nproduct_description, max_words {args.max_words}, {os.cpu_count()} cores, "
          "SmolLM2-135M-Instruct on CPU; tokens/s are generated tokens, all jobs together")
    print(f"{'jobs':>4} | {'bare tok/s':>10} | {'system tok/s':>12} {'jobs/s':>7} | "
          f"{'system/bare':>11}")
    for size in args.sizes:
        b, s = bare[size], batched[size]
        print(f"{size:>4} | {b['tokens_per_s']:>10.1f} | {s['tokens_per_s']:>12.1f} "
              f"{s['jobs_per_s']:>7.2f} | {s['tokens_per_s'] / b['tokens_per_s']:>11.2f}")
    off = unbatched[largest]
    print(f"batching off, {largest} jobs: {off['tokens_per_s']:.1f} tok/s, "
          f"{off['jobs_per_s']:.2f} jobs/s; batched/unbatched = "
          f"{batched[largest]['tokens_per_s'] / off['tokens_per_s']:.2f}x tokens/s, "
          f"{batched[largest]['jobs_per_s'] / off['jobs_per_s']:.2f}x jobs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
