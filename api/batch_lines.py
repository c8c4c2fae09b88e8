"""Reading a batch's lines (a JSON body or a JSONL upload) and checking each one up front.

A line that is not valid does not fail the batch: it becomes an `invalid_lines` entry with its
line number, custom_id (when readable), and the same code, message and JSON paths a single
POST /v1/jobs would have answered. The valid lines become job rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import g, request

from api.body import parse_json
from api.errors import ApiError, validated
from api.jobs import INPUT_CHECKS  # the same database checks as a single submission
from api.services import get_db, get_job_types
from shared import tenant_settings
from shared.catalogs import InputProblem
from shared.schemas.batches import BatchCreate, BatchLine, BatchOptions
from shared.status import JobStatus

MAX_LINES = 50_000
# A batch is read whole: 50,000 lines of a few hundred bytes, well under this.
MAX_BATCH_BYTES = 64 * 1024 * 1024
JSONL_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/jsonlines",
                         "application/x-jsonlines"})


@dataclass
class CheckedLines:
    options: BatchOptions
    rows: list[dict[str, Any]] = field(default_factory=list)  # Job columns, one per job
    invalid: list[dict[str, Any]] = field(default_factory=list)


def read_request() -> tuple[BatchOptions, list[tuple[int, Any]]]:
    """The batch's options and its raw lines as (line number, parsed value or ApiError)."""
    request.max_content_length = MAX_BATCH_BYTES
    mimetype = request.mimetype
    if mimetype in JSONL_TYPES:
        options = validated(BatchOptions, _options_from_query(), "batch options are invalid")
        return options, list(_jsonl_lines(request.get_data(cache=True)))
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       "expected application/json (a body with `requests`) or "
                       f"application/x-ndjson (one line per job), got {mimetype or 'none'!r}")
    body = parse_json(request.get_data(cache=True))
    if not isinstance(body, dict):
        raise ApiError(422, "validation_error", "request body must be a JSON object",
                       [{"path": "$", "problem": f"expected an object, got "
                                                 f"{type(body).__name__}"}])
    envelope = validated(BatchCreate, body, "batch request is invalid")
    _check_count(len(envelope.requests), "requests")
    options = BatchOptions(webhook=envelope.webhook, job_events=envelope.job_events)
    return options, list(enumerate(envelope.requests, start=1))


def _options_from_query() -> dict[str, Any]:
    options: dict[str, Any] = {}
    if url := request.args.get("webhook_url"):
        options["webhook"] = {"url": url}
    if events := request.args.get("job_events"):
        options["job_events"] = [e.strip() for e in events.split(",")]
    return options


def _check_count(count: int, path: str) -> None:
    if count > MAX_LINES:
        raise ApiError(422, "validation_error", f"a batch holds at most {MAX_LINES} lines",
                       [{"path": path, "problem": f"{count} lines; split it into batches of "
                                                  f"{MAX_LINES}"}])
    if count == 0:
        raise ApiError(422, "validation_error", "the batch has no lines",
                       [{"path": path, "problem": "give at least one line"}])


def _jsonl_lines(raw: bytes):
    lines = raw.split(b"\n")
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    _check_count(len(numbered), "$")
    for number, line in numbered:
        try:
            yield number, parse_json(line)
        except ApiError as problem:
            yield number, problem


def check_lines(options: BatchOptions, lines: list[tuple[int, Any]], *,
                batch_id: uuid.UUID, now: datetime) -> CheckedLines:
    """Validate every line as POST /v1/jobs would; build the rows of the valid ones."""
    checked = CheckedLines(options)
    job_types = get_job_types()
    seen: dict[str, int] = {}
    webhook = ({"url": str(options.webhook.url),
                "events": [e.value for e in options.job_events]}
               if options.webhook is not None and options.job_events else None)
    with get_db().session() as session:
        stored = tenant_settings.load(session, g.tenant_id)
        raw_allowed = bool(stored and stored.store_raw_input)
        for number, value in lines:
            custom_id = value.get("custom_id") if isinstance(value, dict) else None
            custom_id = custom_id if isinstance(custom_id, str) else None
            try:
                if isinstance(value, ApiError):
                    raise value
                row = _check_line(session, value, job_types, seen, number, raw_allowed)
            except ApiError as problem:
                checked.invalid.append({"line": number, "custom_id": custom_id,
                                        "code": problem.code, "message": problem.message,
                                        "details": problem.details[:20]})
                continue
            checked.rows.append(row | {
                "id": uuid.uuid4(), "tenant_id": g.tenant_id, "batch_id": batch_id,
                "status": JobStatus.QUEUED.value, "webhook": webhook, "attempts": 0,
                "created_at": now,
                # Held until fair share sends it (shared.fairshare): a tenant's batch
                # never stands in front of other tenants' jobs.
                "enqueued_at": None})
    return checked


def _check_line(session, value: Any, job_types, seen: dict[str, int], number: int,
                raw_allowed: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(422, "validation_error", "a line must be a JSON object",
                       [{"path": "$", "problem": f"expected an object, got "
                                                 f"{type(value).__name__}"}])
    line = validated(BatchLine, value, "line is invalid")
    if line.custom_id in seen:
        raise ApiError(422, "validation_error", "custom_id is used twice in this batch",
                       [{"path": "custom_id",
                         "problem": f"already used on line {seen[line.custom_id]}"}])
    job_type = job_types.get(line.type)
    if job_type is None:
        raise ApiError(422, "validation_error", f"unknown job type {line.type!r}",
                       [{"path": "type", "problem": f"must be one of: "
                                                   f"{', '.join(sorted(job_types))}"}])
    job_input = validated(job_type.input_schema, line.input,
                          f"input is invalid for {line.type}", prefix="input")
    if (check := INPUT_CHECKS.get(line.type)) is not None:
        try:
            check(session, g.tenant_id, job_input)
        except InputProblem as problem:
            raise ApiError(problem.status, "not_found" if problem.status == 404
                           else "validation_error", problem.message, problem.details) from None
    stored_input = job_input.model_dump(mode="json", exclude_none=True)
    if line.type in tenant_settings.REDACTED_TYPES and not raw_allowed:
        stored_input = tenant_settings.redact_personal(stored_input)
    seen[line.custom_id] = number
    return {"type": line.type, "input": stored_input, "priority": line.priority,
            "custom_id": line.custom_id}
