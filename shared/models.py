"""SQLAlchemy 2.0 models: tenants, their hashed API keys, and jobs (the source of truth)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.status import JobStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Webhook signing secrets (`whsec_` + base64). Kept readable, not hashed: signing needs
    # them. While a rotation settles, the previous secret signs too until it expires.
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    webhook_secret_previous: Mapped[str | None] = mapped_column(String(100))
    webhook_secret_previous_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="tenant")


class ApiKey(Base):
    """Only a SHA-256 of the key is stored: keys are 256-bit random, so no salt is needed."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tenant: Mapped[Tenant] = relationship(back_populates="api_keys")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_jobs_tenant_idempotency"),
        Index("ix_jobs_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_jobs_status_enqueued", "status", "enqueued_at"),
        # Retention: the sweeper purges by age, and expires idempotency keys by age.
        Index("ix_jobs_finished", "finished_at"),
        Index("ix_jobs_idempotency_created", "created_at",
              postgresql_where=text("idempotency_key IS NOT NULL"),
              sqlite_where=text("idempotency_key IS NOT NULL")),
        # A batch's lines: counts by status, results by custom_id (unique within the batch).
        UniqueConstraint("batch_id", "custom_id", name="uq_jobs_batch_custom_id"),
        Index("ix_jobs_batch_status", "batch_id", "status"),
        # A tenant's active jobs (quota) and its jobs in flight (fair share), as index ranges.
        Index("ix_jobs_tenant_status_enqueued", "tenant_id", "status", "enqueued_at"),
        # A queued job's place in its lane, counted per tenant from the index alone.
        Index("ix_jobs_lane_position", "status", "type", "tenant_id", "enqueued_at",
              "priority", "created_at"),
        # A lane's released jobs, ahead of a queued one: one short range, held jobs skipped.
        Index("ix_jobs_lane_released", "status", "type", "enqueued_at", "priority",
              "created_at"),
        Index("ix_jobs_status_finished", "status", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    priority: Mapped[int] = mapped_column(Integer, default=5)
    input: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    # Multi-step jobs (shared.job_types.Step): the step it is at (None: the first) and what
    # the steps before it handed over.
    step: Mapped[str | None] = mapped_column(String(64))
    step_state: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    webhook: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    model_name: Mapped[str | None] = mapped_column(String(255))
    model_revision: Mapped[str | None] = mapped_column(String(255))
    worker_host: Mapped[str | None] = mapped_column(String(255))
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # X-Request-Id of the request that submitted the job (on every worker log line for it).
    request_id: Mapped[str | None] = mapped_column(String(128))
    # Set when DELETE /v1/jobs/{id} erased input and result; the row stays as a tombstone.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"))
    custom_id: Mapped[str | None] = mapped_column(String(255))

    @property
    def job_status(self) -> JobStatus:
        return JobStatus(self.status)

    @property
    def queue_seconds(self) -> float | None:
        """Time from submission until a worker started it."""
        if self.started_at is None:
            return None
        return (self.started_at - self.created_at).total_seconds()

    @property
    def run_seconds(self) -> float | None:
        """Time the last run took, start to finish."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Catalog(Base):
    """A tenant's product catalog; `version` moves on every item change, `events_version` on
    every batch of shopper events, so workers can cache what they derive from either."""

    __tablename__ = "catalogs"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_catalogs_tenant_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=0)
    events_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Items per second of the last embedded chunk: the ETA of the rest.
    embedding_rate: Mapped[float | None] = mapped_column(Float)
    # The one chain of embedding tasks working on the catalog, and until when its lease holds.
    embedding_lease: Mapped[str | None] = mapped_column(String(36))
    embedding_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The newest trained sequential model (RecommenderModel.version; 0: none). Read with the
    # catalog on every recommendation job, so a worker notices a new model for free.
    recommender_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RecommenderModel(Base):
    """One trained sequential recommender of a catalog: its weights, the item ids its rows
    stand for, how it did on held-out items and the blend weights chosen there."""

    __tablename__ = "recommender_models"
    __table_args__ = (
        UniqueConstraint("catalog_id", "version", name="uq_recommender_models_version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    catalog_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalogs.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    config: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    item_ids: Mapped[list[str]] = mapped_column(JSONDocument)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    blend: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    training_seconds: Mapped[float] = mapped_column(Float)
    weights: Mapped[bytes] = mapped_column(LargeBinary)


class CatalogItem(Base):
    __tablename__ = "catalog_items"

    catalog_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalogs.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    brand: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    in_stock: Mapped[bool] = mapped_column(Boolean, default=True)
    popularity: Mapped[float] = mapped_column(Float, default=0.0)
    # Hash of the text that is embedded; the embedding is current when the two hashes match.
    content_hash: Mapped[str] = mapped_column(String(64))
    embedded_hash: Mapped[str | None] = mapped_column(String(64))
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogEvent(Base):
    """One shopper interaction with a catalog item, the data co-occurrence is learned from."""

    __tablename__ = "catalog_events"
    __table_args__ = (Index("ix_catalog_events_catalog", "catalog_id", "shopper_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    catalog_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalogs.id", ondelete="CASCADE"))
    shopper_id: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(16), default="purchase")
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)



class WebhookDelivery(Base):
    """One event of one job for its webhook: the outbox row and the retry state.

    Written in the same transaction as the status change that caused it, so an event is
    never lost between the database and the broker; the sweeper sends rows the broker lost.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_job", "job_id", "created_at"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_finished", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # A job's event, or (job_id NULL) a batch's: the same delivery machinery sends both.
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"))
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    # The exact bytes sent (JSONB would reorder keys): every retry sends the same body.
    body: Mapped[str] = mapped_column(Text)
    # started/progress are sent once; a terminal event is retried over the retry window.
    best_effort: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the task sent for the next attempt should run; NULL: nothing sent, the sweeper
    # sends it once due. Old values mean the broker lost the task.
    dispatched_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    attempts: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery", order_by="WebhookAttempt.number")

    @property
    def message_id(self) -> str:
        """The `webhook-id` header: one per event, the same on every retry."""
        return f"msg_{self.id.hex}"


class WebhookAttempt(Base):
    """One HTTP request of a delivery, as it went."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempts")


class DisabledWebhookUrl(Base):
    """A URL that answered 410 Gone: nothing more is sent to it for this tenant."""

    __tablename__ = "webhook_disabled_urls"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    disabled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)


class TenantSettings(Base):
    """What a tenant configures once instead of in every job: social reply texts, and whether
    its jobs' inputs may be stored with personal data unredacted."""

    __tablename__ = "tenant_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    replies: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    store_raw_input: Mapped[bool] = mapped_column(Boolean, default=False)
    # Days a finished job (input, result) and a finished webhook delivery are kept; None:
    # VITRINE_JOB_RETENTION_DAYS / VITRINE_DELIVERY_RETENTION_DAYS.
    job_retention_days: Mapped[int | None] = mapped_column(Integer)
    delivery_retention_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    """A request answered under an Idempotency-Key (other than a job submission, whose key
    is on the job): the same key and body replays the stored answer until the key expires."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created", "created_at"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    # What the key was used for, e.g. `catalog_events:<catalog>`: one key, one operation.
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status_code: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Batch(Base):
    """Many jobs submitted at once (POST /v1/batches); its jobs carry its id and their
    `custom_id`. Counts are read from the jobs; the batch row keeps what jobs cannot: the
    lines refused up front, the webhook for the batch's end, and when it ended."""

    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_batches_tenant_idempotency"),
        Index("ix_batches_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_batches_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer, default=0)  # jobs created (valid lines)
    # [{line, custom_id, code, message, details}] for each line refused up front.
    invalid_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    webhook: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    job_events: Mapped[list[str] | None] = mapped_column(JSONDocument)
    retry_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TenantLimits(Base):
    """An operator's per-tenant overrides of the VITRINE_TENANT_* defaults (NULL: default)."""

    __tablename__ = "tenant_limits"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    submit_rate: Mapped[float | None] = mapped_column(Float)
    submit_burst: Mapped[int | None] = mapped_column(Integer)
    max_active_jobs: Mapped[int | None] = mapped_column(Integer)
    max_priority: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerHeartbeat(Base):
    """A worker process that runs jobs says it is alive every few seconds; a `running` job
    whose process went quiet is lost without waiting for its time limit."""

    __tablename__ = "worker_heartbeats"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, primary_key=True)
    queues: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
