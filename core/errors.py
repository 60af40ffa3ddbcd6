"""Stable error codes and the one exception services raise."""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable codes clients branch on: add, never rename."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    TOO_MANY_WEBHOOK_ENDPOINTS = "TOO_MANY_WEBHOOK_ENDPOINTS"
    # A webhook URL whose scheme or address the outbound rules refuse.
    URL_NOT_ALLOWED = "URL_NOT_ALLOWED"
    # Gallery review: only a live public output can be approved, and only once
    # its owner submitted it.
    NOT_PUBLIC = "NOT_PUBLIC"
    NOT_SUBMITTED = "NOT_SUBMITTED"
    INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"
    INVALID_SIZE = "INVALID_SIZE"
    UNKNOWN_MODEL = "UNKNOWN_MODEL"
    UNKNOWN_SCHEDULER = "UNKNOWN_SCHEDULER"
    PROMPT_TOO_LONG = "PROMPT_TOO_LONG"
    INVALID_IMAGE = "INVALID_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    QUEUE_LIMIT_REACHED = "QUEUE_LIMIT_REACHED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    JOB_FINISHED = "JOB_FINISHED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    RATE_LIMITED = "RATE_LIMITED"
    # Requests refused at the HTTP or websocket edge, before any GraphQL runs.
    BAD_REQUEST = "BAD_REQUEST"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    OPERATION_NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    # A dependency (the queue) is away for a moment; nothing changed, try again.
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class JobErrorCode(StrEnum):
    """Why a job failed (Job.error.code): add, never rename."""

    ENGINE_ERROR = "ENGINE_ERROR"
    INVALID_REQUEST = "INVALID_REQUEST"
    STORAGE_ERROR = "STORAGE_ERROR"
    TIMEOUT = "TIMEOUT"
    EXPIRED = "EXPIRED"


class ServiceError(Exception):
    """A refusal the caller can act on.

    `field` names the offending input in Python terms (`negative_prompt`); the API
    layer maps it to the input path it came from.
    """

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


class ValidationFailed(ServiceError):  # noqa: N818  # reads as an event, like ServiceError's refusals
    """Several input problems found at once, reported together."""

    def __init__(self, problems: list[ServiceError]) -> None:
        first = problems[0]
        super().__init__(
            first.code, "; ".join(p.message for p in problems), first.field
        )
        self.problems = problems
