"""Webhook endpoints: register (secret shown once), list, delete, rotate the secret."""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.credits import lock_account
from core.enums import WebhookDeliveryStatus, WebhookEvent
from core.errors import ErrorCode, ServiceError, ValidationFailed
from core.models import WebhookDelivery, WebhookEndpoint, utcnow
from core.text import text_problem
from core.webhooks.addresses import literal_ip, refusal
from core.webhooks.signing import new_secret

MAX_URL_LENGTH = 2000
# How long a rotated-out secret keeps signing beside the new one.
ROTATION_GRACE = timedelta(hours=24)


# What an endpoint may subscribe to: progress goes only to a job's own webhook.
ENDPOINT_EVENTS: list[WebhookEvent] = [
    e for e in WebhookEvent if e is not WebhookEvent.JOB_PROGRESS
]


class Rotated(Protocol):
    """A secret holder that rotates with a grace: an endpoint, or the account's
    per-job webhook secret."""

    previous_secret: str | None
    previous_secret_until: datetime | None


def parse_events(raw: str) -> list[WebhookEvent]:
    """Events from their stored comma-separated form, in declaration order."""
    chosen = set(raw.split(","))
    return [e for e in WebhookEvent if e.value in chosen]


def format_events(events: Iterable[WebhookEvent]) -> str:
    """Events in their stored form, in a stable order."""
    chosen = set(events)
    return ",".join(e.value for e in WebhookEvent if e in chosen)


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL, trimmed, if webhooks may be sent to it; else a refusal naming `url`.

    Addresses are checked again at every send, after resolving; this refuses
    early what can be told from the text alone.
    """
    url = url.strip()

    def refuse(code: ErrorCode, why: str) -> ServiceError:
        return ServiceError(code, f"url {why}", "url")

    if not url:
        raise refuse(ErrorCode.REQUIRED, "must not be empty")
    if len(url) > MAX_URL_LENGTH or text_problem(url):
        raise refuse(
            ErrorCode.BAD_USER_INPUT,
            f"must be at most {MAX_URL_LENGTH} characters of text",
        )
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port outside 0..65535 or not a number
    except ValueError:
        raise refuse(ErrorCode.BAD_USER_INPUT, "is not a valid URL") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise refuse(
            ErrorCode.URL_NOT_ALLOWED,
            f"must start with {' or '.join(s + '://' for s in schemes)}",
        )
    host = parts.hostname
    if not host or any(c.isspace() for c in url):
        raise refuse(ErrorCode.BAD_USER_INPUT, "is not a valid URL")
    if parts.username is not None or parts.password is not None:
        raise refuse(
            ErrorCode.URL_NOT_ALLOWED, "must not carry a user name or password"
        )
    if parts.fragment:
        raise refuse(ErrorCode.BAD_USER_INPUT, "must not have a #fragment")
    ip = literal_ip(host)
    reason = None if ip is None else refusal(ip, allow_private=allow_private)
    if ip is None and not allow_private and _is_local_name(host):
        reason = f"{host} is a loopback name"
    if reason is not None:
        raise refuse(
            ErrorCode.URL_NOT_ALLOWED, f"must reach a public address: {reason}"
        )
    return url


def _is_local_name(host: str) -> bool:
    """Names that always mean this machine (RFC 6761)."""
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def check_events(events: Iterable[WebhookEvent] | None) -> list[WebhookEvent]:
    """The events chosen: all of them by default, never none."""
    chosen = (
        list(ENDPOINT_EVENTS) if events is None else parse_events(format_events(events))
    )
    if not chosen:
        raise ServiceError(
            ErrorCode.REQUIRED, "events must name at least one event", "events"
        )
    if WebhookEvent.JOB_PROGRESS in chosen:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT,
            "events may not include JOB_PROGRESS: only a job's own webhook gets it",
            "events",
        )
    return chosen


async def create_endpoint(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    url: str,
    events: Iterable[WebhookEvent] | None = None,
    allow_private: bool = False,
    max_active: int = 10,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret, which is not shown again."""
    problems: list[ServiceError] = []
    checked_url, chosen = url, list(ENDPOINT_EVENTS)
    try:
        checked_url = check_url(url, allow_private=allow_private)
    except ServiceError as err:
        problems.append(err)
    try:
        chosen = check_events(events)
    except ServiceError as err:
        problems.append(err)
    if problems:
        raise ValidationFailed(problems)
    # Lock the account so two concurrent creations cannot both pass the limit.
    await lock_account(session, user_id=user_id)
    active = await session.scalar(
        sa.select(sa.func.count())
        .select_from(WebhookEndpoint)
        .where(col(WebhookEndpoint.user_id) == user_id, col(WebhookEndpoint.is_active))
    )
    if (active or 0) >= max_active:
        raise ServiceError(
            ErrorCode.TOO_MANY_WEBHOOK_ENDPOINTS,
            f"an account may have at most {max_active} webhook endpoints; delete one first",
        )
    secret = new_secret()
    endpoint = WebhookEndpoint(
        user_id=user_id, url=checked_url, events=format_events(chosen), secret=secret
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, secret


async def list_endpoints(
    session: AsyncSession, *, user_id: uuid.UUID
) -> list[WebhookEndpoint]:
    """The account's endpoints, newest first; deleted ones are gone."""
    rows = await session.scalars(
        sa.select(WebhookEndpoint)
        .where(col(WebhookEndpoint.user_id) == user_id, col(WebhookEndpoint.is_active))
        .order_by(col(WebhookEndpoint.created_at).desc(), col(WebhookEndpoint.id))
    )
    return list(rows)


async def get_endpoint(
    session: AsyncSession, *, user_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """One of the account's live endpoints; any other id is not found."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    if endpoint is None or endpoint.user_id != user_id or not endpoint.is_active:
        raise ServiceError(ErrorCode.NOT_FOUND, "no such WebhookEndpoint", "id")
    return endpoint


async def delete_endpoint(
    session: AsyncSession, *, user_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """Stop sending to an endpoint; its deliveries stay readable, pending ones fail."""
    endpoint = await get_endpoint(session, user_id=user_id, endpoint_id=endpoint_id)
    endpoint.is_active = False
    endpoint.deleted_at = utcnow()
    await session.execute(
        sa.update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint_id,
            col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
        )
        .values(
            status=WebhookDeliveryStatus.FAILED,
            next_attempt_at=None,
            last_error="the endpoint was deleted",
        )
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return endpoint


async def rotate_secret(
    session: AsyncSession, *, user_id: uuid.UUID, endpoint_id: uuid.UUID
) -> tuple[WebhookEndpoint, str]:
    """Give an endpoint a new secret, returned this once; every attempt from now
    on, retries of earlier events included, is signed with it, and for
    ROTATION_GRACE with the secret it replaces too."""
    endpoint = await get_endpoint(session, user_id=user_id, endpoint_id=endpoint_id)
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = utcnow() + ROTATION_GRACE
    endpoint.secret = secret
    await session.flush()
    return endpoint, secret


def previous_secret(holder: Rotated, *, now: datetime) -> str | None:
    """The replaced secret while it still signs beside the current one."""
    until = holder.previous_secret_until
    if holder.previous_secret is None or until is None or until <= now:
        return None
    return holder.previous_secret
