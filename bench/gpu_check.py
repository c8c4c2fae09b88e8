"""The GPU check: generation speed of the bare model against the gpu worker's own batchers,
in one process and one run, on a lent CUDA machine without the rest of the stack.

    bench/gpu_check.sh [--sizes 1 16 64] [--max-new-tokens 64] [--time-cap 360]
    python bench/gpu_check.py --device cpu --sizes 1 2 --max-new-tokens 8 --layers 2  # smoke

Why this and not bench/gpu.sh: gpu.sh runs the whole system (gunicorn, Redis, Celery,
SQLite) around the real SmolLM2 GGUF, and a lent GPU machine has neither those services nor
room for the 98 MB model in what travels (64 MiB) nor a network. So this builds the same
architecture (SmolLM2-135M: LlamaForCausalLM, 30 layers) with RANDOM weights from the config
and tokenizer that bench/gpu_check_prepare.py writes into .devgpu/, saves it, and loads it
back through the worker's own `Generator.load` (which picks fp16 on cuda). The figures are
SPEED ONLY: random weights write no meaningful text. Random weights rarely emit the end of
turn, and to keep every side writing exactly --max-new-tokens tokens the end-of-turn logit
is masked out of every forward pass (a hook on lm_head), for all sides alike.

What runs, in this order (each phase prints as it finishes; a summary and ratios at the end):
1. environment and model load (checks that cuda is there and the weights are fp16);
2. parity: one greedy prompt through the continuous batcher and through `model.generate`
   (same repetition penalty): the tokens must agree, or the batcher's KV cache is not used;
3. bare `model.generate` (sampling, temperature 0.7, top-p 0.9, repetition penalty 1.15,
   as bench/generation.py's bare side) at each size as one batch;
4. the worker's continuous batcher (worker/generation/continuous.py) and static batcher
   (worker/generation/engine.py), each fed N concurrent requests from N threads, batches
   of up to --max-batch rows: tokens/s, p50/p99 latency (submit -> result), rows per decode
   step, and the ratio to bare at the same size. If the static batcher fails on cuda it is
   run again with a bench-only sampler that moves its small tensors to the logits' device,
   labelled `static*`, so both the failure and the speed with the fix are reported;
5. fp16 against fp32 on the same device at batch 16 (bare generate);
6. the cost of one sampling step (`_sample_rows`, 64 rows) on the CPU, where the continuous
   batcher samples, against on the device.
Ratios (system/bare, batched/unbatched, fp16/fp32) come from this one run; no absolute
timing is asserted. A watchdog prints the summary of whatever finished and exits when
--time-cap seconds have passed, so the check always reports. With --out (default $OUT)
the results are also written as results.json there.
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
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STARTED = time.monotonic()
TEMPERATURE = 0.7  # bench/generation.py's
RESULTS: dict = {"weights": "random (speed only, no text quality)", "phases": {}}
_PRINT_LOCK = threading.Lock()


def say(message: str = "") -> None:
    with _PRINT_LOCK:
        print(f"[{time.monotonic() - STARTED:6.1f}s] {message}" if message else "", flush=True)


# --- setup --------------------------------------------------------------------------------

def environment(device: str) -> None:
    """Versions and the device; stops at once when cuda was asked for and is not there."""
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()  # keep the log to the figures
    info = {"python": sys.version.split()[0], "torch": torch.__version__,
            "transformers": transformers.__version__, "device": device,
            "cpu_threads": torch.get_num_threads()}
    if device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit(f"cuda asked for but torch {torch.__version__} (CUDA "
                             f"{torch.version.cuda}) sees no GPU: nothing to check here")
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    RESULTS["environment"] = info
    say("environment: " + ", ".join(f"{k} {v}" for k, v in info.items()))


def load_generator(assets: Path, device: str, layers: int, workdir: Path):
    """A random-weight SmolLM2-135M saved to `workdir` and loaded by the worker's loader."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from worker.models.generation import Generator
    from worker.models.sources import ModelSource

    config = LlamaConfig.from_pretrained(assets / "model")
    if layers:
        config.num_hidden_layers = layers
    torch.manual_seed(0)
    with torch.device(device):  # initialise where it runs: fast on a GPU
        model = LlamaForCausalLM(config)
    if device == "cuda":
        model.half()  # what gets saved is what a real fp16 checkpoint would be
    model.save_pretrained(workdir)
    AutoTokenizer.from_pretrained(assets / "model").save_pretrained(workdir)
    del model
    source = ModelSource(str(workdir), "random-weight SmolLM2-135M architecture", "random",
                         "bench")
    generator = Generator.load(source, device)  # the worker's own: fp16 on cuda
    dtype = next(generator.model.parameters()).dtype
    params = sum(p.numel() for p in generator.model.parameters())
    RESULTS["model"] = {"layers": config.num_hidden_layers, "parameters": params,
                        "dtype": str(dtype), "weights": "random"}
    say(f"model: {params / 1e6:.0f}M parameters, {config.num_hidden_layers} layers, {dtype} on "
        f"{device} (loaded through worker.models.generation.Generator.load); RANDOM WEIGHTS: "
        "speed only, no text quality")
    if device == "cuda" and dtype != torch.float16:
        say(f"WARNING: the worker loaded {dtype} on cuda, not float16")
    return generator


def mask_end_of_turn(model, eos_id: int):
    """Every forward pass's end-of-turn logit becomes -inf, so each row writes its whole
    token budget on every side: random weights would end rows at random otherwise."""
    def hook(_module, _inputs, logits):
        logits[..., eos_id] = float("-inf")
        return logits

    return model.get_output_embeddings().register_forward_hook(hook)


def load_prompts(assets: Path) -> list[list[dict[str, str]]]:
    rows = json.loads((assets / "prompts.json").read_text())
    return [row["messages"] for row in rows]


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


# --- the bare model -----------------------------------------------------------------------

def bare_generate(generator, prompts: list, tokens: int, **sampling) -> tuple[int, float]:
    """One left-padded batch through `model.generate`: (generated tokens, seconds)."""
    import torch

    from worker.generation.engine import REPETITION_PENALTY, TOP_P

    tokenizer, model = generator.tokenizer, generator.model
    texts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
             for m in prompts]
    encoded = tokenizer(texts, return_tensors="pt", padding=True,
                        add_special_tokens=False).to(generator.device)
    options = {"do_sample": True, "temperature": TEMPERATURE, "top_p": TOP_P} | sampling
    sync(generator.device)
    started = time.perf_counter()
    with torch.inference_mode():
        output = model.generate(**encoded, max_new_tokens=tokens, min_new_tokens=tokens,
                                repetition_penalty=REPETITION_PENALTY,
                                pad_token_id=tokenizer.pad_token_id, **options)
    sync(generator.device)
    elapsed = time.perf_counter() - started
    new = output.shape[1] - encoded["input_ids"].shape[1]
    return new * len(prompts), elapsed


def bare_phase(generator, prompts: list, sizes: list[int], tokens: int, repeats: int) -> dict:
    bare_generate(generator, prompts[:max(sizes)], 4)  # warm-up at the largest shape
    results = {}
    for size in sizes:
        runs = []
        for _ in range(repeats):
            count, elapsed = bare_generate(generator, prompts[:size], tokens)
            runs.append((count / elapsed, elapsed))
            say(f"  bare, batch {size:3d}: {count} tokens in {elapsed:.2f}s = "
                f"{count / elapsed:.0f} tok/s (every row's latency is the batch's)")
        # The whole batch ends together, so its time is every row's latency. The last run
        # counts (warm at this shape), as for the batchers.
        results[size] = {"tokens_per_s": runs[-1][0], "latency_s": runs[-1][1]}
    return results


# --- the worker's batchers ----------------------------------------------------------------

def make_batcher(kind: str, generator, max_batch: int):
    """The gpu worker's batcher of that kind, as worker/models/registry.py builds it."""
    if kind == "continuous":
        from worker.generation.continuous import ContinuousBatcher

        return ContinuousBatcher(generator, max_batch_size=max_batch)
    from worker.generation.engine import BatchingGenerator

    return BatchingGenerator(generator, max_batch_size=max_batch, max_wait_ms=50)


def concurrent_requests(batcher, prompts: list, size: int, tokens: int,
                        timeout: float) -> dict:
    """`size` requests submitted at once from `size` threads, as a threads pool's tasks do."""
    from worker.generation.engine import GenerationRequest

    barrier = threading.Barrier(size)

    def one(index: int):
        request = GenerationRequest(messages=prompts[index % len(prompts)],
                                    max_new_tokens=tokens, temperature=TEMPERATURE,
                                    seed=index)
        barrier.wait()
        started = time.perf_counter()
        output = batcher.submit(request).result(timeout=timeout)
        return started, time.perf_counter(), output

    before = dict(batcher.stats)
    with ThreadPoolExecutor(size) as pool:
        futures = [pool.submit(one, i) for i in range(size)]
        done, errors = [], []
        for future in futures:
            try:
                done.append(future.result())
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
    return _summary(done, errors, before, batcher.stats, size)


def _summary(done: list, errors: list, before: dict, after: dict, size: int) -> dict:
    if not done:
        return {"ok": 0, "size": size, "errors": errors}
    first = min(s for s, _, _ in done)
    span = max(e for _, e, _ in done) - first
    latencies = sorted(e - s for s, e, _ in done)
    steps = after["steps"] - before["steps"]
    return {"ok": len(done), "size": size, "errors": errors, "span_s": span,
            "tokens": sum(o.tokens for _, _, o in done),
            "tokens_per_s": sum(o.tokens for _, _, o in done) / span,
            "p50_s": statistics.median(latencies),
            "p99_s": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "rows_per_step": (after["row_steps"] - before["row_steps"]) / steps if steps else 0,
            "steps_per_s": steps / (after["step_s"] - before["step_s"]) if steps else 0}


def batcher_phase(kind: str, generator, prompts: list, sizes: list[int], tokens: int,
                  max_batch: int, timeout: float, repeats: int = 2) -> dict:
    batcher = make_batcher(kind, generator, max_batch)
    warm = concurrent_requests(batcher, prompts, min(max(sizes), max_batch), 4, timeout)
    if not warm["ok"]:
        say(f"  {kind}: warm-up failed: {warm['errors'][0]}")
        return {"failed": warm["errors"][0]}
    results = {}
    for size in sizes:
        # Each size `repeats` times and the last one kept, as for bare: the first run at a
        # shape pays the allocator's and the kernels' first-use costs (3-4x slower on the
        # H200), and comparing it with a warm bare run made the batchers look half as fast.
        for _ in range(repeats):
            summary = concurrent_requests(batcher, prompts, size, tokens, timeout)
        results[size] = summary
        if not summary["ok"]:
            say(f"  {kind}, {size:3d} concurrent: all failed: {summary['errors'][0]}")
            continue
        say(f"  {kind}, {size:3d} concurrent: {summary['ok']}/{size} ok, {summary['tokens']} "
            f"tokens in {summary['span_s']:.2f}s = {summary['tokens_per_s']:.0f} tok/s, p50 "
            f"{summary['p50_s']:.2f}s p99 {summary['p99_s']:.2f}s, "
            f"{summary['rows_per_step']:.1f} rows/step, {summary['steps_per_s']:.1f} steps/s"
            + (f"; errors: {summary['errors'][0]}" if summary["errors"] else ""))
    return results


def device_safe_sampler():
    """engine._PerRowSampler with its per-row tensors moved to the logits' device: a
    bench-only stand-in, used only when the worker's own fails on cuda (see the report)."""
    import torch

    from worker.generation import engine

    class DeviceSafeSampler(engine._PerRowSampler):
        def __call__(self, input_ids, scores):
            device = scores.device
            step = input_ids.shape[1] - self.prompt_length
            uniforms = torch.cat([torch.rand(1, generator=g) for g in self.generators])
            temperatures, greedy = self.temperatures.to(device), self.greedy.to(device)
            chosen = engine._sample_rows(scores.float(), temperatures, uniforms.to(device))
            chosen[greedy] = torch.argmax(scores[greedy], dim=-1)
            chosen[self.budgets.to(device) <= step] = self.eos_id
            one_hot = torch.full_like(scores, float("-inf"))
            one_hot[torch.arange(scores.shape[0], device=device), chosen] = 0.0
            return one_hot

    return DeviceSafeSampler


def static_phase(generator, prompts, sizes, tokens, max_batch, timeout) -> dict:
    """The worker's static batcher; again with the bench's device-safe sampler if it fails."""
    from worker.generation import engine

    results = {"static": batcher_phase("static", generator, prompts, sizes, tokens,
                                       max_batch, timeout)}
    failed = results["static"].get("failed") or any(
        not r["ok"] for r in results["static"].values() if isinstance(r, dict))
    if failed and generator.device == "cuda":
        say("  static failed on cuda; again with static* = the bench's device-safe sampler")
        original, engine._PerRowSampler = engine._PerRowSampler, device_safe_sampler()
        try:
            results["static*"] = batcher_phase("static*", generator, prompts, sizes, tokens,
                                               max_batch, timeout)
        finally:
            engine._PerRowSampler = original
    return results


# --- checks beside the throughput ---------------------------------------------------------

def parity_phase(generator, prompts: list, tokens: int, timeout: float) -> dict:
    """Greedy: continuous batcher (batch 1) against generate; disagreement at the second
    token on means the batcher's decode steps do not see the prompt (cache unused)."""
    import torch

    from worker.generation.continuous import ContinuousBatcher
    from worker.generation.engine import REPETITION_PENALTY, GenerationRequest

    tokenizer, model = generator.tokenizer, generator.model
    batcher = ContinuousBatcher(generator, max_batch_size=1)
    output = batcher.submit(GenerationRequest(messages=prompts[0], max_new_tokens=tokens,
                                              temperature=0, seed=0)).result(timeout=timeout)
    ids = tokenizer.apply_chat_template(prompts[0], tokenize=True, add_generation_prompt=True,
                                        return_dict=True, return_tensors="pt")
    with torch.inference_mode():
        reference = model.generate(**ids.to(generator.device), max_new_tokens=tokens,
                                   min_new_tokens=tokens, do_sample=False,
                                   repetition_penalty=REPETITION_PENALTY,
                                   pad_token_id=tokenizer.pad_token_id)
    expected = reference[0, ids["input_ids"].shape[1]:].tolist()
    same = output.text == tokenizer.decode(expected, skip_special_tokens=True)
    # How many of generate's tokens the batcher's text starts with.
    prefix = max(k for k in range(len(expected) + 1) if output.text.startswith(
        tokenizer.decode(expected[:k], skip_special_tokens=True)))
    say(f"  parity (greedy, {tokens} tokens): continuous batcher "
        f"{'MATCHES' if same else 'DIFFERS FROM'} model.generate"
        + ("" if same else f" (first {prefix} tokens agree; a batcher that ignores its KV "
                           "cache diverges after the first)"))
    return {"same_text": same, "agreeing_prefix_tokens": prefix, "tokens": tokens}


def precision_phase(generator, prompts: list, tokens: int, workdir: Path) -> dict:
    """Bare generate at batch 16: the worker's fp16 model against an fp32 copy."""
    import torch
    from transformers import AutoModelForCausalLM

    from worker.models.generation import Generator

    size = min(16, len(prompts))
    fp16 = bare_generate(generator, prompts[:size], tokens)
    fp32_model = AutoModelForCausalLM.from_pretrained(workdir, dtype=torch.float32)
    fp32_model.to(generator.device).eval()
    handle = mask_end_of_turn(fp32_model, generator.tokenizer.eos_token_id)
    fp32 = Generator(model=fp32_model, tokenizer=generator.tokenizer,
                     source=generator.source, device=generator.device)
    bare_generate(fp32, prompts[:size], 4)  # warm-up
    fp32_result = bare_generate(fp32, prompts[:size], tokens)
    handle.remove()
    del fp32_model, fp32
    rates = {"fp16": fp16[0] / fp16[1], "fp32": fp32_result[0] / fp32_result[1]}
    say(f"  batch {size}: {str(next(generator.model.parameters()).dtype)} (the worker's) "
        f"{rates['fp16']:.0f} tok/s, float32 {rates['fp32']:.0f} tok/s, "
        f"ratio {rates['fp16'] / rates['fp32']:.2f}x")
    return rates


def sampling_phase(device: str, vocab: int, rows: int = 64, repeats: int = 5) -> dict:
    """One step of the batchers' top-p sampling over `rows` rows, on the CPU (where the
    continuous batcher runs it, after copying the logits there) and on the device."""
    import torch

    from worker.generation.engine import _sample_rows

    logits = torch.randn(rows, vocab, device=device)
    temperatures = torch.full((rows,), TEMPERATURE)
    uniforms = torch.rand(rows)
    timings = {}
    for where in dict.fromkeys(("cpu", device)):  # once on a CPU-only run
        args = (logits.to(where), temperatures.to(where), uniforms.to(where))
        _sample_rows(*args)
        sync(device)
        started = time.perf_counter()
        for _ in range(repeats):
            _sample_rows(*args)
        sync(device)
        timings[where] = (time.perf_counter() - started) / repeats * 1000
    copy_started = time.perf_counter()
    for _ in range(repeats):
        logits.float().cpu()
    timings["copy_to_cpu"] = (time.perf_counter() - copy_started) / repeats * 1000
    on_device = f", {device} {timings[device]:.2f} ms/step" if device != "cpu" else ""
    say(f"  _sample_rows, {rows} rows x {vocab}: cpu {timings['cpu']:.2f} ms/step{on_device}; "
        f"logits to cpu {timings['copy_to_cpu']:.2f} ms")
    return timings


# --- the report ---------------------------------------------------------------------------

def print_summary() -> None:
    """The table of what finished, with the ratios; also called by the watchdog."""
    phases = RESULTS["phases"]
    bare = phases.get("bare", {})
    paths = {k: v for k, v in phases.get("batchers", {}).items() if isinstance(v, dict)}
    say()
    say(f"SUMMARY ({RESULTS.get('environment', {}).get('gpu', 'cpu')}; weights RANDOM: speed "
        f"only; {RESULTS.get('tokens')} new tokens per request, end of turn masked)")
    header = f"{'N':>4} | {'bare tok/s':>10}"
    for name in paths:
        header += f" | {name + ' tok/s':>17} {'p50 s':>6} {'p99 s':>6} {'/bare':>6}"
    say(header)
    for size in RESULTS.get("sizes", []):
        line = f"{size:>4} | {bare.get(size, {}).get('tokens_per_s', float('nan')):>10.0f}"
        for result in paths.values():
            r = result.get(size) or {}
            rate = r.get("tokens_per_s", float("nan"))
            base = bare.get(size, {}).get("tokens_per_s", float("nan"))
            line += (f" | {rate:>17.0f} {r.get('p50_s', float('nan')):>6.2f} "
                     f"{r.get('p99_s', float('nan')):>6.2f} {rate / base:>6.2f}")
        say(line)
    _print_ratios(bare, paths)
    for name, result in paths.items():
        if result.get("failed"):
            say(f"{name}: FAILED: {result['failed']}")
    if "precision" in phases:
        p = phases["precision"]
        say(f"{RESULTS['model']['dtype']} (the worker's)/float32, bare at batch 16: "
            f"{p['fp16'] / p['fp32']:.2f}x")
    if "sampling" in phases and "cpu" in phases["sampling"]:
        say(f"one sampling step of 64 rows (ms): {phases['sampling']}")
    if "parity" in phases:
        say(f"parity (continuous vs generate, greedy): {phases['parity']}")
    for name, reason in RESULTS.get("skipped", {}).items():
        say(f"skipped {name}: {reason}")


def _print_ratios(bare: dict, paths: dict) -> None:
    sizes = RESULTS.get("sizes", [])
    if len(sizes) < 2:
        return
    low, high = min(sizes), max(sizes)
    for name, result in {"bare": bare, **paths}.items():
        a, b = (result.get(low) or {}), (result.get(high) or {})
        if a.get("tokens_per_s") and b.get("tokens_per_s"):
            say(f"batched/unbatched ({name}): {high} at once {b['tokens_per_s']:.0f} tok/s vs "
                f"1 at a time {a['tokens_per_s']:.0f} tok/s = "
                f"{b['tokens_per_s'] / a['tokens_per_s']:.1f}x")


def write_json(out: Path | None) -> None:
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(RESULTS, indent=1, default=str))


def start_watchdog(cap: float, out: Path | None) -> None:
    """Prints what finished and ends the process at the time cap, wherever it is."""
    def expire():
        say(f"TIME CAP of {cap:.0f}s reached: reporting what finished")
        print_summary()
        write_json(out)
        os._exit(3)

    timer = threading.Timer(max(cap - (time.monotonic() - STARTED), 1), expire)
    timer.daemon = True
    timer.start()


def run_phase(name: str, function, *args):
    """Runs one phase; a failure is printed and recorded, and the check goes on."""
    say(f"{name}:")
    try:
        RESULTS["phases"][name] = function(*args)
    except Exception as exc:  # noqa: BLE001 - every phase reports, whatever breaks
        traceback.print_exc()
        RESULTS["phases"][name] = {"failed": f"{type(exc).__name__}: {exc}"[:500]}
        say(f"  {name} FAILED: {type(exc).__name__}: {str(exc)[:300]}")


def left() -> float:
    return ARGS.time_cap - (time.monotonic() - STARTED)


def main() -> int:
    import torch

    if ARGS.threads:
        torch.set_num_threads(ARGS.threads)
    start_watchdog(ARGS.time_cap, ARGS.out)
    environment(ARGS.device)
    sizes, tokens = ARGS.sizes, ARGS.max_new_tokens
    RESULTS.update(sizes=sizes, tokens=tokens, max_batch=ARGS.max_batch)
    prompts = load_prompts(ARGS.assets)
    workdir = Path(tempfile.mkdtemp(prefix="vitrine-gpu-check-"))
    generator = load_generator(ARGS.assets, ARGS.device, ARGS.layers, workdir)
    mask_end_of_turn(generator.model, generator.tokenizer.eos_token_id)
    timeout = max(left() - 10, 5)
    run_phase("parity", parity_phase, generator, prompts, min(tokens, 24), timeout)
    run_phase("bare", bare_phase, generator, prompts, sizes, tokens, ARGS.repeats)
    RESULTS["phases"]["batchers"] = {}
    say("batchers:")
    for kind in ARGS.schedulers:
        try:
            if kind == "static":
                found = static_phase(generator, prompts, sizes, tokens, ARGS.max_batch,
                                     max(left() - 10, 5))
            else:
                found = {kind: batcher_phase(kind, generator, prompts, sizes, tokens,
                                             ARGS.max_batch, max(left() - 10, 5))}
        except Exception as exc:  # noqa: BLE001 - e.g. an import the device lacks
            traceback.print_exc()
            found = {kind: {"failed": f"{type(exc).__name__}: {exc}"[:500]}}
            say(f"  {kind} FAILED: {type(exc).__name__}: {str(exc)[:300]}")
        RESULTS["phases"]["batchers"].update(found)
    if not ARGS.skip_fp32:
        run_phase("precision", precision_phase, generator, prompts, tokens, workdir)
    run_phase("sampling", sampling_phase, ARGS.device, generator.model.config.vocab_size)
    RESULTS.setdefault("skipped", {})["http stack"] = (
        "gunicorn, Celery, Redis and the real GGUF are not on the device machine; "
        "bench/gpu.sh runs them where they are installed")
    print_summary()
    write_json(ARGS.out)
    say("done")
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--max-new-tokens", type=int, default=64,
                        help="tokens every request writes (real budgets are 40..80)")
    parser.add_argument("--max-batch", type=int, default=64,
                        help="VITRINE_GENERATION_MAX_BATCH_SIZE for the batchers")
    parser.add_argument("--schedulers", nargs="+", default=["continuous", "static"],
                        choices=["continuous", "static"])
    parser.add_argument("--repeats", type=int, default=2, help="bare runs per size (median)")
    parser.add_argument("--layers", type=int, default=0,
                        help="fewer layers than SmolLM2's 30, for a quick CPU smoke run")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads")
    parser.add_argument("--skip-fp32", action="store_true")
    parser.add_argument("--time-cap", type=float, default=360,
                        help="seconds after which the summary is printed and it exits")
    parser.add_argument("--assets", type=Path, default=ROOT / ".devgpu")
    parser.add_argument("--out", type=Path,
                        default=Path(os.environ["OUT"]) if os.environ.get("OUT") else None)
    return parser.parse_args()


if __name__ == "__main__":
    ARGS = parse_args()
    sys.exit(main())
