"""The job envelope (`POST /v1/jobs`) and the job view every read returns."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AnyHttpUrl, Field, field_validator

from shared.models import Job
from shared.schemas.base import StrictModel


class WebhookEvent(StrEnum):
    STARTED = "started"
    PROGRESS = "progress"
    COMPLETED = "completed"


class WebhookSpec(StrictModel):
    url: AnyHttpUrl = Field(description="http(s) URL that receives the job's events.")
    events: list[WebhookEvent] = Field(
        default_factory=lambda: [WebhookEvent.COMPLETED], min_length=1, max_length=3
    )


class JobCreate(StrictModel):
    """Body of POST /v1/jobs; `input` is validated against the schema of `type`."""

    type: str = Field(description="Job type, e.g. user_profile.", min_length=1, max_length=64)
    input: dict[str, Any] = Field(description="Input for the job type; see its schema.")
    priority: int = Field(5, ge=0, le=9, description="0 (lowest) to 9 (most urgent).")
    webhook: WebhookSpec | None = None

    @field_validator("webhook")
    @classmethod
    def _http_only(cls, value: WebhookSpec | None) -> WebhookSpec | None:
        if value is not None and value.url.scheme not in {"http", "https"}:
            raise ValueError("webhook url must use http or https")
        return value


class JobError(StrictModel):
    code: str
    message: str


class JobTimings(StrictModel):
    created_at: str
    started_at: str | None
    finished_at: str | None
    queue_seconds: float | None
    run_seconds: float | None


class JobModelInfo(StrictModel):
    name: str | None
    revision: str | None


class JobView(StrictModel):
    """What GET /v1/jobs/{id} returns."""

    id: str
    type: str
    status: str
    priority: int
    input: dict[str, Any]
    result: dict[str, Any] | None
    progress: dict[str, Any] | None
    error: JobError | None
    attempts: int
    model: JobModelInfo
    worker_host: str | None
    timings: JobTimings
    webhook: dict[str, Any] | None
    request_id: str | None = Field(None, description="X-Request-Id of the submitting request")
    erased_at: str | None = Field(None, description="When DELETE /v1/jobs/{id} erased its "
                                                    "input and result (ISO 8601 UTC)")
    queue_position: int | None = Field(
        None, description="While queued, on GET /v1/jobs/{id}: jobs of its queue expected "
                          "to start before it.")
    estimated_start_at: str | None = Field(
        None, description="While queued, on GET /v1/jobs/{id}: when it should start at "
                          "its queue's recent throughput (null when unknown).")


class JobList(StrictModel):
    jobs: list[JobView]
    next_cursor: str | None


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def job_view(job: Job) -> dict[str, Any]:
    """The public JSON shape of a job (matches JobView)."""
    return {
        "id": str(job.id),
        "type": job.type,
        "status": job.status,
        "priority": job.priority,
        "input": job.input,
        "result": job.result,
        "progress": job.progress,
        "error": (
            {"code": job.error_code, "message": job.error_message or ""}
            if job.error_code else None
        ),
        "attempts": job.attempts,
        "model": {"name": job.model_name, "revision": job.model_revision},
        "worker_host": job.worker_host,
        "timings": {
            "created_at": iso(job.created_at),
            "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at),
            "queue_seconds": job.queue_seconds,
            "run_seconds": job.run_seconds,
        },
        "webhook": job.webhook,
        "request_id": job.request_id,
        "erased_at": iso(job.erased_at),
        "queue_position": None,
        "estimated_start_at": None,
    }


class TenantLaneView(StrictModel):
    queued: int
    held: int = Field(description="Queued jobs waiting for the tenant's in-flight cap.")
    running: int
    in_flight_cap: int | None


class LaneView(StrictModel):
    queue: str
    job_types: list[str]
    depth: int = Field(description="Jobs queued on this queue, all tenants.")
    running: int
    workers: int = Field(description="Worker processes heard of lately that consume it.")
    throughput_per_min: float | None
    tenant: TenantLaneView


class LaneList(StrictModel):
    queues: list[LaneView]
