"""Dynamic batching over one causal LM, in-process (as Ray Serve's `@serve.batch` does).

Concurrent tasks (the gpu worker runs a threads pool) submit prompts; one batching thread
gathers up to `max_batch_size` of them, or whatever arrived within `max_wait_ms` of the
first, and runs a single left-padded `generate`. Each request keeps its own seed, temperature,
token budget and progress callback, so batch-mates never change each other's output and one
request's failure never fails the others.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch
from transformers import LogitsProcessor, StoppingCriteria

from shared import metrics
from worker.models.generation import Generator

log = logging.getLogger("vitrine.batcher")

TOP_P = 0.9
REPETITION_PENALTY = 1.15
PROGRESS_EVERY_S = 0.2


@dataclass
class GenerationRequest:
    messages: list[dict[str, str]]
    max_new_tokens: int
    temperature: float
    seed: int
    # Stop this row once it has written one whole sentence: asked for one, a small model
    # rambles on to its token budget, and the batch waits for its longest row.
    one_sentence: bool = False
    # When the job must have its answer (time.monotonic()); the continuous batcher admits
    # the earliest first and fails a prompt that can no longer start in time.
    deadline: float | None = None
    on_progress: Callable[[int], None] | None = None
    future: Future = field(default_factory=Future)


@dataclass(frozen=True)
class GenerationOutput:
    text: str
    tokens: int
    finish_reason: str  # "stop" (end of turn) or "length" (token budget)
    batch_size: int
    waited_s: float = 0.0  # in the batcher's queue before its first step
    generate_s: float = 0.0  # from its first step to its last token


class _PerRowSampler(LogitsProcessor):
    """Samples each row with its own generator, then hands generate a one-hot choice.

    Running generate greedily over these one-hot scores keeps its batching, cache and
    stopping logic while each row draws from its own seeded stream, so a result depends on
    its own seed and prompt, not on what else was in the batch.
    """

    def __init__(self, requests: list[GenerationRequest], prompt_length: int, eos_id: int):
        self.requests = requests
        self.prompt_length = prompt_length
        self.eos_id = eos_id
        self.generators = [torch.Generator().manual_seed(r.seed) for r in requests]
        self.greedy = torch.tensor([r.temperature == 0 for r in requests])
        # Greedy rows get a dummy temperature; their sample is replaced by the argmax.
        self.temperatures = torch.tensor([r.temperature or 1.0 for r in requests])
        self.budgets = torch.tensor([r.max_new_tokens for r in requests])

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor):
        step = input_ids.shape[1] - self.prompt_length
        if self.greedy.device != scores.device:  # once: the scores are on the model's device
            self.greedy, self.temperatures, self.budgets = (
                t.to(scores.device) for t in (self.greedy, self.temperatures, self.budgets))
        # One uniform draw per row from that row's own generator (on the CPU, so a seed gives
        # the same text on any device); the rest is vectorised where the scores are.
        uniforms = torch.cat([torch.rand(1, generator=g) for g in self.generators])
        chosen = _sample_rows(scores.float(), self.temperatures, uniforms.to(scores.device))
        chosen[self.greedy] = torch.argmax(scores[self.greedy], dim=-1)
        chosen[self.budgets <= step] = self.eos_id
        one_hot = torch.full_like(scores, float("-inf"))
        one_hot[torch.arange(scores.shape[0]), chosen] = 0.0
        return one_hot


def _sample_rows(logits: torch.Tensor, temperatures: torch.Tensor,
                 uniforms: torch.Tensor) -> torch.Tensor:
    """Top-p sampling for every row at once, by inverse CDF with the given uniform draws."""
    probabilities = torch.softmax(logits / temperatures[:, None], dim=-1)
    sorted_probs, order = torch.sort(probabilities, dim=-1, descending=True)
    keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < TOP_P
    sorted_probs = sorted_probs * keep
    cumulative = torch.cumsum(sorted_probs, dim=-1)
    targets = uniforms[:, None] * cumulative[:, -1:]
    index = torch.searchsorted(cumulative, targets).clamp(max=logits.shape[-1] - 1)
    return order.gather(-1, index).squeeze(-1)


SENTENCE_END = re.compile(r"[.!?。！？]['\"”’)\]]*$")
MIN_SENTENCE_TOKENS = 6
TRAILING_FRAGMENT = re.compile(r"(.*[.!?。！？]['\"”’)\]]*)\s+\S*$", re.S)


def whole_sentences(text: str) -> str:
    """`text` without a fragment after its last sentence end (a sentence stop fires one
    token late; a server stops at its token budget): "Done. The" -> "Done."."""
    whole = TRAILING_FRAGMENT.match(text)
    return whole.group(1) if whole else text


class _SentenceStop(StoppingCriteria):
    """Ends each `one_sentence` row when a token starting with white space follows the end
    of a sentence (so "0.8 mm" does not end one); the other rows run on."""

    def __init__(self, requests: list[GenerationRequest], prompt_length: int,
                 tokenizer) -> None:
        self.rows = [i for i, r in enumerate(requests) if r.one_sentence]
        self.prompt_length = prompt_length
        self.tokenizer = tokenizer

    def __call__(self, input_ids, scores, **kwargs) -> torch.BoolTensor:
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        if input_ids.shape[1] - self.prompt_length < MIN_SENTENCE_TOKENS:
            return done
        for row in self.rows:
            previous, last = self.tokenizer.convert_ids_to_tokens(input_ids[row, -2:].tolist())
            previous = self.tokenizer.convert_tokens_to_string([previous])
            last = self.tokenizer.convert_tokens_to_string([last])
            if SENTENCE_END.search(previous) and last[:1].isspace():
                done[row] = True
        return done


class _ProgressReporter(StoppingCriteria):
    """Never stops anything; tells each request how many tokens exist, a few times a second."""

    def __init__(self, requests: list[GenerationRequest], prompt_length: int) -> None:
        self.requests = requests
        self.prompt_length = prompt_length
        self.last = 0.0

    def __call__(self, input_ids, scores, **kwargs) -> torch.BoolTensor:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            step = input_ids.shape[1] - self.prompt_length
            for request in self.requests:
                if request.on_progress:
                    try:
                        request.on_progress(min(step, request.max_new_tokens))
                    except Exception:  # a progress write must never break the batch
                        log.exception("event=progress_callback_failed")
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def log_stats(stats: dict) -> None:
    """Cumulative decode counters of a batcher, for benchmarks and operators reading the
    log: `rows_per_step` is how full the batch stays (rows still writing per decode step)."""
    steps = stats["steps"]
    log.info("event=batcher_stats steps=%d row_steps=%d step_s=%.2f rows_per_step=%.2f "
             "steps_per_s=%.2f", steps, stats["row_steps"], stats["step_s"],
             stats["row_steps"] / steps if steps else 0.0,
             steps / stats["step_s"] if stats["step_s"] else 0.0)


class BatchingGenerator:
    """Owns the batching thread; `generate()` is safe to call from many task threads."""

    def __init__(self, generator: Generator, *, max_batch_size: int, max_wait_ms: float) -> None:
        self.generator = generator
        self.source = generator.source
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self._queue: queue.Queue[GenerationRequest] = queue.Queue()
        # Decode steps run, and rows still writing summed over them: a finished row in a
        # static batch is padding until the longest row ends, so it does not count.
        self.stats = {"steps": 0, "row_steps": 0, "step_s": 0.0}
        self._thread = threading.Thread(target=self._serve, name="batcher", daemon=True)
        self._thread.start()

    def submit(self, request: GenerationRequest) -> Future:
        self._queue.put(request)
        return request.future

    def _gather(self) -> list[GenerationRequest]:
        """The first waiting prompt plus all that follow within max_wait of the one before.

        A burst of HTTP submissions reaches the worker over tens of milliseconds; a window
        that slides with each arrival (capped at ten windows) collects the whole burst,
        where a fixed window from the first arrival split it into a full batch and a
        straggler batch that waited for the first to finish.
        """
        batch = [self._queue.get()]
        cap = time.monotonic() + 10 * self.max_wait_s
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch_size:
            remaining = min(deadline, cap) - time.monotonic()
            try:
                batch.append(self._queue.get(timeout=max(remaining, 0)) if remaining > 0
                             else self._queue.get_nowait())
            except queue.Empty:
                break
            deadline = time.monotonic() + self.max_wait_s
        return batch

    def _serve(self) -> None:
        while True:
            batch = [r for r in self._gather() if r.future.set_running_or_notify_cancel()]
            if not batch:
                continue
            try:
                outputs = self._generate(batch)
            except Exception as exc:
                log.exception("event=batch_failed size=%d", len(batch))
                if len(batch) == 1:
                    batch[0].future.set_exception(exc)
                    continue
                # Isolate the culprit: run each request alone so one bad prompt fails alone.
                for request in batch:
                    try:
                        request.future.set_result(self._generate([request])[0])
                    except Exception as single_exc:
                        request.future.set_exception(single_exc)
                continue
            for request, output in zip(batch, outputs, strict=True):
                request.future.set_result(output)

    @torch.inference_mode()
    def _generate(self, batch: list[GenerationRequest]) -> list[GenerationOutput]:
        tokenizer, model = self.generator.tokenizer, self.generator.model
        prompts = [tokenizer.apply_chat_template(r.messages, tokenize=False,
                                                 add_generation_prompt=True) for r in batch]
        encoded = tokenizer(prompts, return_tensors="pt", padding=True,
                            add_special_tokens=False).to(self.generator.device)
        prompt_length = encoded["input_ids"].shape[1]
        eos_id = tokenizer.eos_token_id
        started = time.perf_counter()
        output = model.generate(
            **encoded,
            max_new_tokens=max(r.max_new_tokens for r in batch) + 1,
            do_sample=False,
            repetition_penalty=REPETITION_PENALTY,
            logits_processor=[_PerRowSampler(batch, prompt_length, eos_id)],
            stopping_criteria=[_ProgressReporter(batch, prompt_length),
                               _SentenceStop(batch, prompt_length, tokenizer)],
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=eos_id,
        )
        elapsed = time.perf_counter() - started
        steps = output.shape[1] - prompt_length
        results = []
        for row, request in enumerate(batch):
            generated = output[row, prompt_length:].tolist()
            finish = "length"
            if eos_id in generated:
                generated = generated[: generated.index(eos_id)]
                finish = "stop" if len(generated) < request.max_new_tokens else "length"
            text = tokenizer.decode(generated, skip_special_tokens=True)
            if request.one_sentence:
                text = whole_sentences(text)
            results.append(GenerationOutput(text=text, tokens=len(generated),
                                            finish_reason=finish, batch_size=len(batch)))
        elapsed = time.perf_counter() - started
        log.info("event=batch_generated size=%d new_tokens=%d seconds=%.2f", len(batch),
                 sum(r.tokens for r in results), elapsed)
        for result in results:
            metrics.generation_batch_size.observe(result.batch_size)
            if elapsed > 0:
                metrics.generation_tokens_per_s.observe(result.tokens / elapsed)
        # A row is in the batch up to and including the step that ended it (its end of turn).
        self.stats["steps"] += steps
        self.stats["row_steps"] += sum(min(r.tokens + 1, steps) for r in results)
        self.stats["step_s"] += elapsed
        log_stats(self.stats)
        return results

    @property
    def mean_rows_per_step(self) -> float:
        return self.stats["row_steps"] / self.stats["steps"] if self.stats["steps"] else 0.0
