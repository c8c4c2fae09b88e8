"""Continuous batching over one causal LM: rows leave the batch the step they finish and
waiting prompts join at the next step, so a short row never waits for a long one.

One thread owns the model. Each step it admits waiting prompts (earliest deadline first)
into free slots, prefilling them in one forward pass and merging their key/value cache into
the running batch (left-padded to a common length, as `generate` pads a static batch), then
decodes one token for every active row. Each row keeps its own seed, temperature, token
budget, repetition penalty (over its own tokens only, so padding never changes a row) and
one-sentence stop. A prompt whose deadline passes before it is admitted fails with
`DeadlineExceeded` and never takes a slot; a row whose deadline passes while it runs is
dropped, freeing its slot.
"""

from __future__ import annotations

import heapq
import inspect
import itertools
import logging
import math
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache

from shared import metrics
from worker.contract import DeadlineExceeded
from worker.generation.engine import (
    MIN_SENTENCE_TOKENS,
    REPETITION_PENALTY,
    SENTENCE_END,
    GenerationOutput,
    GenerationRequest,
    _sample_rows,
    log_stats,
    whole_sentences,
)
from worker.models.generation import Generator

log = logging.getLogger("vitrine.batcher")

PROGRESS_EVERY_S = 0.2
# How often a busy batcher logs its cumulative counters (event=batcher_stats); it also logs
# each time the batch drains, so a reader of the log sees the totals after every burst.
STATS_EVERY_S = 10.0


def cache_keyword(model) -> str:
    """The name the model's forward gives its KV cache: `cache` from transformers 5.2x on,
    `past_key_values` before. An older release takes an unknown `cache` into its **kwargs
    and decodes every step without the prompt, silently."""
    parameters = inspect.signature(model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


@dataclass
class _Row:
    request: GenerationRequest
    generator: torch.Generator
    history: torch.Tensor  # the row's own prompt and generated ids, for the penalty
    position: int  # the next token's position (RoPE): real tokens so far
    started: float
    waited_s: float
    generated: list[int] = field(default_factory=list)
    text_tail: str = ""


def _pad_left(tensor: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    missing = length - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


class ContinuousBatcher:
    """`submit(request) -> Future[GenerationOutput]`, safe to call from many task threads."""

    def __init__(self, generator: Generator, *, max_batch_size: int) -> None:
        self.generator = generator
        self._cache_keyword = cache_keyword(generator.model)
        self.source = generator.source
        self.max_batch_size = max_batch_size
        self._waiting: list[tuple[float, int, GenerationRequest, float]] = []
        self._sequence = itertools.count()
        self._lock = threading.Condition()
        self._rows: list[_Row] = []
        self._cache: DynamicCache | None = None
        self._mask: torch.Tensor | None = None
        self._logits: torch.Tensor | None = None
        # Decode steps per second, smoothed: what deadline checks estimate with.
        self.steps_per_s = 0.0
        self.stats = {"steps": 0, "row_steps": 0, "step_s": 0.0}
        self._thread = threading.Thread(target=self._serve, name="batcher", daemon=True)
        self._thread.start()

    def submit(self, request: GenerationRequest) -> Future:
        deadline = request.deadline if request.deadline is not None else math.inf
        with self._lock:
            heapq.heappush(self._waiting, (deadline, next(self._sequence), request,
                                           time.monotonic()))
            self._lock.notify()
        return request.future

    def seconds_for(self, tokens: int) -> float:
        """Estimated decode time for `tokens` new tokens at the recent step rate."""
        return tokens / self.steps_per_s if self.steps_per_s > 0 else 0.0

    @property
    def mean_rows_per_step(self) -> float:
        return self.stats["row_steps"] / self.stats["steps"] if self.stats["steps"] else 0.0

    # --- the model thread ---------------------------------------------------------------

    def _serve(self) -> None:
        last_progress = last_stats = 0.0
        while True:
            admitted = self._take_waiting(block=not self._rows)
            if admitted:
                self._admit(admitted)
            self._drop_expired()
            if not self._rows:
                continue
            started = time.perf_counter()
            try:
                self._step()
            except Exception as exc:  # a failed step fails the rows in it, not the worker
                log.exception("event=batch_failed size=%d", len(self._rows))
                for row in self._rows:
                    row.request.future.set_exception(exc)
                self._rows, self._cache, self._mask, self._logits = [], None, None, None
                continue
            elapsed = time.perf_counter() - started
            self.stats["step_s"] += elapsed
            rate = 1 / max(elapsed, 1e-6)
            self.steps_per_s = rate if not self.steps_per_s else 0.9 * self.steps_per_s + \
                0.1 * rate
            if time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                last_progress = time.monotonic()
                self._report_progress()
            if not self._rows or time.monotonic() - last_stats >= STATS_EVERY_S:
                last_stats = time.monotonic()
                log_stats(self.stats)

    def _take_waiting(self, block: bool) -> list[tuple[GenerationRequest, float]]:
        """Waiting prompts for the free slots, earliest deadline first; expired ones fail."""
        taken: list[tuple[GenerationRequest, float]] = []
        with self._lock:
            while block and not self._waiting:
                self._lock.wait()
            now = time.monotonic()
            while self._waiting and len(self._rows) + len(taken) < self.max_batch_size:
                deadline, _, request, queued_at = heapq.heappop(self._waiting)
                if not request.future.set_running_or_notify_cancel():
                    continue  # canceled while waiting (its job timed out)
                if deadline < now + self.seconds_for(1):
                    request.future.set_exception(DeadlineExceeded(
                        f"waited {now - queued_at:.1f}s for a batch slot and its job's "
                        f"deadline passed; the batcher decodes {self.steps_per_s:.1f} "
                        f"steps/s with {len(self._rows)} rows"))
                    continue
                taken.append((request, now - queued_at))
        return taken

    @torch.inference_mode()
    def _admit(self, admitted: list[tuple[GenerationRequest, float]]) -> None:
        tokenizer = self.generator.tokenizer
        rows, prompts = [], []
        for request, waited in admitted:
            try:  # a request torch cannot take (e.g. its seed) fails alone
                generator = torch.Generator().manual_seed(request.seed)
                ids = tokenizer.apply_chat_template(request.messages, tokenize=True,
                                                    add_generation_prompt=True,
                                                    return_dict=True)["input_ids"]
                ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)
            except Exception as exc:
                log.exception("event=request_refused")
                request.future.set_exception(exc)
                continue
            rows.append(_Row(request, generator, torch.tensor(ids), len(ids), time.monotonic(),
                             waited))
            prompts.append(ids)
        if not rows:
            return
        try:
            cache, mask, logits = self._prefill(prompts)
        except Exception as exc:
            log.exception("event=prefill_failed size=%d", len(rows))
            for row in rows:
                row.request.future.set_exception(exc)
            return
        if self._cache is None:
            self._cache, self._mask, self._logits = cache, mask, logits
        else:
            self._merge(cache, mask)
            self._logits = torch.cat([self._logits, logits])
        self._rows += rows

    def _prefill(self, prompts: list[list[int]]):
        pad = self.generator.tokenizer.pad_token_id
        length = max(len(p) for p in prompts)
        ids = torch.tensor([[pad] * (length - len(p)) + p for p in prompts])
        mask = torch.tensor([[0] * (length - len(p)) + [1] * len(p) for p in prompts])
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        device = self.generator.device
        # Logits of the last position only: for 64 prompts of ~250 tokens, all of them were
        # ~1.6 GB in fp16 on a GPU.
        output = self.generator.model(input_ids=ids.to(device), attention_mask=mask.to(device),
                                      position_ids=positions.to(device), use_cache=True,
                                      logits_to_keep=1, **{self._cache_keyword: cache})
        return cache, mask.to(device), output.logits[:, -1].float()

    def _merge(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        length = max(self._mask.shape[1], mask.shape[1])
        for mine, theirs in zip(self._cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat([_pad_left(mine.keys, length, 2),
                                   _pad_left(theirs.keys, length, 2)])
            mine.values = torch.cat([_pad_left(mine.values, length, 2),
                                     _pad_left(theirs.values, length, 2)])
        self._mask = torch.cat([_pad_left(self._mask, length, 1), _pad_left(mask, length, 1)])

    def _drop_expired(self) -> None:
        """Rows whose job's deadline has passed stop here: their job has failed already,
        and their slot can serve a prompt that can still make it."""
        now = time.monotonic()
        expired = [i for i, r in enumerate(self._rows)
                   if r.request.deadline is not None and r.request.deadline < now]
        if not expired:
            return
        for index in expired:
            row = self._rows[index]
            row.request.future.set_exception(DeadlineExceeded(
                f"its job's deadline passed after {len(row.generated)} of its "
                f"{row.request.max_new_tokens} tokens; the batcher decodes "
                f"{self.steps_per_s:.1f} steps/s with {len(self._rows)} rows"))
        keep = [i for i in range(len(self._rows)) if i not in set(expired)]
        logits = self._logits[keep] if keep else None
        self._keep(keep)
        self._logits = logits

    def _keep(self, keep: list[int]) -> None:
        """Drop finished rows from the cache, and columns no remaining row uses."""
        if len(keep) == len(self._rows):
            # Nothing left: indexing would copy the whole KV cache (every layer's keys and
            # values: ~220 MB a step at 16 rows of ~300 tokens in fp32) for no change.
            return
        if not keep:
            self._rows, self._cache, self._mask, self._logits = [], None, None, None
            return
        index = torch.tensor(keep, device=self._mask.device)
        mask = self._mask[index]
        first = int((mask.sum(0) > 0).int().argmax())
        for layer in self._cache.layers:
            layer.keys = layer.keys[index][:, :, first:]
            layer.values = layer.values[index][:, :, first:]
        self._mask = mask[:, first:]
        self._rows = [self._rows[i] for i in keep]

    @torch.inference_mode()
    def _step(self) -> None:
        """Choose each row's next token, retire finished rows, decode one step for the rest."""
        tokenizer = self.generator.tokenizer
        eos = tokenizer.eos_token_id
        # Sampled where the logits are (the GPU on cuda): copying 64 x 49k logits to the CPU
        # and sorting them there each step cost more than the decode step.
        scores = self._penalised(self._logits)
        device = scores.device
        temperatures = torch.tensor([r.request.temperature or 1.0 for r in self._rows])
        uniforms = torch.cat([torch.rand(1, generator=r.generator) for r in self._rows])
        chosen = _sample_rows(scores, temperatures.to(device), uniforms.to(device))
        greedy = torch.tensor([r.request.temperature == 0 for r in self._rows]).to(device)
        chosen[greedy] = torch.argmax(scores[greedy], dim=-1)
        keep: list[int] = []
        for index, (row, token) in enumerate(zip(self._rows, chosen.tolist(), strict=True)):
            if token == eos:
                self._finish(row, "stop")
                continue
            row.generated.append(token)
            row.history = torch.cat([row.history, torch.tensor([token])])
            if len(row.generated) >= row.request.max_new_tokens:
                self._finish(row, "length")
            elif row.request.one_sentence and self._ended_sentence(row, token):
                self._finish(row, "stop")
            else:
                keep.append(index)
        self.stats["steps"] += 1
        self.stats["row_steps"] += len(self._rows)
        tokens = chosen[keep]
        self._keep(keep)
        if not self._rows:
            return
        device = self.generator.device
        self._mask = torch.cat([self._mask, self._mask.new_ones(len(self._rows), 1)], 1)
        positions = torch.tensor([[row.position] for row in self._rows], device=device)
        output = self.generator.model(input_ids=tokens[:, None].to(device),
                                      attention_mask=self._mask, position_ids=positions,
                                      use_cache=True, **{self._cache_keyword: self._cache})
        for row in self._rows:
            row.position += 1
        self._logits = output.logits[:, -1].float()

    def _penalised(self, logits: torch.Tensor) -> torch.Tensor:
        """The repetition penalty over each row's own prompt and output, as `generate`
        applies it, but never over another row's padding."""
        scores = logits.clone()
        # Every (row, token seen) pair at once: one copy to the logits' device, not a few
        # small operations per row. A token seen twice is penalised once, as in generate.
        rows = torch.cat([torch.full((len(row.history),), index)
                          for index, row in enumerate(self._rows)]).to(scores.device)
        seen = torch.cat([row.history for row in self._rows]).to(scores.device)
        values = scores[rows, seen]
        scores[rows, seen] = torch.where(values < 0, values * REPETITION_PENALTY,
                                         values / REPETITION_PENALTY)
        return scores

    def _ended_sentence(self, row: _Row, token: int) -> bool:
        piece = self.generator.tokenizer.decode([token])
        ended = (len(row.generated) >= MIN_SENTENCE_TOKENS and piece[:1].isspace()
                 and SENTENCE_END.search(row.text_tail) is not None)
        row.text_tail = piece
        return ended

    def _finish(self, row: _Row, reason: str) -> None:
        text = self.generator.tokenizer.decode(row.generated, skip_special_tokens=True)
        if row.request.one_sentence:
            text = whole_sentences(text)
        generate_s = time.monotonic() - row.started
        metrics.generation_batch_size.observe(len(self._rows))
        if generate_s > 0:
            metrics.generation_tokens_per_s.observe(len(row.generated) / generate_s)
        row.request.future.set_result(GenerationOutput(
            text=text, tokens=len(row.generated), finish_reason=reason,
            batch_size=len(self._rows), waited_s=round(row.waited_s, 3),
            generate_s=round(generate_s, 3)))

    def _report_progress(self) -> None:
        for row in self._rows:
            if row.request.on_progress:
                try:
                    row.request.on_progress(len(row.generated))
                except Exception:  # a progress write must never break the batch
                    log.exception("event=progress_callback_failed")
