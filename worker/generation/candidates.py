"""Run a job's prompts, several candidates each, as one burst into the generation backend.

All of a job's prompts and candidates are submitted at once, so they share batches with
each other (and with other jobs) instead of waiting for one another. Candidate 0 of each
prompt is greedy, the others sample at the job's temperature with seed + n, so the same
input and seed give the same candidates. Every generation is kept for the audit.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from worker.contract import DeadlineExceeded, JobCanceled, JobContext, JobTimedOut
from worker.generation.engine import REPETITION_PENALTY, TOP_P, GenerationRequest
from worker.generation.prompts import Template
from worker.generation.verify import Verdict

TOKENS_PER_WORD = 1.6  # English averages ~1.3 tokens a word; leave room for punctuation
ROW_DEADLINE_MARGIN_S = 2.0  # at most; 10 % of the time left when that is less


@dataclass
class PromptSpec:
    """One thing to ask the model, and the fact its answer must stay close to."""

    key: str  # e.g. "opening", "fact:3", "seo"
    template: Template
    values: dict[str, str]
    max_words: int
    source: str | None = None
    one_sentence: bool = True

    @property
    def max_new_tokens(self) -> int:
        return int(self.max_words * TOKENS_PER_WORD) + 8


@dataclass
class Generation:
    """One candidate the model wrote, and what the verifier made of each of its sentences."""

    key: str
    candidate: int
    seed: int
    temperature: float
    template_id: str
    text: str
    tokens: int
    finish_reason: str
    batch_size: int
    max_new_tokens: int = 0
    waited_s: float = 0.0  # in the batcher's queue before its first decode step
    generate_s: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)
    used: list[str] = field(default_factory=list)  # sentences that made it into the result

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "candidate": self.candidate, "seed": self.seed,
                "temperature": self.temperature, "template_id": self.template_id,
                "text": self.text, "tokens": self.tokens, "finish_reason": self.finish_reason,
                "batch_size": self.batch_size, "waited_s": self.waited_s,
                "generate_s": self.generate_s,
                "sentences": [v.as_dict() for v in self.verdicts], "used": self.used}


def decoding(candidates: int, temperature: float, seed: int) -> dict[str, Any]:
    """How the candidates were drawn, as recorded on every result."""
    return {"seed": seed, "candidates": candidates, "temperature": temperature,
            "greedy_first": True, "top_p": TOP_P, "repetition_penalty": REPETITION_PENALTY}


def generate(backend, specs: list[PromptSpec], *, candidates: int, temperature: float,
             seed: int, context: JobContext) -> list[Generation]:
    """Every spec x candidate, submitted together; waits within the job's deadline."""
    if temperature <= 0:
        candidates = 1  # greedy candidates would all be the same text
    # Rows get a deadline a little before the job's, so a row still decoding when time runs
    # out is dropped by the batcher (`deadline_exceeded`, its slot freed) before the wait
    # below would see the limit and call it a `timeout`.
    left = context.seconds_left()
    deadline = time.monotonic() + left - min(ROW_DEADLINE_MARGIN_S, 0.1 * left)
    pending: list[tuple[Generation, Future]] = []
    for spec in specs:
        messages = spec.template.messages(**spec.values)
        for n in range(candidates):
            request_seed = seed + len(pending)
            request_temperature = 0.0 if n == 0 else temperature
            generation = Generation(spec.key, n, request_seed, request_temperature,
                                    spec.template.id, "", 0, "", 0, spec.max_new_tokens)
            future = backend.submit(GenerationRequest(
                messages=messages, max_new_tokens=spec.max_new_tokens,
                temperature=request_temperature, seed=request_seed,
                one_sentence=spec.one_sentence, deadline=deadline))
            pending.append((generation, future))
    _wait(backend, pending, context)
    return [generation for generation, _ in pending]


def timings(generations: list[Generation]) -> dict[str, float]:
    """Seconds the job's prompts waited for a batch slot, and spent being generated."""
    return {"batch_wait_s": max((g.waited_s for g in generations), default=0.0),
            "generation_s": max((g.generate_s for g in generations), default=0.0)}


def _wait(backend, pending: list[tuple[Generation, Future]], context: JobContext) -> None:
    try:
        _wait_for_all(backend, pending, context)
    except JobCanceled:  # the client canceled the job: its prompts not begun never start
        _cancel(pending)
        raise


def _wait_for_all(backend, pending: list[tuple[Generation, Future]],
                  context: JobContext) -> None:
    done = 0
    for generation, future in pending:
        while True:
            try:
                output = future.result(timeout=0.25)
                break
            except FutureTimeout:
                _give_up_if_late(backend, pending, context)
                waiting = not any(f.running() or f.done() for _, f in pending)
                context.report_progress({
                    "state": "waiting for a batch slot" if waiting else "generating",
                    "generations": done, "of": len(pending), "tokens": _tokens(pending)})
        generation.text, generation.tokens = output.text, output.tokens
        generation.finish_reason, generation.batch_size = output.finish_reason, output.batch_size
        generation.waited_s, generation.generate_s = output.waited_s, output.generate_s
        done += 1
    context.report_progress({"state": "verifying", "generations": done, "of": len(pending),
                             "tokens": _tokens(pending)}, force=True)


def _give_up_if_late(backend, pending: list[tuple[Generation, Future]],
                     context: JobContext) -> None:
    """Stop now, not at the time limit, when the job can no longer finish in time: the
    backend's recent decode rate says how long its prompts still waiting would take."""
    left = context.seconds_left()
    if left <= 0:
        _cancel(pending)
        raise JobTimedOut("generation did not finish before the job's time limit")
    estimate = getattr(backend, "seconds_for", None)
    unstarted = [g.max_new_tokens for g, f in pending if not (f.running() or f.done())]
    if estimate is None or not unstarted:
        return
    needed = estimate(max(unstarted))
    if needed > left:
        _cancel(pending)
        raise DeadlineExceeded(
            f"the job would need about {needed:.0f}s more on the shared model "
            f"({backend.steps_per_s:.1f} decode steps/s) and has {left:.0f}s left before "
            "its time limit")


def _cancel(pending: list[tuple[Generation, Future]]) -> None:
    for _, future in pending:
        future.cancel()


def _tokens(pending: list[tuple[Generation, Future]]) -> int:
    return sum(g.tokens for g, _ in pending)
