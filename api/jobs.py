"""/v1/jobs: submit, read, list and cancel jobs of the calling tenant."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from datetime import timedelta
from typing import NoReturn

from flask import Blueprint, current_app, g, request, url_for
from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError, OperationalError

from api.body import json_body, require_object
from api.cursors import decode_cursor, encode_cursor
from api.errors import ApiError, validated
from api.limits import Admission, get_limiter
from api.longpoll import WAIT_PARAMETER, is_terminal_view, wait_seconds, wait_until
from api.openapi import documented, header, query, ref
from api.request_ids import request_id
from api.services import get_celery, get_db, get_job_types, get_lane_facts, get_settings
from api.transactions import in_transaction
from shared import fairshare, lanes, lifecycle, metrics, tenant_settings
from shared.catalogs import (
    InputProblem,
    check_personalised,
    check_recommendation,
    check_training,
)
from shared.contention import contention
from shared.models import (
    DisabledWebhookUrl,
    Job,
    WebhookAttempt,
    WebhookDelivery,
    utcnow,
)
from shared.schemas.jobs import JobCreate, JobList, iso, job_view
from shared.ssrf import UnsafeUrl, check_url
from shared.status import JobStatus

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

MAX_IDEMPOTENCY_KEY = 255
# Checks that need the database: the names an input refers to must exist for the tenant.
INPUT_CHECKS = {"recommendation": check_recommendation,
                "personalised_recommendations": check_personalised,
                "train_recommender": check_training}
DEFAULT_PAGE, MAX_PAGE = 20, 100


def _validate_submission(body: dict) -> tuple[JobCreate, dict]:
    envelope = validated(JobCreate, body, "job request is invalid")
    job_type = get_job_types().get(envelope.type)
    if job_type is None:
        accepted = ", ".join(sorted(get_job_types()))
        raise ApiError(422, "validation_error", f"unknown job type {envelope.type!r}",
                       [{"path": "type", "problem": f"must be one of: {accepted}"}])
    job_input = validated(job_type.input_schema, envelope.input,
                          f"input is invalid for {envelope.type}", prefix="input")
    if envelope.webhook is not None:
        _check_webhook_url(str(envelope.webhook.url))
    check = INPUT_CHECKS.get(envelope.type)
    if check is not None:
        try:
            with get_db().session() as session:
                check(session, g.tenant_id, job_input)
        except InputProblem as problem:
            code = "not_found" if problem.status == 404 else "validation_error"
            raise ApiError(problem.status, code, problem.message, problem.details) from None
    return envelope, job_input.model_dump(mode="json", exclude_none=True)


def _check_webhook_url(url: str) -> None:
    """Refuse URLs inside the network (SSRF) and URLs that answered 410 Gone before."""
    allowlist = get_settings().webhook_allowlist
    try:
        check_url(url, allowlist)
    except UnsafeUrl as exc:
        raise ApiError(422, "validation_error", "webhook url is not allowed",
                       [{"path": "webhook.url", "problem": str(exc)}]) from None
    with get_db().session() as session:
        disabled = session.get(DisabledWebhookUrl, (g.tenant_id, url))
    if disabled is not None:
        raise ApiError(422, "validation_error", "webhook url is disabled",
                       [{"path": "webhook.url",
                         "problem": f"disabled since {iso(disabled.disabled_at)} ("
                                    f"{disabled.reason}); re-enable it with DELETE "
                                    "/v1/webhooks/disabled-urls?url=..."}])


def _as_stored(job_type: str, job_input: dict) -> dict:
    """People's text in generation inputs is stored redacted unless the tenant opted in."""
    if job_type not in tenant_settings.REDACTED_TYPES:
        return job_input
    with get_db().session() as session:
        stored = tenant_settings.load(session, g.tenant_id)
    return job_input if stored and stored.store_raw_input else \
        tenant_settings.redact_personal(job_input)


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError(422, "validation_error", "Idempotency-Key header is invalid",
                       [{"path": "header:Idempotency-Key",
                         "problem": f"must be 1-{MAX_IDEMPOTENCY_KEY} characters"}])
    return key


def _replay(session, key: str, request_hash: str) -> Job | None:
    """The job an earlier request with this key created, or None; 409 if the body differs."""
    job = session.scalar(
        select(Job).where(Job.tenant_id == g.tenant_id, Job.idempotency_key == key)
    )
    if job is not None and job.created_at < utcnow() - timedelta(
            seconds=get_settings().idempotency_ttl_s):
        # Expired (the sweeper clears these too): the key is free for this new request.
        session.execute(update(Job).where(Job.id == job.id).values(idempotency_key=None,
                                                                   request_hash=None))
        session.flush()
        return None
    if job is not None and job.request_hash != request_hash:
        raise ApiError(409, "idempotency_conflict",
                       "Idempotency-Key was already used with a different request body",
                       [{"path": "header:Idempotency-Key",
                         "problem": f"already used for job {job.id}"}])
    return job


def _accepted(job: Job, view: dict, *, replayed: bool = False,
              headers: dict[str, str] | None = None):
    """202 with the job as GET shows it: sent or held, and where it stands."""
    headers = {**(headers or {}), "Location": url_for(".get_job", job_id=job.id)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return view, 202, headers


def _view_with_position(session, job: Job, submitted: bool = False) -> dict:
    """The job's view with its place; a submission's answer reads a new held job's place
    from the lane's snapshot (shared.lanes), a poll counts it."""
    facts = get_lane_facts()
    return job_view(job) | lanes.where_is(
        session, get_settings(), job, rate_of=lambda queue: facts.rate(session, queue),
        snapshot_of=(lambda queue: facts.snapshot(session, queue)) if submitted else None)


def _database_cannot_take_jobs(exc: OperationalError) -> NoReturn:
    """503 with the hint a client needs: nothing was stored, the same key is safe."""
    if contention(exc):
        raise exc  # the database is up: 409 or 503 database_busy (api.errors)
    current_app.logger.error("event=db_unavailable error=%s",
                             str(exc.orig).splitlines()[0] if exc.orig else exc)
    raise ApiError(503, "unavailable",
                   "the database cannot take jobs right now; retry with the same "
                   "Idempotency-Key") from None


@bp.post("")
@documented("Submit a job", status=202, answer="accepted; Location names the job",
            schema="Job", body="JobSubmission",
            errors=[404, 429],  # a recommendation's catalog; a tenant's rate or quota
            parameters=[header("Idempotency-Key", {"type": "string",
                                                  "maxLength": MAX_IDEMPOTENCY_KEY})])
def create_job():
    """Validate, record, then enqueue: the committed row is the record of the job."""
    body = require_object(json_body())
    envelope, job_input = _validate_submission(body)
    limiter = get_limiter()
    # The rate is counted once, however often the transaction below is retried.
    take_once = functools.cache(limiter.take)
    job_input = _as_stored(envelope.type, job_input)
    key = _idempotency_key()
    # Only a replay needs it; hashing every body cost 3 % of a submission's CPU.
    request_hash = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest() if key else None
    now = utcnow()
    job_id = uuid.uuid4()
    admitted: list[Admission] = []  # each attempt's; the last one's headers answer

    def record(session) -> tuple[Job, bool, bool]:
        """The tenant's limits checked (429 before anything is stored), the job stored and
        claimed for sending if its tenant is under its cap, in one transaction. Reads come
        before the insert: on SQLite the insert takes the file's write lock until commit, and
        every other API process waits for it."""
        admission = limiter.admit(session, g.tenant_id, envelope.priority, take=take_once)
        admitted.append(admission)
        if key and (earlier := _replay(session, key, request_hash)) is not None:
            return earlier, True, False
        settings = get_settings()
        cap = get_lane_facts().cap(session, settings.queue_for(envelope.type))
        job = Job(
            id=job_id, tenant_id=g.tenant_id, type=envelope.type, status=JobStatus.QUEUED,
            priority=admission.priority, input=job_input,
            webhook=envelope.webhook.model_dump(mode="json") if envelope.webhook else None,
            idempotency_key=key, request_hash=request_hash, attempts=0,
            created_at=now, enqueued_at=None,  # set when sent (shared.fairshare)
            request_id=request_id(),
        )
        # Sent now if the tenant is under its in-flight cap; otherwise held in the database
        # and released in turn with other tenants' jobs (or by the sweeper once the broker
        # is back). One statement: on SQLite it holds the write lock until the commit.
        claimed = fairshare.insert_claimed(session, settings, job, cap)
        return job, False, claimed

    try:
        job, replayed, claimed = in_transaction(record)
    except IntegrityError:
        # Another request with the same key won the race; answer as its replay.
        with get_db().session() as session:
            earlier = _replay(session, key, request_hash) if key else None
            if earlier is None:
                raise
            view = _view_with_position(session, earlier)
        return _accepted(earlier, view, replayed=True, headers=admitted[-1].headers)
    except OperationalError as exc:
        _database_cannot_take_jobs(exc)
    if not replayed:
        metrics.jobs_submitted.labels(job.type).inc()
        if claimed:
            fairshare.send_claimed(get_db(), get_celery(), get_settings(), job)
    # Where it stands, read after the commit: outside the write lock, and an estimate that
    # other submissions change from one moment to the next anyway.
    with get_db().session() as session:
        view = _view_with_position(session, job, submitted=True)
    return _accepted(job, view, replayed=replayed, headers=admitted[-1].headers)


def parse_id(value: str, what: str = "job") -> uuid.UUID:
    """A path id as a UUID; anything else cannot name a row, so it is a 404."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(404, "not_found", f"no {what} {value!r}") from None


def load_job(session, job_id: str) -> Job:
    """The calling tenant's job, or 404 (another tenant's job is as unknown as none)."""
    job = session.scalar(
        select(Job).where(Job.id == parse_id(job_id), Job.tenant_id == g.tenant_id)
    )
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id!r}")
    return job


@bp.get("/<job_id>")
@documented("Read a job; `wait` holds the answer until it is terminal", answer="the job",
            schema="Job", errors=[404], parameters=[WAIT_PARAMETER])
def get_job(job_id: str):
    seconds = wait_seconds()

    def read() -> dict:
        with get_db().session() as session:
            return _view_with_position(session, load_job(session, job_id))

    return wait_until(read, is_terminal_view, seconds)


@bp.post("/<job_id>/cancel")
@documented("Cancel a queued or running job", answer="canceled", schema="Job", errors=[404])
def cancel_job(job_id: str):
    """Queued jobs never run; a running job's result is discarded when it finishes."""
    def cancel(session) -> None:
        job = load_job(session, job_id)
        if not lifecycle.cancel(session, job.id, g.tenant_id):
            session.refresh(job)
            raise ApiError(409, "job_finished",
                           f"job is already {job.status}; only queued or running jobs cancel")

    in_transaction(cancel)
    with get_db().session() as session:
        return job_view(load_job(session, job_id))


@bp.delete("/<job_id>")
@documented("Erase a job's input and result; the row stays as a tombstone", answer="the "
            "erased job", schema="Job", errors=[404])
def erase_job(job_id: str):
    """Erase what the job carried (input, result, progress, error message, webhook and its
    deliveries); a queued or running job is canceled, so no result lands afterwards."""
    def erase(session) -> None:
        job = load_job(session, job_id)
        delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.job_id == job.id)
        session.execute(delete(WebhookAttempt).where(
            WebhookAttempt.delivery_id.in_(delivery_ids)))
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.job_id == job.id))
        session.execute(update(Job).where(Job.id == job.id).values(
            input={}, result=None, progress=None, idempotency_key=None, request_hash=None,
            error_message=None, erased_at=func.coalesce(Job.erased_at, utcnow())))
        # After the erasure: the `completed` event it records for a webhook is the tombstone.
        lifecycle.cancel(session, job.id, g.tenant_id)
        session.execute(update(Job).where(Job.id == job.id).values(webhook=None))

    in_transaction(erase)
    with get_db().session() as session:
        return job_view(load_job(session, job_id))


def _query_problem(name: str, problem: str) -> ApiError:
    return ApiError(422, "validation_error", f"query parameter {name} is invalid",
                    [{"path": f"query:{name}", "problem": problem}])


@bp.get("")
@documented("List jobs, newest first", answer="a page of jobs", schema=JobList, parameters=[
    query("type", ref("JobType")),
    query("status", {"type": "string", "enum": [s.value for s in JobStatus]}),
    query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
    query("cursor", {"type": "string"})])
def list_jobs():
    """Newest first, filtered by type and status, paged with an opaque cursor."""
    args = request.args
    query = select(Job).where(Job.tenant_id == g.tenant_id)
    if job_type := args.get("type"):
        if job_type not in get_job_types():
            raise _query_problem("type",
                                 f"must be one of: {', '.join(sorted(get_job_types()))}")
        query = query.where(Job.type == job_type)
    if status := args.get("status"):
        if status not in {s.value for s in JobStatus}:
            accepted = ", ".join(s.value for s in JobStatus)
            raise _query_problem("status", f"must be one of: {accepted}")
        query = query.where(Job.status == status)
    try:
        limit = int(args.get("limit", DEFAULT_PAGE))
    except ValueError:
        raise _query_problem("limit", "must be an integer") from None
    if not 1 <= limit <= MAX_PAGE:
        raise _query_problem("limit", f"must be between 1 and {MAX_PAGE}")
    if cursor := args.get("cursor"):
        created, last_id = decode_cursor(cursor)
        query = query.where(tuple_(Job.created_at, Job.id) < tuple_(created, last_id))
    query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)
    with get_db().session() as session:
        jobs = list(session.scalars(query))
    page, more = jobs[:limit], len(jobs) > limit
    return {"jobs": [job_view(j) for j in page],
            "next_cursor": encode_cursor(page[-1].created_at, page[-1].id) if more else None}
