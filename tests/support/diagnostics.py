"""Diagnostic job types the test suite adds to the real API and worker.

They let lifecycle tests control timing (sleep, ignore a soft time limit) and failure
(raise) without depending on how long a model takes.
"""

from __future__ import annotations

import time
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from pydantic import Field

from shared.job_types import JobType
from shared.queues import CPU_QUEUE, GPU_QUEUE
from shared.schemas.base import StrictModel
from worker.models.registry import ModelRegistry
from worker.runner import Outcome


class SleepInput(StrictModel):
    seconds: float = Field(ge=0, le=60)
    ignore_soft_limit: bool = False
    echo: Any = None
    progress: bool = False  # report {"slept": seconds} as it goes


class RaiseInput(StrictModel):
    message: str = "boom"


def sleep_then_echo(job_input: dict[str, Any], models: ModelRegistry, context) -> Outcome:
    request = SleepInput.model_validate(job_input)
    started = time.monotonic()
    deadline = started + request.seconds
    while time.monotonic() < deadline:
        if request.progress:
            context.report_progress({"slept": round(time.monotonic() - started, 1)})
        try:
            time.sleep(0.05)
        except SoftTimeLimitExceeded:
            if not request.ignore_soft_limit:
                raise
    return Outcome(result={"slept": request.seconds, "echo": request.echo},
                   model_name="diagnostic", model_revision="1")


def raise_error(job_input: dict[str, Any], models: ModelRegistry, context) -> Outcome:
    raise RuntimeError(RaiseInput.model_validate(job_input).message)


DIAGNOSTIC_ROUTES = ("diag_sleep=cpu,diag_raise=cpu,diag_generate=gpu,"
                     "diag_generate_limited=gpu")
# diag_generate_limited is diag_generate under a 2 s soft limit: the threads pool has no
# Celery time limits, so it shows that generation stops at its deadline by itself.
DIAGNOSTIC_LIMITS = "diag_sleep=4/6,diag_generate_limited=2/4"


class GenerateInput(StrictModel):
    prompt: str
    fail: bool = False
    max_words: int = 20
    seed: int = 1  # not bounded: a seed torch cannot take makes the batch raise
    temperature: float = 0.7


DIAGNOSTIC_TYPES = (
    JobType("diag_sleep", "Sleep, then echo", SleepInput, None, CPU_QUEUE, "diagnostic",
            time_limits_s=(4.0, 6.0)),
    JobType("diag_raise", "Raise an error", RaiseInput, None, CPU_QUEUE, "diagnostic"),
    JobType("diag_generate", "Real batched generation of one prompt", GenerateInput, None,
            GPU_QUEUE, "diagnostic_generation", batches=True),
    # diag_generate under a 2 s soft limit: the threads pool has no Celery time limits, so it
    # shows that generation stops at its deadline by itself.
    JobType("diag_generate_limited", "diag_generate under a 2 s soft limit", GenerateInput,
            None, GPU_QUEUE, "diagnostic_generation", time_limits_s=(2.0, 4.0), batches=True),
)


def generate_or_fail(job_input: dict[str, Any], models: ModelRegistry, context) -> Outcome:
    """Real batched generation (one prompt, the worker's candidates); `fail` then raises
    QualityCheckFailed as a result no verified sentence survived would."""
    from worker.generation.candidates import PromptSpec, generate
    from worker.generation.prompts import Template
    from worker.runner import QualityCheckFailed

    request = GenerateInput.model_validate(job_input)
    spec = PromptSpec("diag", Template("diag_generate/v1", "You are a helpful assistant.",
                                       "{prompt}"), {"prompt": request.prompt},
                      max_words=request.max_words, one_sentence=False)
    made = generate(models.require_generation(), [spec],
                    candidates=context.settings.candidates_for(models.device),
                    temperature=request.temperature, seed=request.seed, context=context)
    generations = [g.as_dict() for g in made]
    if request.fail:
        raise QualityCheckFailed("planted failure", {"generations": generations})
    return Outcome(result={"text": made[0].text, "generations": generations})


DIAGNOSTIC_HANDLERS = {"diag_sleep": sleep_then_echo, "diag_raise": raise_error,
                       "diag_generate": generate_or_fail,
                       "diag_generate_limited": generate_or_fail}
