"""Every table, in one module (Alembic autogenerates from this metadata)."""

# No `from __future__ import annotations` here: SQLModel mis-maps fields with it.
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from core.enums import (
    CreditType,
    GalleryStatus,
    JobKind,
    JobSource,
    JobStatus,
    Tier,
    WebhookDeliveryStatus,
    WebhookEvent,
)


def utcnow() -> datetime:
    """Now, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stores UTC; always returns aware datetimes (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        return (
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        )


class EnumText(sa.TypeDecorator[StrEnum]):
    """Stores a StrEnum as plain text, so adding a value needs no migration."""

    impl = sa.String(32)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def _enum(enum: type[StrEnum], *, index: bool = False) -> Any:
    return Field(sa_type=EnumText(enum), nullable=False, index=index)


def _partial_index(name: str, columns: list[str], where: str) -> sa.Index:
    """An index over the rows matching `where`, on PostgreSQL and SQLite alike."""
    condition = sa.text(where)
    return sa.Index(name, *columns, postgresql_where=condition, sqlite_where=condition)


def _postgresql_only(index: sa.Index) -> sa.Index:
    """Mark an index SQLite cannot build (GIN, NULLS LAST); core.migrate leaves it
    out of SQLite's expected schema."""
    index.info["postgresql_only"] = True
    return index.ddl_if(dialect="postgresql")


class User(SQLModel, table=True):
    """An account."""

    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    tier: Tier = _enum(Tier)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    # When free credits were last topped up; guarded by a conditional update.
    free_topup_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """An API token; only the sha256 of its secret is kept."""

    __tablename__ = "api_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=50)
    secret_hash: str = Field(max_length=64, unique=True)
    preview: str = Field(max_length=16)
    scopes: str = Field(max_length=64)  # comma-separated Scope values
    is_active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    uses: int = 0
    credits_spent: int = 0


class ConsoleLoginCode(SQLModel, table=True):
    """A one-time sign-in link's code for the console; only its sha256 is kept."""

    __tablename__ = "console_login_codes"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Set by the one exchange that succeeds: a second use finds it set.
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds a secret whose sha256 is kept here."""

    __tablename__ = "console_sessions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    secret_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    # Idle expiry counts from here; written at most once a minute.
    last_seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Absolute expiry: however active, a session ends here.
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Signed out (this browser, or everywhere).
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CreditRow(SQLModel, table=True):
    """A grant of credits; debits draw down `remaining`."""

    __tablename__ = "credit_ledger"
    __table_args__ = (sa.CheckConstraint("remaining >= 0 AND remaining <= amount"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    type: CreditType = _enum(CreditType)
    amount: int
    remaining: int
    starts_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    job_id: uuid.UUID | None = Field(default=None, foreign_key="jobs.id")
    note: str = Field(default="", max_length=200)


class Upload(SQLModel, table=True):
    """An image a user uploaded as input for image-to-image or upscaling."""

    __tablename__ = "uploads"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    storage_key: str = Field(max_length=300)
    format: str = Field(max_length=8)
    width: int
    height: int
    size_bytes: int
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )


class Job(SQLModel, table=True):
    """A generation or upscale request and its progress."""

    __tablename__ = "jobs"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "idempotency_key"),
        sa.Index("ix_jobs_user_status", "user_id", "status"),
        sa.Index("ix_jobs_user_created", "user_id", "created_at"),
        # Queue places (jobs/positions.py): each lane's head and tail, the jobs
        # that left a lane out of turn, the oldest waiting jobs, and the recent
        # successful runs behind the ETA; each read is an index range, so a place
        # costs the same at any depth.
        _partial_index(
            "ix_jobs_queued_ticket",
            ["paid_lane", "queue_ticket"],
            "status = 'QUEUED' AND queue_ticket IS NOT NULL",
        ),
        _partial_index(
            "ix_jobs_departed_ticket",
            ["paid_lane", "queue_ticket"],
            "status <> 'QUEUED' AND queue_ticket IS NOT NULL",
        ),
        _partial_index(
            "ix_jobs_waiting",
            ["created_at", "id"],
            "status = 'QUEUED' AND enqueued_at IS NULL",
        ),
        sa.Index("ix_jobs_status_finished", "status", "finished_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id")
    token_id: uuid.UUID | None = Field(default=None, foreign_key="api_tokens.id")
    kind: JobKind = _enum(JobKind)
    source: JobSource = _enum(JobSource)
    status: JobStatus = _enum(JobStatus)
    paid_lane: bool = False
    model_id: str = Field(max_length=100)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    cost: int = 0
    refunded: int = 0
    idempotency_key: str | None = Field(default=None, max_length=100)
    request_hash: str | None = Field(default=None, max_length=64)
    total_steps: int = 0
    step: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    enqueued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The job's turn in its lane, issued when it is dispatched (QueueLane.issued).
    queue_ticket: int | None = Field(default=None, sa_type=sa.BigInteger)
    worker_id: str | None = Field(default=None, max_length=100)
    attempts: int = 0
    error_code: str | None = Field(default=None, max_length=40)
    error_message: str | None = Field(default=None, max_length=1000)
    # The job's own webhook, given at submission: where, and which comma-separated
    # JobHookEvent values; both None without one.
    webhook_url: str | None = Field(default=None, max_length=2000)
    webhook_events: str | None = Field(default=None, max_length=100)


class QueueLane(SQLModel, table=True):
    """One lane of the queue (paid or free) and the last ticket it issued.

    Dispatching a job takes the lane's next ticket under this row's lock, so
    tickets run 1, 2, 3... in dispatch order with no gaps: a job's place is then
    its ticket less the lane's head, less the jobs that left between them.
    """

    __tablename__ = "queue_lanes"

    paid: bool = Field(primary_key=True)
    issued: int = Field(default=0, sa_type=sa.BigInteger)


class Output(SQLModel, table=True):
    """One stored image; generation settings are copied here so history filters stay flat."""

    __tablename__ = "outputs"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "index"),
        sa.Index("ix_outputs_user_created", "user_id", "created_at", "id"),
        # History's other orders read the account's rows in keyset order, no sort.
        sa.Index("ix_outputs_user_width", "user_id", "width", "id"),
        sa.Index("ix_outputs_user_height", "user_id", "height", "id"),
        sa.Index("ix_outputs_user_steps", "user_id", "inference_steps", "id"),
        sa.Index("ix_outputs_user_guidance", "user_id", "guidance_scale", "id"),
        # A count of live outputs reads only this index (the original's check
        # needs upscaled_from_id), not 100,000 heap rows of a heavy account, and
        # so does a read of their ids (SQLite's search, after a write).
        _partial_index(
            "ix_outputs_user_live",
            ["user_id", "upscaled_from_id", "id"],
            "deleted_at IS NULL",
        ),
        # The deleted originals the history's anti-join looks up: a few rows.
        _partial_index(
            "ix_outputs_user_deleted", ["user_id", "id"], "deleted_at IS NOT NULL"
        ),
        # The prompt filters, within the account (btree_gin): on the prompt alone
        # PostgreSQL ANDs a word's rows with a bitmap of all the account's rows.
        # prompt ILIKE, with or without wildcards at either end (pg_trgm).
        _postgresql_only(
            sa.Index(
                "ix_outputs_user_prompt_trgm",
                "user_id",
                "prompt",
                postgresql_using="gin",
                postgresql_ops={"prompt": "gin_trgm_ops"},
            )
        ),
        # prompt.search: only the very expression core.history.filters builds
        # (the 'simple' config included) can use it.
        _postgresql_only(
            sa.Index(
                "ix_outputs_user_prompt_words",
                "user_id",
                sa.text("to_tsvector('simple'::regconfig, prompt)"),
                postgresql_using="gin",
            )
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key="jobs.id")
    user_id: uuid.UUID = Field(foreign_key="users.id")
    index: int
    storage_key: str = Field(max_length=300)
    format: str = Field(max_length=8)
    width: int
    height: int
    seed: int | None = Field(default=None, sa_type=sa.BigInteger)
    prompt: str = Field(default="", max_length=2000)
    negative_prompt: str = Field(default="", max_length=2000)
    model_id: str = Field(max_length=100)
    scheduler_id: str | None = Field(default=None, max_length=40)
    inference_steps: int | None = None
    guidance_scale: float | None = None
    prompt_strength: float | None = None
    init_image_id: uuid.UUID | None = Field(default=None, foreign_key="uploads.id")
    source: JobSource = _enum(JobSource)
    # An upscale's output points at the output it enlarged.
    upscaled_from_id: uuid.UUID | None = Field(
        default=None, foreign_key="outputs.id", index=True
    )
    is_upscaled: bool = False  # this image is an upscale's result
    is_favorite: bool = False
    is_public: bool = False
    gallery_status: GalleryStatus = _enum(GalleryStatus)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# Descending history orders keep NULLs last, which a backward scan of the ascending
# index above cannot give (it yields them first); SQLite indexes have no NULLS LAST.
_OUTPUT_COLUMNS = Output.__table__.c  # type: ignore[attr-defined]  # set by SQLModel
for _name, _field in (("steps", "inference_steps"), ("guidance", "guidance_scale")):
    _postgresql_only(
        sa.Index(
            f"ix_outputs_user_{_name}_desc",
            _OUTPUT_COLUMNS.user_id,
            _OUTPUT_COLUMNS[_field].desc().nulls_last(),
            _OUTPUT_COLUMNS.id.desc(),
        )
    )


class WebhookEndpoint(SQLModel, table=True):
    """Where an account wants its job events POSTed.

    The signing secret is kept as issued, since signing needs it; no query ever
    returns it (it is shown once, at creation and at rotation).
    """

    __tablename__ = "webhook_endpoints"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    url: str = Field(max_length=2000)
    events: str = Field(max_length=200)  # comma-separated WebhookEvent values
    secret: str = Field(max_length=100)  # whsec_ + base64 of 32 random bytes
    # The secret a rotation replaced, which still signs beside the new one until
    # `previous_secret_until`, so receivers can switch without missing a delivery.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_active: bool = True  # False once deleted; its deliveries stay readable
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One job event for one endpoint: the signed body and how sending it went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # An event recorded twice (a repeated task, a retried publish) is one delivery.
        sa.UniqueConstraint("endpoint_id", "event_key"),
        # The same for a job's own webhook, which has no endpoint (NULLs differ).
        sa.Index(
            "ux_webhook_deliveries_job_hook_event",
            "event_key",
            unique=True,
            postgresql_where=sa.text("endpoint_id IS NULL"),
            sqlite_where=sa.text("endpoint_id IS NULL"),
        ),
        sa.Index("ix_webhook_deliveries_user_created", "user_id", "created_at", "id"),
        # The sweeper's scan for deliveries that are due.
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # None for a job's own webhook (Job.webhook_url, signed by JobHookSecret).
    endpoint_id: uuid.UUID | None = Field(
        default=None, foreign_key="webhook_endpoints.id"
    )
    user_id: uuid.UUID = Field(foreign_key="users.id")
    job_id: uuid.UUID = Field(foreign_key="jobs.id", index=True)
    event: WebhookEvent = _enum(WebhookEvent)
    event_key: str = Field(max_length=100)  # job id, event, and output index
    payload: str = Field(sa_type=sa.Text)  # the exact body every attempt sends
    status: WebhookDeliveryStatus = _enum(WebhookDeliveryStatus)
    attempts: int = 0
    max_attempts: int = 1
    # When the next attempt is due while PENDING (a lease while one is sending).
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    response_code: int | None = None
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobHookSecret(SQLModel, table=True):
    """The secret signing an account's per-job webhooks, made on first use; as
    an endpoint's, kept as issued and rotated with a grace for the old one."""

    __tablename__ = "job_hook_secrets"

    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True)
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )


class WorkerBeat(SQLModel, table=True):
    """A running worker as it last reported itself: a worker alive between jobs
    has no running job whose heartbeat would show it. A clean stop removes it."""

    __tablename__ = "workers"

    id: str = Field(primary_key=True, max_length=100)  # the id jobs' worker_id holds
    kind: str = Field(max_length=20)  # arq or inproc
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class SearchIndex(SQLModel, table=True):
    """Which text model built the search index (one row): vectors of two models
    cannot be compared, so a process configured with another refuses to start."""

    __tablename__ = "search_index"

    id: int = Field(default=1, primary_key=True)
    model_id: str = Field(max_length=200)
    dimension: int
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False
    )


# The public gallery, newest first, and the moderators' queue, oldest first
# (core/gallery.py): each read is an index range over its few rows, however many
# private outputs there are. The predicates are core.gallery's conditions, word
# for word, so PostgreSQL can prove they apply.
_postgresql_only(
    sa.Index(
        "ix_outputs_gallery",
        _OUTPUT_COLUMNS.created_at.desc(),
        _OUTPUT_COLUMNS.id.desc(),
        postgresql_where=sa.text(
            "is_public AND gallery_status = 'APPROVED' AND deleted_at IS NULL"
        ),
    )
)
_postgresql_only(
    sa.Index(
        "ix_outputs_gallery_pending",
        _OUTPUT_COLUMNS.created_at,
        _OUTPUT_COLUMNS.id,
        postgresql_where=sa.text(
            "is_public AND gallery_status IN ('SUBMITTED', 'WAITING_FOR_APPROVAL')"
            " AND deleted_at IS NULL"
        ),
    )
)


# One prompt vector per searchable output. The column is pgvector's vector(n) on
# PostgreSQL and float32 bytes on SQLite, so core.search reads and writes it and
# core.migrate leaves its type out of the comparison (info["vector_column"]).
output_embeddings = sa.Table(
    "output_embeddings",
    SQLModel.metadata,
    sa.Column(
        "output_id",
        sa.Uuid(),
        sa.ForeignKey("outputs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("embedding", sa.LargeBinary(), nullable=False, info={"vector": True}),
)
