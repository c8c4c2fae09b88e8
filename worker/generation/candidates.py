"""Run a job's prompts, several candidates each, as one burst into the generation backend.

All of a job's prompts and candidates are submitted at once, so they share batches with
each other (and with other jobs) instead of waiting for one another. Candidate 0 of each
prompt is greedy, the others sample at the job's temperature with seed + n, so the same
input and seed give the same candidates. Every generation is kept for the audit.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from worker.contract import JobContext, JobTimedOut
from worker.generation.engine import REPETITION_PENALTY, TOP_P, GenerationRequest
from worker.generation.prompts import Template
from worker.generation.verify import Verdict

TOKENS_PER_WORD = 1.6  # English averages ~1.3 tokens a word; leave room for punctuation


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
    verdicts: list[Verdict] = field(default_factory=list)
    used: list[str] = field(default_factory=list)  # sentences that made it into the result

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "candidate": self.candidate, "seed": self.seed,
                "temperature": self.temperature, "template_id": self.template_id,
                "text": self.text, "tokens": self.tokens, "finish_reason": self.finish_reason,
                "batch_size": self.batch_size,
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
    pending: list[tuple[Generation, Future]] = []
    for spec in specs:
        messages = spec.template.messages(**spec.values)
        for n in range(candidates):
            request_seed = seed + len(pending)
            request_temperature = 0.0 if n == 0 else temperature
            generation = Generation(spec.key, n, request_seed, request_temperature,
                                    spec.template.id, "", 0, "", 0)
            future = backend.submit(GenerationRequest(
                messages=messages, max_new_tokens=spec.max_new_tokens,
                temperature=request_temperature, seed=request_seed,
                one_sentence=spec.one_sentence))
            pending.append((generation, future))
    _wait(pending, context)
    return [generation for generation, _ in pending]


def _wait(pending: list[tuple[Generation, Future]], context: JobContext) -> None:
    done = 0
    for generation, future in pending:
        while True:
            try:
                output = future.result(timeout=0.25)
                break
            except FutureTimeout:
                if context.seconds_left() <= 0:
                    for _, other in pending:
                        other.cancel()
                    raise JobTimedOut(
                        "generation did not finish before the job's time limit") from None
                context.report_progress({"generations": done, "of": len(pending),
                                         "tokens": _tokens(pending)})
        generation.text, generation.tokens = output.text, output.tokens
        generation.finish_reason, generation.batch_size = output.finish_reason, output.batch_size
        done += 1
    context.report_progress({"generations": done, "of": len(pending),
                             "tokens": _tokens(pending)}, force=True)


def _tokens(pending: list[tuple[Generation, Future]]) -> int:
    return sum(g.tokens for g, _ in pending)
