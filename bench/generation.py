"""Generation throughput and latency: the whole system vs the bare model, in one run.

    python bench/generation.py [--sizes 1 4 8 16] [--max-words 40] [--device cpu|cuda]
    python bench/generation.py --burst [N] [--threads T]       # N mixed jobs at once
    python bench/generation.py --thread-study                  # torch threads vs cpu load

Sizes mode, on real Amazon Office products:
1. the bare model: the same chat prompts through `model.generate` at each batch size;
2. the system: N concurrent `product_description` jobs through the HTTP API (gunicorn),
   Redis, a gpu-queue worker (threads pool feeding the batcher), the database;
3. the system with batching off (VITRINE_GENERATION_MAX_BATCH_SIZE=1) at the largest size.
Prints aggregate generated tokens/s, jobs/s and p50/p99 latency for each and the ratios.
The bare side runs exactly the prompts the jobs send (each with the worker's candidates),
in batches of the worker's batch size; it generates to the token budget, where the system
stops a row at the end of its sentence, so compare jobs/s too. With `--device cuda` the
model runs in fp16 on the GPU at batch sizes up to 64 (bench/gpu.sh); `--device cpu` runs
the same code on the CPU at small sizes. All cores go to torch unless --threads says.

Burst mode: N mixed jobs (product_description, seo_metadata, marketing_copy, social_reply in
turn, on Office products) submitted at once to a stack as scripts/up starts it (one gpu
worker, threads pool of 16, torch threads as scripts/up gives it on this machine unless
--threads says), once per scheduler (VITRINE_GENERATION_SCHEDULER=static, then continuous),
then the same prompts (recorded from the same handlers) through `model.generate` in batches
of the worker's batch size (16; 64 on cuda) at the same thread count. Prints per scheduler
p50/p99 latency (created -> finished from each job's view), timeouts, deadline_exceeded and
other failures, generated tokens/s of the whole burst against the bare model, and mean rows
per decode step: what the worker's batcher counts and logs (`event=batcher_stats`),
differenced over the burst.

Thread study: on CPU, generation tokens/s of the bare model with 1 and with 2 torch threads,
alone and while a cpu-queue worker's kind of work (embedding product texts, one thread)
runs beside it, and how many texts/s that work gets in each case.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "clients" / "python")]

from bench.generation_burst import (  # noqa: E402
    batcher_stats,
    burst_jobs,
    recorded_prompts,
    stack,
    stats_between,
    submit_and_wait,
    summarise,
)
from shared.schemas.generation import GenerationOptions, Product  # noqa: E402
from shared.settings import Settings  # noqa: E402
from tests.support.events import office_products_with_descriptions  # noqa: E402
from worker.generation.copywriting import product_units  # noqa: E402
from worker.generation.engine import REPETITION_PENALTY, TOP_P  # noqa: E402
from worker.generation.facts import FactSheet  # noqa: E402

TEMPERATURE = 0.7
CPU_BATCH = 16  # VITRINE_GENERATION_MAX_BATCH_SIZE's default
GPU_BATCH = 64
SCHEDULERS = ("static", "continuous")
Row = tuple[list[dict[str, str]], int]  # (chat messages, max_new_tokens)


def up_threads() -> int:
    """The gpu worker's torch threads as scripts/up gives them on this machine."""
    cores = os.cpu_count() or 1
    return max(cores - max(cores // 2, 1), 1)


def require_device(device: str) -> None:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        why = ("is a CPU-only build: install a CUDA build of torch in the venv" if
               torch.version.cuda is None else
               f"(CUDA {torch.version.cuda}) sees no CUDA device on this machine")
        raise SystemExit(
            f"--device cuda: torch {torch.__version__} {why}. Run it where a GPU is lent "
            "(bench/gpu.sh), or use --device cpu to run the same code path on the CPU at "
            "small sizes.")


def _products(count: int) -> list[dict]:
    return office_products_with_descriptions()[:count]


def _prompts(product: dict, max_words: int, device: str) -> list[Row]:
    """(messages, max_new_tokens) for every row a description job of `product` generates."""
    options = GenerationOptions(max_words=max_words)
    _, specs = product_units(FactSheet.from_product(Product(**product)), options, 0, max_words)
    candidates = Settings.from_env().candidates_for(device)
    return [(spec.template.messages(**spec.values), spec.max_new_tokens)
            for spec in specs for _ in range(candidates)]


class BareModel:
    """The model alone: one left-padded sampling `generate` per batch of rows."""

    def __init__(self, device: str, threads: int) -> None:
        import torch

        from worker.models.generation import Generator
        from worker.models.sources import generation_source

        torch.set_num_threads(threads)
        self.device = device
        self.generator = Generator.load(generation_source("", ""), device)

    def generate(self, rows: list[Row]) -> int:
        """Generated tokens (up to each row's end of turn) of one batch."""
        import torch

        tokenizer, model = self.generator.tokenizer, self.generator.model
        prompts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
                   for m, _ in rows]
        encoded = tokenizer(prompts, return_tensors="pt", padding=True,
                            add_special_tokens=False).to(self.device)
        with torch.inference_mode():
            output = model.generate(**encoded, do_sample=True, temperature=TEMPERATURE,
                                    top_p=TOP_P, repetition_penalty=REPETITION_PENALTY,
                                    max_new_tokens=max(n for _, n in rows),
                                    pad_token_id=tokenizer.pad_token_id)
        tokens = 0
        eos = tokenizer.eos_token_id
        for row in output[:, encoded["input_ids"].shape[1]:].tolist():
            tokens += row.index(eos) if eos in row else len(row)
        return tokens

    def run(self, rows: list[Row], batch: int) -> tuple[int, float]:
        """All rows in order, `batch` at a time: (tokens, seconds)."""
        started = time.perf_counter()
        tokens = sum(self.generate(rows[i:i + batch]) for i in range(0, len(rows), batch))
        return tokens, time.perf_counter() - started


def _description_jobs(products: list[dict], max_words: int, seed: int) -> list[tuple[str, dict]]:
    return [("product_description", {"product": p, "options": {
        "max_words": max_words, "seed": seed + i, "temperature": TEMPERATURE}})
        for i, p in enumerate(products)]


# --- sizes mode ---------------------------------------------------------------------------

def sizes_bare(sizes: list[int], max_words: int, device: str, threads: int,
               batch: int) -> dict[int, dict]:
    bare = BareModel(device, threads)
    bare.run([r for p in _products(2) for r in _prompts(p, max_words, device)], batch)  # warm
    results = {}
    for size in sizes:
        rows = [r for p in _products(size) for r in _prompts(p, max_words, device)]
        tokens, elapsed = bare.run(rows, batch)
        results[size] = {"tokens_per_s": tokens / elapsed, "jobs_per_s": size / elapsed}
        print(f"  bare model, {size:2d} jobs ({len(rows)} rows, batches of {batch}): "
              f"{tokens} tokens in {elapsed:.1f}s", flush=True)
    return results  # the model is freed with the object, before the system phase


def sizes_system(sizes: list[int], max_words: int, workdir: Path, broker: str, device: str,
                 threads: int, batch: int, scheduler: str) -> dict[int, dict]:
    settings = {"VITRINE_DEVICE": device, "VITRINE_TORCH_THREADS": str(threads),
                "VITRINE_GENERATION_MAX_BATCH_SIZE": str(batch),
                "VITRINE_GENERATION_SCHEDULER": scheduler,
                # Enough task threads for every job of the largest size to be in the batcher.
                "CONCURRENCY": str(max(16, max(sizes)))}
    with stack(workdir, broker, f"sizes-{scheduler}-{batch}", **settings) as (api, key, _):
        submit_and_wait(api, key, _description_jobs(_products(2), max_words, 0))
        offset, results = 2, {}
        for size in sizes:
            products = _products(offset + size)[offset:]
            summary = summarise(submit_and_wait(
                api, key, _description_jobs(products, max_words, offset)))
            offset += size
            results[size] = summary
            print(f"  system, {size:2d} concurrent: {summary['tokens']} tokens in "
                  f"{summary['span_s']:.1f}s, {summary['succeeded']}/{size} succeeded, "
                  f"p50 {summary['p50_s']:.1f}s p99 {summary['p99_s']:.1f}s", flush=True)
        return results


def sizes_mode(args, workdir: Path) -> None:
    batch = GPU_BATCH if args.device == "cuda" else CPU_BATCH
    threads = args.threads or os.cpu_count() or 1
    largest = max(args.sizes)
    print(f"bare model ({args.device}, {threads} torch threads)", flush=True)
    bare = sizes_bare(args.sizes, args.max_words, args.device, threads, batch)
    gc.collect()
    print(f"system, batching on ({args.scheduler})", flush=True)
    batched = sizes_system(args.sizes, args.max_words, workdir, args.broker, args.device,
                           threads, batch, args.scheduler)
    unbatched = None
    if not args.skip_unbatched:
        print("system, batching off", flush=True)
        unbatched = sizes_system([largest], args.max_words, workdir, args.broker,
                                 args.device, threads, 1, args.scheduler)[largest]

    print(f"\nproduct_description, max_words {args.max_words}, {args.device}, {threads} torch "
          f"threads, {args.scheduler} batcher of {batch} rows; tokens/s are generated tokens, "
          "all jobs together; latency is created -> finished")
    print(f"{'jobs':>4} | {'bare tok/s':>10} | {'system tok/s':>12} {'jobs/s':>7} "
          f"{'p50 s':>6} {'p99 s':>6} {'ok':>5} | {'system/bare':>11}")
    for size in args.sizes:
        b, s = bare[size], batched[size]
        print(f"{size:>4} | {b['tokens_per_s']:>10.1f} | {s['tokens_per_s']:>12.1f} "
              f"{s['jobs_per_s']:>7.2f} {s['p50_s']:>6.1f} {s['p99_s']:>6.1f} "
              f"{s['succeeded']:>2}/{size:<2} | {s['tokens_per_s'] / b['tokens_per_s']:>11.2f}")
    if unbatched:
        top = batched[largest]
        print(f"batching off, {largest} jobs: {unbatched['tokens_per_s']:.1f} tok/s, "
              f"{unbatched['jobs_per_s']:.2f} jobs/s, p50 {unbatched['p50_s']:.1f}s p99 "
              f"{unbatched['p99_s']:.1f}s; batched/unbatched = "
              f"{top['tokens_per_s'] / unbatched['tokens_per_s']:.2f}x tokens/s, "
              f"{top['jobs_per_s'] / unbatched['jobs_per_s']:.2f}x jobs/s")


# --- burst mode ---------------------------------------------------------------------------

def burst_system(jobs: list[tuple[str, dict]], workdir: Path, broker: str, device: str,
                 threads: int, batch: int, scheduler: str) -> dict:
    settings = {"VITRINE_DEVICE": device, "VITRINE_TORCH_THREADS": str(threads),
                "VITRINE_GENERATION_SCHEDULER": scheduler,
                "VITRINE_GENERATION_MAX_BATCH_SIZE": str(batch)}
    with stack(workdir, broker, f"burst-{scheduler}", **settings) as (api, key, log):
        submit_and_wait(api, key, _description_jobs(_products(1), 20, 0))  # warm-up
        before = batcher_stats(log)
        summary = summarise(submit_and_wait(api, key, jobs))
        summary |= stats_between(before, batcher_stats(log))
    # Every token the batcher wrote (a row-step is one token), for jobs that failed too.
    summary["batcher_tokens_per_s"] = summary["row_steps"] / summary["span_s"]
    print(f"  {scheduler}: {summary['succeeded']}/{summary['jobs']} succeeded, "
          f"{summary['tokens']} tokens ({summary['rows']} rows) in {summary['span_s']:.1f}s, "
          f"p50 {summary['p50_s']:.1f}s p99 {summary['p99_s']:.1f}s", flush=True)
    return summary


def burst_mode(args, workdir: Path) -> None:
    threads = args.threads or up_threads()
    batch = GPU_BATCH if args.device == "cuda" else CPU_BATCH
    jobs = burst_jobs(args.burst)
    results = {}
    for scheduler in SCHEDULERS:
        print(f"system, {args.burst} jobs at once, {scheduler} batcher", flush=True)
        results[scheduler] = burst_system(jobs, workdir, args.broker, args.device, threads,
                                          batch, scheduler)
    print("bare model, the same prompts", flush=True)
    prompts = recorded_prompts(jobs, args.device)
    rows = [(r.messages, r.max_new_tokens) for job in prompts for r in job]
    gc.collect()
    bare = BareModel(args.device, threads)
    bare.run(rows[:2], 2)  # warm-up
    tokens, elapsed = bare.run(rows, batch)
    bare_rate = tokens / elapsed
    print(f"  {tokens} tokens ({len(rows)} rows, batches of {batch}) in {elapsed:.1f}s",
          flush=True)

    counts = {job[0]: 0 for job in jobs}
    for kind, _ in jobs:
        counts[kind] += 1
    print(f"\nburst of {args.burst} jobs ({', '.join(f'{n} {k}' for k, n in counts.items())}), "
          f"{args.device}, {threads} torch threads, gpu worker as scripts/up starts it; bare "
          f"model: {bare_rate:.1f} tok/s")
    print(f"{'scheduler':>10} | {'p50 s':>6} {'p99 s':>6} | {'timeout':>7} {'deadline':>8} "
          f"{'other':>5} | {'tok/s':>6} {'vs bare':>7} {'all tok/s':>9} | {'rows/step':>9} "
          f"{'steps/s':>7}")
    for scheduler, s in results.items():
        print(f"{scheduler:>10} | {s['p50_s']:>6.1f} {s['p99_s']:>6.1f} | {s['timeouts']:>7} "
              f"{s['deadline_exceeded']:>8} {len(s['other_failures']):>5} | "
              f"{s['tokens_per_s']:>6.1f} {s['tokens_per_s'] / bare_rate:>6.2f}x "
              f"{s['batcher_tokens_per_s']:>9.1f} | {s['rows_per_step']:>9.1f} "
              f"{s['steps_per_s']:>7.2f}")
        if s["other_failures"]:
            print(f"{'':>10}   other failures: {', '.join(s['other_failures'])}")
        if s["rows"] != len(rows):
            print(f"{'':>10}   note: the system generated {s['rows']} rows, the bare model "
                  f"{len(rows)} (failed jobs keep no generations)")
    print("tok/s: tokens of the jobs that succeeded over the burst's span; all tok/s: every "
          "token the batcher wrote (row-steps), failed jobs' too")
    static, continuous = results["static"], results["continuous"]
    print(f"continuous/static: p99 {continuous['p99_s'] / max(static['p99_s'], 1e-9):.2f}x, "
          f"tokens/s {continuous['tokens_per_s'] / max(static['tokens_per_s'], 1e-9):.2f}x")


# --- thread study -------------------------------------------------------------------------

def _busy_encoder(stop, count) -> None:
    """A cpu-queue worker's kind of work: embedding product texts with one torch thread."""
    import torch

    from worker.models.embeddings import Embedder
    from worker.models.sources import embedding_source

    torch.set_num_threads(1)
    embedder = Embedder.load(embedding_source(""), "cpu")
    texts = [f"{p['title']}. {p.get('description', '')[:400]}" for p in _products(64)]
    count.value = -1  # loaded
    done = 0
    while not stop.is_set():
        embedder.encode(texts[done % 64: done % 64 + 16])
        done += 16
        count.value = done


def _with_load(busy: bool, measure):
    """Run `measure()` alone or beside a busy encoder process: (its result, texts/s)."""
    if not busy:
        return measure(), 0.0
    context = multiprocessing.get_context("spawn")
    stop, count = context.Event(), context.Value("q", 0)
    process = context.Process(target=_busy_encoder, args=(stop, count), daemon=True)
    process.start()
    while count.value != -1 and process.is_alive():
        time.sleep(0.2)
    started, first = time.perf_counter(), max(count.value, 0)
    result = measure()
    rate = (count.value - first) / (time.perf_counter() - started)
    stop.set()
    process.join(30)
    return result, rate


def thread_study(args) -> None:
    import torch

    rows = [r for p in _products(args.study_jobs) for r in _prompts(p, args.max_words, "cpu")]
    bare = BareModel("cpu", 1)
    bare.run(rows[:2], 2)  # warm-up
    print(f"{len(rows)} rows of {args.study_jobs} description jobs in one batch, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    _, texts_alone = _with_load(True, lambda: time.sleep(20))  # the cpu work by itself
    print(f"  cpu work alone: {texts_alone:.1f} texts/s", flush=True)
    table = []
    for busy in (False, True):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            (tokens, elapsed), texts = _with_load(busy, lambda: bare.run(rows, len(rows)))
            table.append((threads, busy, tokens / elapsed, texts))
            print(f"  {threads} thread(s), cpu work {'busy' if busy else 'idle'}: "
                  f"{tokens / elapsed:.1f} tok/s" + (f", cpu work {texts:.1f} texts/s"
                                                     if busy else ""), flush=True)
    print(f"\n{'torch threads':>13} | {'cpu worker':>10} | {'gen tok/s':>9} | "
          f"{'cpu texts/s':>11}")
    for threads, busy, rate, texts in table:
        print(f"{threads:>13} | {'busy' if busy else 'idle':>10} | {rate:>9.1f} | "
              f"{f'{texts:.1f}' if busy else '-':>11}")
    print(f"cpu work alone: {texts_alone:.1f} texts/s; load average at end "
          f"{os.getloadavg()[0]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--max-words", type=int, default=40)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for the bare model and the gpu worker (sizes "
                             "mode: all cores; burst mode: scripts/up's share)")
    parser.add_argument("--scheduler", choices=SCHEDULERS, default="continuous",
                        help="the batcher of sizes mode (burst mode runs both)")
    parser.add_argument("--skip-unbatched", action="store_true",
                        help="sizes mode: leave out the batching-off round")
    parser.add_argument("--burst", type=int, nargs="?", const=64, default=None,
                        help="N mixed jobs at once, static then continuous (default 64)")
    parser.add_argument("--thread-study", action="store_true")
    parser.add_argument("--study-jobs", type=int, default=2)
    args = parser.parse_args()
    require_device(args.device)
    if args.thread_study:
        thread_study(args)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="vitrine-genbench-"))
    try:
        if args.burst:
            burst_mode(args, workdir)
        else:
            sizes_mode(args, workdir)
    finally:
        subprocess.run(["redis-cli", "-u", args.broker, "flushdb"], capture_output=True)
        if os.environ.get("VITRINE_BENCH_KEEP"):
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
