"""/v1/batches: many jobs in one request, their counts, results, cancel and retry.

Inserts and publishes go in chunks: one transaction and one broker pipeline per CHUNK jobs,
so a job of a batch costs a fraction of a POST /v1/jobs (bench/batches.py measures it).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime

from flask import Blueprint, Response, g, request, stream_with_context, url_for
from sqlalchemy import insert, select, tuple_
from sqlalchemy.exc import IntegrityError

from api.batch_lines import CheckedLines, check_lines, read_request
from api.cursors import decode_cursor, encode_cursor
from api.errors import ApiError
from api.jobs import MAX_IDEMPOTENCY_KEY, _check_webhook_url, _idempotency_key, parse_id
from api.longpoll import WAIT_PARAMETER, wait_seconds, wait_until
from api.openapi import documented, header, query
from api.services import get_celery, get_db, get_settings
from api.transactions import in_transaction
from shared import batches as rules
from shared import fairshare
from shared.models import Batch, Job, utcnow
from shared.schemas.batches import BatchCreate, BatchList, BatchOptions, BatchView
from shared.status import JobStatus

bp = Blueprint("batches", __name__, url_prefix="/batches")

CHUNK = 1000
DEFAULT_PAGE, MAX_PAGE = 20, 100
RESULT_STATUSES = [*(s.value for s in JobStatus), "invalid"]
JSONL_BODY = {"application/x-ndjson": {"schema": {
    "type": "string", "description": "One BatchLine per line; batch options as the "
                                     "webhook_url and job_events query parameters."}}}


def load_batch(session, batch_id: str) -> Batch:
    """The calling tenant's batch, or 404."""
    batch = session.scalar(select(Batch).where(Batch.id == parse_id(batch_id, "batch"),
                                               Batch.tenant_id == g.tenant_id))
    if batch is None:
        raise ApiError(404, "not_found", f"no batch {batch_id!r}")
    return batch


def _accepted(view: dict, *, replayed: bool = False):
    headers = {"Location": url_for(".get_batch", batch_id=view["id"])}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return view, 202, headers


def _replay(session, key: str, request_hash: str) -> Batch | None:
    batch = session.scalar(select(Batch).where(Batch.tenant_id == g.tenant_id,
                                               Batch.idempotency_key == key))
    if batch is not None and batch.request_hash != request_hash:
        raise ApiError(409, "idempotency_conflict",
                       "Idempotency-Key was already used with a different batch",
                       [{"path": "header:Idempotency-Key",
                         "problem": f"already used for batch {batch.id}"}])
    return batch


def submit(checked: CheckedLines, *, key: str | None = None, request_hash: str | None = None,
           retry_of: uuid.UUID | None = None, batch_id: uuid.UUID, now: datetime):
    """Record the batch and its jobs chunk by chunk, publishing each chunk once committed.

    The batch is `creating` until its last chunk is in. If a chunk fails (database down),
    the client's retry with the same Idempotency-Key finds the batch and adds the lines it
    lacks (by custom_id), so nothing accepted is lost and nothing is recorded twice.
    """
    if not checked.rows:
        raise ApiError(422, "validation_error", "no line of the batch is valid",
                       [{"path": f"line {line['line']}", "problem": line["message"]}
                        for line in checked.invalid[:20]])
    options: BatchOptions = checked.options

    def record_batch(session) -> tuple[uuid.UUID, str, bool]:
        if key and (earlier := _replay(session, key, request_hash)) is not None:
            return earlier.id, earlier.status, True
        session.add(Batch(
            id=batch_id, tenant_id=g.tenant_id, status=rules.CREATING, total=len(checked.rows),
            invalid_lines=checked.invalid,
            webhook=options.webhook.model_dump(mode="json") if options.webhook else None,
            job_events=[e.value for e in options.job_events] if options.job_events else None,
            retry_of=retry_of, idempotency_key=key, request_hash=request_hash,
            created_at=now))
        session.flush()
        _insert(session, checked.rows[:CHUNK])
        return batch_id, rules.CREATING, False

    try:
        recorded_id, status, replayed = in_transaction(record_batch)
    except IntegrityError:
        with get_db().session() as session:  # the same key won a race: answer as its replay
            earlier = _replay(session, key, request_hash) if key else None
            if earlier is None:
                raise
            recorded_id, status, replayed = earlier.id, earlier.status, True
    if replayed:
        if status == rules.CREATING:
            _add_missing(recorded_id, checked.rows)
    else:
        _publish(checked.rows[:CHUNK])
        _insert_and_publish(checked.rows[CHUNK:])
        in_transaction(lambda session: rules.created(session, recorded_id))
    with get_db().session() as session:
        return _accepted(rules.view_of(session, load_batch(session, str(recorded_id))),
                         replayed=replayed)


def _insert_and_publish(rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        in_transaction(lambda session, chunk=chunk: _insert(session, chunk))
        _publish(chunk)


def _add_missing(batch_id: uuid.UUID, rows: list[dict]) -> None:
    """Finish a batch whose creation was interrupted: insert the lines it does not have."""
    with get_db().session() as session:
        present = set(session.scalars(select(Job.custom_id).where(Job.batch_id == batch_id)))
    _insert_and_publish([row | {"batch_id": batch_id} for row in rows
                         if row["custom_id"] not in present])
    in_transaction(lambda session: rules.created(session, batch_id))


def _insert(session, rows: list[dict]) -> None:
    session.execute(insert(Job), rows)


def _publish(rows: list[dict]) -> None:
    """The rows are held (enqueued_at NULL); fair share sends as many as the tenant's
    in-flight cap allows, in turn with other tenants, and the rest as slots free up (the
    sweeper too, if the broker is down now)."""
    settings = get_settings()
    for queue in sorted({settings.queue_for(row["type"]) for row in rows}):
        fairshare.release(get_db(), get_celery(), settings, queue)


@bp.post("")
@documented("Submit a batch of jobs (a JSON body or a JSONL upload)", status=202,
            answer="accepted; invalid lines are listed, the others queued", schema=BatchView,
            body=BatchCreate, errors=[404],
            parameters=[header("Idempotency-Key", {"type": "string",
                                                  "maxLength": MAX_IDEMPOTENCY_KEY}),
                        query("webhook_url", {"type": "string"}),
                        query("job_events", {"type": "string"})],
            body_types=JSONL_BODY)
def create_batch():
    """Validate every line up front, then record and publish the valid ones in chunks."""
    options, lines = read_request()
    key = _idempotency_key()
    request_hash = None
    if key:
        hasher = hashlib.sha256(request.mimetype.encode() + b"\0" + request.query_string)
        hasher.update(b"\0" + request.get_data())
        request_hash = hasher.hexdigest()
    if options.webhook is not None:
        _check_webhook_url(str(options.webhook.url))
    batch_id, now = uuid.uuid4(), utcnow()
    checked = check_lines(options, lines, batch_id=batch_id, now=now)
    return submit(checked, key=key, request_hash=request_hash, batch_id=batch_id, now=now)


@bp.get("/<batch_id>")
@documented("Read a batch: counts, timings, ETA; `wait` holds it until it has ended",
            answer="the batch", schema=BatchView, errors=[404], parameters=[WAIT_PARAMETER])
def get_batch(batch_id: str):
    seconds = wait_seconds()

    def read() -> dict:
        with get_db().session() as session:
            return rules.view_of(session, load_batch(session, batch_id))

    return wait_until(read, lambda view: view["status"] not in rules.RUNNING_STATES, seconds)


def _status_filter() -> list[str]:
    raw = request.args.get("status")
    if not raw:
        return RESULT_STATUSES
    wanted = [s.strip() for s in raw.split(",")]
    if unknown := [s for s in wanted if s not in RESULT_STATUSES]:
        raise ApiError(422, "validation_error", "query parameter status is invalid",
                       [{"path": "query:status", "problem": f"{unknown[0][:40]!r}: each "
                         f"must be one of: {', '.join(RESULT_STATUSES)}"}])
    return wanted


def _result_line(job: Job) -> str:
    error = {"code": job.error_code, "message": job.error_message or ""} \
        if job.error_code else None
    return json.dumps({"custom_id": job.custom_id, "job_id": str(job.id), "status": job.status,
                       "result": job.result, "error": error}, separators=(",", ":")) + "\n"


def _invalid_line(line: dict) -> str:
    return json.dumps({"custom_id": line["custom_id"], "job_id": None, "status": "invalid",
                       "result": None, "error": {"code": line["code"],
                                                 "message": line["message"],
                                                 "line": line["line"],
                                                 "details": line["details"]}},
                      separators=(",", ":")) + "\n"


@bp.get("/<batch_id>/results")
@documented("Stream a batch's results as JSONL, finished or not", answer="one line per job",
            errors=[404], parameters=[query("status", {"type": "string"})],
            extra_responses={"200": {"description": "JSONL: custom_id, job_id, status, result, "
                                                    "error; refused lines have status invalid",
                                     "content": {"application/x-ndjson": {
                                         "schema": {"type": "string"}}}}})
def batch_results(batch_id: str):
    """Every line so far: jobs by custom_id in pages, then the lines refused up front."""
    wanted = _status_filter()
    job_statuses = [s for s in wanted if s != "invalid"]
    with get_db().session() as session:
        batch = load_batch(session, batch_id)
        invalid = batch.invalid_lines if "invalid" in wanted else []
    db, batch_uuid = get_db(), batch.id

    def lines() -> Iterator[str]:
        after = None
        while job_statuses:
            query = select(Job).where(Job.batch_id == batch_uuid, Job.status.in_(job_statuses))
            if after is not None:
                query = query.where(Job.custom_id > after)
            with db.session() as session:
                page = list(session.scalars(query.order_by(Job.custom_id).limit(CHUNK)))
                chunk = "".join(_result_line(job) for job in page)
            if chunk:
                yield chunk
            if len(page) < CHUNK:
                break
            after = page[-1].custom_id
        for line in invalid:
            yield _invalid_line(line)

    return Response(stream_with_context(lines()), mimetype="application/x-ndjson")


@bp.post("/<batch_id>/cancel")
@documented("Cancel a batch: its queued and running jobs end canceled", answer="canceled",
            schema=BatchView, errors=[404])
def cancel_batch(batch_id: str):
    def cancel(session) -> None:
        batch = load_batch(session, batch_id)
        if batch.status == rules.CREATING:
            raise ApiError(409, "batch_creating", "the batch is still being recorded; cancel "
                           "it once POST /v1/batches has answered")
        if batch.status != rules.IN_PROGRESS:
            raise ApiError(409, "batch_finished",
                           f"batch is already {batch.status}; only batches in progress cancel")
        rules.cancel(session, batch.id)

    in_transaction(cancel)
    with get_db().session() as session:
        return rules.view_of(session, load_batch(session, batch_id))


@bp.post("/<batch_id>/retry")
@documented("Submit the failed lines of a batch again, as a new batch", status=202,
            answer="the new batch", schema=BatchView, errors=[404])
def retry_batch(batch_id: str):
    """Only jobs that failed; their custom_id, type, input and priority are kept."""
    with get_db().session() as session:
        batch = load_batch(session, batch_id)
        failed = list(session.scalars(
            select(Job).where(Job.batch_id == batch.id, Job.status == JobStatus.FAILED.value)
            .order_by(Job.custom_id)))
        options = BatchOptions.model_validate({"webhook": batch.webhook,
                                               "job_events": batch.job_events})
    if not failed:
        raise ApiError(409, "nothing_to_retry", "no job of this batch has failed")
    new_id, now = uuid.uuid4(), utcnow()
    checked = CheckedLines(options, invalid=[])
    webhook = ({"url": str(options.webhook.url), "events": list(batch.job_events)}
               if options.webhook is not None and batch.job_events else None)
    checked.rows = [{"id": uuid.uuid4(), "tenant_id": g.tenant_id, "batch_id": new_id,
                     "status": JobStatus.QUEUED.value, "webhook": webhook, "attempts": 0,
                     "created_at": now, "enqueued_at": None, "type": job.type,
                     "input": job.input, "priority": job.priority, "custom_id": job.custom_id}
                    for job in failed]
    return submit(checked, retry_of=batch.id, batch_id=new_id, now=now)


@bp.get("")
@documented("List batches, newest first", answer="a page of batches", schema=BatchList,
            parameters=[query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
                        query("cursor", {"type": "string"})])
def list_batches():
    try:
        limit = int(request.args.get("limit", DEFAULT_PAGE))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE:
        raise ApiError(422, "validation_error", "query parameter limit is invalid",
                       [{"path": "query:limit", "problem": f"must be 1-{MAX_PAGE}"}])
    query_ = select(Batch).where(Batch.tenant_id == g.tenant_id)
    if cursor := request.args.get("cursor"):
        created, last_id = decode_cursor(cursor)
        query_ = query_.where(tuple_(Batch.created_at, Batch.id) < tuple_(created, last_id))
    query_ = query_.order_by(Batch.created_at.desc(), Batch.id.desc()).limit(limit + 1)
    with get_db().session() as session:
        found = list(session.scalars(query_))
        page, more = found[:limit], len(found) > limit
        by_batch = rules.counts(session, [b.id for b in page])
        views = [rules.batch_view(b, by_batch[b.id]) for b in page]
    last = page[-1] if more else None
    return {"batches": views,
            "next_cursor": encode_cursor(last.created_at, last.id) if last else None}
