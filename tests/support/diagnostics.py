"""Diagnostic job types the test suite adds to the real API and worker, the new way: declared
(`DIAGNOSTIC_TYPES`) and run by families of their own, handed to create_worker.

They let lifecycle tests control timing (sleep, ignore a soft time limit) and failure
(raise) without depending on how long a model takes; `diag_generate` runs real batched
generation of one prompt.
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal

from celery.exceptions import SoftTimeLimitExceeded
from pydantic import Field

from shared.job_types import JobType, Step
from shared.queues import CPU_QUEUE, GPU_QUEUE
from shared.schemas.base import StrictModel
from shared.settings import Settings
from worker.contract import Handler, JobContext, Outcome, QualityCheckFailed
from worker.models.registry import GenerationBackend, ModelRegistry


class SleepInput(StrictModel):
    seconds: float = Field(ge=0, le=60)
    ignore_soft_limit: bool = False
    echo: Any = None
    progress: bool = False  # report {"slept": seconds} as it goes


class TwoStepInput(StrictModel):
    first_seconds: float = Field(0, ge=0, le=30)
    second_seconds: float = Field(0, ge=0, le=30)
    fail_in: Literal["start", "finish"] | None = None
    echo: Any = None
    bad_next_step: bool = False  # the first step names a step the type does not declare


class RaiseInput(StrictModel):
    message: str = "boom"


class GenerateInput(StrictModel):
    prompt: str
    fail: bool = False
    max_words: int = 20
    seed: int = 1
    # The request then carries a seed beyond 64 bits, which torch cannot take: a genuine
    # failure inside the batcher (the API itself refuses such a number in any input).
    unusable_seed: bool = False
    temperature: float = 0.7


DIAGNOSTIC_TYPES = (
    JobType("diag_sleep", "Sleep, then echo", SleepInput, None, CPU_QUEUE, "diagnostic",
            time_limits_s=(4.0, 6.0)),
    JobType("diag_raise", "Raise an error", RaiseInput, None, CPU_QUEUE, "diagnostic"),
    # Two steps, as personalised_recommendations has; both on the cpu lane here, so that the
    # plain test stack runs them (the real type's second step runs on the gpu lane).
    JobType("diag_two_step", "Sleep, hand over, sleep again", TwoStepInput, None, CPU_QUEUE,
            "diagnostic", time_limits_s=(20.0, 25.0), first_step="start",
            steps=(Step("finish", CPU_QUEUE, "diagnostic"),)),
    JobType("diag_generate", "Real batched generation of one prompt", GenerateInput, None,
            GPU_QUEUE, "diagnostic_generation", batches=True),
    # diag_generate under a 2 s soft limit: the threads pool has no Celery time limits, so it
    # shows that generation stops at its deadline by itself.
    JobType("diag_generate_limited", "diag_generate under a 2 s soft limit", GenerateInput,
            None, GPU_QUEUE, "diagnostic_generation", time_limits_s=(2.0, 4.0), batches=True),
)


def sleep_then_echo(job: JobContext) -> Outcome:
    request = SleepInput.model_validate(job.input)
    started = time.monotonic()
    deadline = started + request.seconds
    while time.monotonic() < deadline:
        if request.progress:
            job.report_progress({"slept": round(time.monotonic() - started, 1)})
        try:
            time.sleep(0.05)
        except SoftTimeLimitExceeded:
            if not request.ignore_soft_limit:
                raise
    return Outcome(result={"slept": request.seconds, "echo": request.echo},
                   model_name="diagnostic", model_revision="1")


def _sleep(job: JobContext, seconds: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        job.report_progress({"slept": round(time.monotonic() - started, 1)})
        time.sleep(0.05)


def two_steps(job: JobContext) -> Outcome:
    """Step `start` hands over what it saw; step `finish` returns both steps' view."""
    request = TwoStepInput.model_validate(job.input)
    name = job.step or "start"
    _sleep(job, request.first_seconds if name == "start" else request.second_seconds)
    if request.fail_in == name:
        raise RuntimeError(f"failed on purpose in {name}")
    if name == "start":
        return Outcome(result=None, next_step="nowhere" if request.bad_next_step else "finish",
                       step_state={"echo": request.echo, "start_pid": os.getpid()})
    return Outcome(result={"handed_over": job.step_state, "finish_pid": os.getpid()},
                   model_name="diagnostic", model_revision="1")


def raise_error(job: JobContext) -> Outcome:
    raise RuntimeError(RaiseInput.model_validate(job.input).message)


class DiagnosticFamily:
    """diag_sleep and diag_raise: no model."""

    name = "diagnostic"
    needs = ()

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        pass

    def handler(self, job_type: str) -> Handler:
        return {"diag_sleep": sleep_then_echo, "diag_raise": raise_error,
                "diag_two_step": two_steps}[job_type]


class DiagnosticGenerationFamily:
    """diag_generate(_limited): the worker's real generation backend, one prompt a job."""

    name = "diagnostic_generation"
    needs = ("generation",)

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        self.backend: GenerationBackend = models.require_generation()
        self.candidates = settings.candidates_for(device)

    def handler(self, job_type: str) -> Handler:
        return self.generate_or_fail

    def generate_or_fail(self, job: JobContext) -> Outcome:
        """Real batched generation (one prompt, the worker's candidates); `fail` then raises
        QualityCheckFailed as a result no verified sentence survived would."""
        from worker.generation.candidates import PromptSpec, generate
        from worker.generation.prompts import Template

        request = GenerateInput.model_validate(job.input)
        spec = PromptSpec("diag", Template("diag_generate/v1", "You are a helpful assistant.",
                                           "{prompt}"), {"prompt": request.prompt},
                          max_words=request.max_words, one_sentence=False)
        seed = 2**70 if request.unusable_seed else request.seed
        made = generate(self.backend, [spec], candidates=self.candidates,
                        temperature=request.temperature, seed=seed, context=job)
        generations = [g.as_dict() for g in made]
        if request.fail:
            raise QualityCheckFailed("planted failure", {"generations": generations})
        return Outcome(result={"text": made[0].text, "generations": generations})


def diagnostic_families() -> list:
    return [DiagnosticFamily(), DiagnosticGenerationFamily()]
