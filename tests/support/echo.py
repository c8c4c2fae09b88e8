"""The README's worked example of "Adding a job type", run by the tests: one declaration
and one family module. README.md quotes the two marked parts of this file verbatim."""

from __future__ import annotations

from pydantic import Field

from shared.job_types import JobType
from shared.queues import CPU_QUEUE
from shared.schemas.base import StrictModel
from shared.schemas.results import ResultModel
from shared.settings import Settings
from worker.contract import Handler, JobContext, Outcome
from worker.models.registry import ModelRegistry


# --- the declaration (in shared/job_types.py, with its schemas in shared/schemas/) ---
class EchoInput(StrictModel):
    text: str = Field(min_length=1, max_length=200)


class EchoResult(ResultModel):
    echo: str


ECHO = JobType("echo", "Say the text back", EchoInput, EchoResult, CPU_QUEUE, "echo")
# --- end of the declaration ---


# --- the family (a module in worker/) ---
class EchoFamily:
    name = "echo"
    needs = ()  # model kinds to load first: "embedding", "generation"

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None:
        pass  # once per worker process, before its first job: load and prepare here

    def handler(self, job_type: str) -> Handler:
        return say_it_back


def say_it_back(job: JobContext) -> Outcome:
    return Outcome(result={"echo": job.input["text"]})
# --- end of the family ---
