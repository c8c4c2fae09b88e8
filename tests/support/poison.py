"""A job type whose handler returns results no database or client can take back.

Its test declares it to its own API (`POISON`); `celery -A tests.support.poison_worker` runs it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from shared.job_types import JobType
from shared.queues import CPU_QUEUE
from shared.schemas.base import StrictModel
from shared.settings import Settings
from worker.contract import Handler, JobContext, Outcome
from worker.models.registry import ModelRegistry


class Poison(StrEnum):
    NAN = "nan"
    INFINITY = "infinity"
    NUL = "nul"
    NOT_JSON = "not_json"
    NUL_IN_ERROR = "nul_in_error"


class PoisonInput(StrictModel):
    kind: Poison


def return_poison(job: JobContext) -> Outcome:
    """What a profile with a year-1 purchase returned: scores that are NaN, and the like."""
    kind = PoisonInput.model_validate(job.input).kind
    if kind is Poison.NUL_IN_ERROR:
        raise RuntimeError("the model said \x00 and stopped")
    bad = {Poison.NAN: float("nan"), Poison.INFINITY: float("inf"), Poison.NUL: "a\x00b",
           Poison.NOT_JSON: datetime(2011, 1, 1, tzinfo=UTC)}[kind]
    return Outcome(result={"interest_tags": [{"tag": "mugs", "score": 0.5},
                                             {"tag": "candles", "score": bad}]})


class PoisonFamily:
    name = "poison"
    needs = ()

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        pass

    def handler(self, job_type: str) -> Handler:
        return return_poison


POISON_TYPE = "diag_poison"
POISON = JobType(POISON_TYPE, "Return a result no database can store", PoisonInput, None,
                 CPU_QUEUE, "poison")
