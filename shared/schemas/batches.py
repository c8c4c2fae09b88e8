"""Batches (`POST /v1/batches`): one line per job, and the batch view every read returns."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.schemas.base import StrictModel
from shared.schemas.jobs import WebhookEvent, WebhookSpec

CUSTOM_ID_MAX = 255


class BatchLine(StrictModel):
    """One line of a batch: a job with the caller's own id for it (unique in the batch)."""

    custom_id: str = Field(min_length=1, max_length=CUSTOM_ID_MAX,
                           description="Your id for this line; results carry it.")
    type: str = Field(min_length=1, max_length=64, description="Job type, e.g. user_profile.")
    input: dict[str, Any] = Field(description="Input for the job type; see JobInputs.")
    priority: int = Field(5, ge=0, le=9)


class BatchOptions(StrictModel):
    """What applies to the whole batch."""

    webhook: WebhookSpec | None = Field(
        None, description="Where the batch's `completed` event goes when every job has "
                          "ended (events other than `completed` are not sent for a batch).")
    job_events: list[WebhookEvent] | None = Field(
        None, min_length=1, max_length=3,
        description="Also send these events of each job to the webhook's url.")


class BatchCreate(BatchOptions):
    """Body of POST /v1/batches as JSON; a JSONL upload carries the lines one per line."""

    requests: list[Any] = Field(
        min_length=1, description="The lines, each a BatchLine; a line that is not valid is "
                                  "reported in `invalid_lines`, the others run.")


class RequestCounts(StrictModel):
    total: int
    queued: int
    running: int
    succeeded: int
    failed: int
    canceled: int


class InvalidLine(StrictModel):
    line: int = Field(description="1-based line number (index + 1 in a JSON body).")
    custom_id: str | None
    code: str
    message: str
    details: list[dict[str, str]]


class BatchTimings(StrictModel):
    created_at: str
    finished_at: str | None
    elapsed_seconds: float
    jobs_per_second: float | None
    eta_seconds: float | None


class BatchView(StrictModel):
    """What GET /v1/batches/{id} returns."""

    id: str
    status: str = Field(description="creating (its lines are being recorded), in_progress, "
                                    "completed or canceled.")
    request_counts: RequestCounts
    invalid_count: int
    invalid_lines: list[InvalidLine] = Field(description="The first 100 refused lines; all "
                                                         "of them are in the results.")
    timings: BatchTimings
    webhook: dict[str, Any] | None
    job_events: list[str] | None
    retry_of: str | None


class BatchList(StrictModel):
    batches: list[BatchView]
    next_cursor: str | None
