"""Enumerations shared by the tables, the services and the GraphQL schema."""

from enum import StrEnum


class Tier(StrEnum):
    """Account plan; decides parallel jobs and queue lane."""

    FREE = "FREE"
    STARTER = "STARTER"
    PRO = "PRO"
    ULTIMATE = "ULTIMATE"

    @property
    def is_paid(self) -> bool:
        """Paid tiers are served before free ones."""
        return self is not Tier.FREE


class Scope(StrEnum):
    """What an API token may do."""

    GENERATE = "GENERATE"
    READ = "READ"
    MANAGE = "MANAGE"
    # Operators' scrapers: never a default, and only a token holding it grants it.
    METRICS = "METRICS"
    # Gallery moderators: never a default, and only a token holding it grants it.
    ADMIN = "ADMIN"


DEFAULT_SCOPES = (Scope.GENERATE, Scope.READ)


class CreditType(StrEnum):
    """Where a ledger row's credits came from."""

    FREE = "FREE"
    PURCHASE = "PURCHASE"
    GRANT = "GRANT"
    REFUND = "REFUND"


class JobKind(StrEnum):
    """What a job does."""

    GENERATE = "GENERATE"
    UPSCALE = "UPSCALE"


class JobStatus(StrEnum):
    """Where a job is in its life; the last three are terminal."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        """True once the job can change no more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobSource(StrEnum):
    """Which client submitted a job."""

    API = "API"
    WEB = "WEB"
    CLI = "CLI"


class GalleryStatus(StrEnum):
    """An output's standing in the public gallery."""

    NOT_SUBMITTED = "NOT_SUBMITTED"
    SUBMITTED = "SUBMITTED"
    WAITING_FOR_APPROVAL = "WAITING_FOR_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class EventType(StrEnum):
    """What happened to a job, as its updates say."""

    QUEUED = "QUEUED"
    STARTED = "STARTED"
    PROGRESS = "PROGRESS"
    OUTPUT = "OUTPUT"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        """True for the last event a job publishes."""
        return self in (EventType.SUCCEEDED, EventType.FAILED, EventType.CANCELLED)


class WebhookEvent(StrEnum):
    """A job event an account's webhook endpoints may subscribe to; the value is
    the payload's `type`."""

    JOB_STARTED = "job.started"
    JOB_OUTPUT = "job.output"
    JOB_SUCCEEDED = "job.succeeded"
    JOB_FAILED = "job.failed"
    JOB_CANCELLED = "job.cancelled"
    # Per-job webhooks only (JobHookEvent.PROGRESS); endpoints never get it.
    JOB_PROGRESS = "job.progress"

    @property
    def is_terminal(self) -> bool:
        """True for a job's last event: these are retried until delivered."""
        return self in (
            WebhookEvent.JOB_SUCCEEDED,
            WebhookEvent.JOB_FAILED,
            WebhookEvent.JOB_CANCELLED,
        )


class JobHookEvent(StrEnum):
    """What a job's own webhook (given at submission) may be sent."""

    STARTED = "STARTED"
    PROGRESS = "PROGRESS"
    OUTPUT = "OUTPUT"
    COMPLETED = "COMPLETED"


class WebhookDeliveryStatus(StrEnum):
    """Where one webhook delivery is."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
