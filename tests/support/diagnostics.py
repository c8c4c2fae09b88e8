"""Diagnostic job types the test suite adds to the real API and worker.

They let lifecycle tests control timing (sleep, ignore a soft time limit) and failure
(raise) without depending on how long a model takes.
"""

from __future__ import annotations

import time
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from pydantic import Field

from shared.job_types import register_job_type
from shared.schemas.base import StrictModel
from worker.models.registry import ModelRegistry
from worker.runner import Outcome


class SleepInput(StrictModel):
    seconds: float = Field(ge=0, le=60)
    ignore_soft_limit: bool = False
    echo: Any = None


class RaiseInput(StrictModel):
    message: str = "boom"


def sleep_then_echo(job_input: dict[str, Any], models: ModelRegistry) -> Outcome:
    request = SleepInput.model_validate(job_input)
    deadline = time.monotonic() + request.seconds
    while time.monotonic() < deadline:
        try:
            time.sleep(0.05)
        except SoftTimeLimitExceeded:
            if not request.ignore_soft_limit:
                raise
    return Outcome(result={"slept": request.seconds, "echo": request.echo},
                   model_name="diagnostic", model_revision="1")


def raise_error(job_input: dict[str, Any], models: ModelRegistry) -> Outcome:
    raise RuntimeError(RaiseInput.model_validate(job_input).message)


DIAGNOSTIC_HANDLERS = {"diag_sleep": sleep_then_echo, "diag_raise": raise_error}
DIAGNOSTIC_ROUTES = "diag_sleep=cpu,diag_raise=cpu"
DIAGNOSTIC_LIMITS = "diag_sleep=4/6"


def register_diagnostic_types() -> None:
    register_job_type("diag_sleep", SleepInput)
    register_job_type("diag_raise", RaiseInput)
