"""Generate, tidy, check, and regenerate until a result passes every blocking check."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from shared.settings import Settings
from worker.generation.checks import CheckResult
from worker.generation.engine import (
    REPETITION_PENALTY,
    TOP_P,
    BatchingGenerator,
    GenerationOutput,
    GenerationRequest,
)
from worker.generation.prompts import Template
from worker.models.registry import ModelRegistry
from worker.runner import JobContext, JobTimedOut, QualityCheckFailed

_engine_lock = threading.Lock()
_engines: dict[int, BatchingGenerator] = {}

TOKENS_PER_WORD = 1.6  # English averages ~1.3 tokens a word; leave room for punctuation


def engine_for(models: ModelRegistry, settings: Settings) -> BatchingGenerator:
    """The process's one batcher over its generation model, started on first use."""
    generator = models.require_generator()
    with _engine_lock:
        if id(generator) not in _engines:
            _engines[id(generator)] = BatchingGenerator(
                generator, max_batch_size=settings.generation_max_batch_size,
                max_wait_ms=settings.generation_max_wait_ms)
        return _engines[id(generator)]


@dataclass
class Candidate:
    """One attempt's output after tidying: the result fields and the checks it got."""

    fields: dict[str, Any]
    checks: list[CheckResult]

    @property
    def blocking_failures(self) -> list[str]:
        return [c.name for c in self.checks if c.blocking and not c.passed]


@dataclass
class AttemptPlan:
    template: Template
    values: dict[str, str]
    max_words: int
    temperature: float
    seed: int | None
    extra_tokens: int = 16
    attempts_log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def max_new_tokens(self) -> int:
        return int(self.max_words * TOKENS_PER_WORD) + self.extra_tokens


def _wait(engine: BatchingGenerator, request: GenerationRequest, context: JobContext,
          attempt: int) -> GenerationOutput:
    seen = {"tokens": 0}
    request.on_progress = lambda tokens: seen.__setitem__("tokens", tokens)
    future = engine.submit(request)
    while True:
        try:
            return future.result(timeout=0.25)
        except FutureTimeout:
            if context.seconds_left() <= 0:
                future.cancel()
                raise JobTimedOut("generation did not finish before the job's time limit") from None
            context.report_progress({"tokens": seen["tokens"],
                                     "max_tokens": request.max_new_tokens,
                                     "attempt": attempt})


def generate_until_clean(
    engine: BatchingGenerator,
    plan: AttemptPlan,
    context: JobContext,
    settings: Settings,
    build: Callable[[str], Candidate],
) -> tuple[Candidate, dict[str, Any]]:
    """Run up to VITRINE_QUALITY_ATTEMPTS generations; return the first clean candidate.

    Every attempt is recorded. With a seed, attempt k uses seed + k, so the same input and
    seed always give the same result; without one a random seed is drawn and recorded.
    """
    base_seed = plan.seed if plan.seed is not None else random.randrange(2**31)
    messages = plan.template.messages(**plan.values)
    for attempt in range(settings.quality_attempts):
        temperature = plan.temperature if attempt == 0 or plan.temperature > 0 else 0.7
        decoding = {"seed": base_seed + attempt, "temperature": temperature, "top_p": TOP_P,
                    "repetition_penalty": REPETITION_PENALTY,
                    "max_new_tokens": plan.max_new_tokens}
        request = GenerationRequest(messages=messages, max_new_tokens=plan.max_new_tokens,
                                    temperature=temperature, seed=base_seed + attempt)
        output = _wait(engine, request, context, attempt + 1)
        candidate = build(output.text)
        plan.attempts_log.append({
            "attempt": attempt + 1, "decoding": decoding, "tokens": output.tokens,
            "finish_reason": output.finish_reason, "batch_size": output.batch_size,
            "blocking_failures": candidate.blocking_failures,
        })
        context.report_progress({"tokens": output.tokens, "max_tokens": plan.max_new_tokens,
                                 "attempt": attempt + 1}, force=True)
        if not candidate.blocking_failures:
            return candidate, decoding
    failures = "; ".join(f"attempt {a['attempt']}: {', '.join(a['blocking_failures'])}"
                         for a in plan.attempts_log)
    raise QualityCheckFailed(
        f"no attempt passed the blocking checks ({failures})",
        {"attempts": plan.attempts_log, "last_checks": {c.name: c.as_dict()
                                                         for c in candidate.checks},
         "prompt": {"template_id": plan.template.id, "template_hash": plan.template.hash}},
    )


def result_metadata(plan: AttemptPlan, decoding: dict[str, Any], candidate: Candidate,
                    redactions: dict[str, int]) -> dict[str, Any]:
    """What every generation result carries so that it can be reproduced and audited."""
    return {
        "checks": {c.name: c.as_dict() for c in candidate.checks},
        "prompt": {"template_id": plan.template.id, "template_hash": plan.template.hash},
        "decoding": decoding,
        "attempts": plan.attempts_log,
        "redactions": redactions,
    }
