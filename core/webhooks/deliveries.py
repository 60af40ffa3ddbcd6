"""Webhook deliveries: record an event once per endpoint, claim and settle each
attempt, find those due, and page through them.

Queues deliver at least once, so an attempt is claimed with a conditional update
on its number: a repeated or late task for an attempt already made changes
nothing and sends nothing.
"""

import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.enums import JobStatus, WebhookDeliveryStatus, WebhookEvent
from core.errors import ErrorCode, ServiceError
from core.history.paging import Direction, Page, SortKey, check_window, fetch_page
from core.models import Job, WebhookDelivery, WebhookEndpoint, utcnow
from core.webhooks.endpoints import parse_events

DELIVERIES: sa.Table = WebhookDelivery.__table__  # type: ignore[attr-defined]  # set by SQLModel
_KEYS = [
    SortKey("created_at", DELIVERIES.c.created_at, Direction.DESC, datetime),
    SortKey("id", DELIVERIES.c.id, Direction.DESC, uuid.UUID),
]
PENDING = WebhookDeliveryStatus.PENDING
END_EVENTS = {
    JobStatus.SUCCEEDED: WebhookEvent.JOB_SUCCEEDED,
    JobStatus.FAILED: WebhookEvent.JOB_FAILED,
    JobStatus.CANCELLED: WebhookEvent.JOB_CANCELLED,
}


def retry_delay(attempts: int, *, base: float) -> timedelta:
    """The wait after the `attempts`-th failure: base * 4^(attempts-1), plus up
    to a fifth more so that deliveries failed together do not retry together."""
    jitter = random.uniform(1, 1.2)  # spreads load; nothing secret rides on it
    return timedelta(seconds=base * 4 ** (attempts - 1) * jitter)


async def subscribed_endpoints(
    session: AsyncSession, *, user_id: uuid.UUID, event: WebhookEvent
) -> list[WebhookEndpoint]:
    """The account's live endpoints that asked for this event."""
    rows = await session.scalars(
        sa.select(WebhookEndpoint).where(
            col(WebhookEndpoint.user_id) == user_id, col(WebhookEndpoint.is_active)
        )
    )
    return [e for e in rows if event in parse_events(e.events)]


async def record_deliveries(
    session: AsyncSession,
    *,
    endpoints: Sequence[WebhookEndpoint],
    job_id: uuid.UUID,
    event: WebhookEvent,
    event_key: str,
    payload: str,
    max_attempts: int,
) -> list[uuid.UUID]:
    """Insert one PENDING delivery per endpoint, due now; returns the ids of those
    new, so an event recorded again is not sent again."""
    if not endpoints:
        return []
    now = utcnow()
    rows = [
        pending_row(
            endpoint_id=e.id,
            user_id=e.user_id,
            job_id=job_id,
            event=event,
            event_key=event_key,
            payload=payload,
            max_attempts=max_attempts,
            now=now,
        )
        for e in endpoints
    ]
    stmt = (
        dialect_insert(session)(DELIVERIES)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_key"])
        .returning(DELIVERIES.c.id)
    )
    return list((await session.scalars(stmt)).all())


def pending_row(
    *,
    endpoint_id: uuid.UUID | None,
    user_id: uuid.UUID,
    job_id: uuid.UUID,
    event: WebhookEvent,
    event_key: str,
    payload: str,
    max_attempts: int,
    now: datetime,
) -> dict[str, Any]:
    """A new PENDING delivery's row, due `now` (no endpoint: a job's own webhook)."""
    return {
        "id": uuid.uuid4(),
        "endpoint_id": endpoint_id,
        "user_id": user_id,
        "job_id": job_id,
        "event": event.value,
        "event_key": event_key,
        "payload": payload,
        "status": PENDING.value,
        "attempts": 0,
        "max_attempts": max_attempts,
        "next_attempt_at": now,
        "created_at": now,
    }


def dialect_insert(session: AsyncSession) -> Any:  # either dialect's insert()
    """The session's dialect's insert(), which has on_conflict_do_nothing."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert


async def claim_attempt(
    session: AsyncSession, *, delivery_id: uuid.UUID, attempt: int, lease: timedelta
) -> tuple[WebhookDelivery, WebhookEndpoint | None] | None:
    """Take attempt number `attempt` (0-based) of a pending delivery, or None when
    it was made already or the delivery is settled. The endpoint is None for a
    job's own webhook.

    The delivery stays due again after `lease`, so an attempt cut off by a dead
    sender is made again by the sweeper.
    """
    now = utcnow()
    delivery: WebhookDelivery | None = (
        await session.execute(
            sa.update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == delivery_id,
                col(WebhookDelivery.status) == PENDING,
                col(WebhookDelivery.attempts) == attempt,
                col(WebhookDelivery.attempts) < col(WebhookDelivery.max_attempts),
            )
            .values(
                attempts=col(WebhookDelivery.attempts) + 1,
                last_attempt_at=now,
                next_attempt_at=now + lease,
            )
            .returning(WebhookDelivery)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
    ).scalar_one_or_none()
    if delivery is None:
        return None
    if delivery.endpoint_id is None:
        return delivery, None
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None  # endpoints are never removed, only deactivated
    return delivery, endpoint


async def settle_attempt(
    session: AsyncSession,
    *,
    delivery: WebhookDelivery,
    status: WebhookDeliveryStatus,
    response_code: int | None,
    error: str | None,
    next_attempt_at: datetime | None,
) -> bool:
    """Write how the claimed attempt went; False if the delivery moved on meanwhile
    (its endpoint was deleted)."""
    result: Any = await session.execute(
        sa.update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery.id,
            col(WebhookDelivery.status) == PENDING,
            col(WebhookDelivery.attempts) == delivery.attempts,
        )
        .values(
            status=status,
            response_code=response_code,
            last_error=None if error is None else error[:200],
            next_attempt_at=next_attempt_at,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def due_deliveries(
    session: AsyncSession, *, limit: int = 100
) -> list[tuple[uuid.UUID, int]]:
    """(id, next attempt number) of pending deliveries whose time has come,
    oldest first: those never queued, and those whose sender died.

    One whose last attempt was cut off with its sender has none left: it fails.
    """
    now = utcnow()
    due = [
        col(WebhookDelivery.status) == PENDING,
        col(WebhookDelivery.next_attempt_at) <= now,
    ]
    spent = col(WebhookDelivery.attempts) >= col(WebhookDelivery.max_attempts)
    await session.execute(
        sa.update(WebhookDelivery)
        .where(*due, spent)
        .values(
            status=WebhookDeliveryStatus.FAILED,
            next_attempt_at=None,
            last_error="the last attempt was cut off by a stopped sender",
        )
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(
        sa.select(col(WebhookDelivery.id), col(WebhookDelivery.attempts))
        .where(*due, sa.not_(spent))
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


async def get_delivery(
    session: AsyncSession, *, user_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """One of the account's deliveries; any other id is not found."""
    delivery = await session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.user_id != user_id:
        raise ServiceError(ErrorCode.NOT_FOUND, "no such WebhookDelivery", "id")
    return delivery


async def list_deliveries(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    endpoint_id: uuid.UUID | None = None,
    job_id: uuid.UUID | None = None,
    status: list[WebhookDeliveryStatus] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    with_total: bool = False,
) -> Page[WebhookDelivery]:
    """A keyset page of the account's deliveries, newest first."""
    window = check_window(first=first, after=after, last=last, before=before)
    stmt = (
        sa.select(WebhookDelivery)
        .select_from(DELIVERIES)
        .where(DELIVERIES.c.user_id == user_id)
    )
    if endpoint_id is not None:
        stmt = stmt.where(DELIVERIES.c.endpoint_id == endpoint_id)
    if job_id is not None:
        stmt = stmt.where(DELIVERIES.c.job_id == job_id)
    if status is not None:
        stmt = stmt.where(DELIVERIES.c.status.in_(status))
    return await fetch_page(
        session,
        stmt,
        keys=_KEYS,
        scope="webhook_deliveries",
        window=window,
        with_total=with_total,
        convert=lambda row: row[0],
        values_of=lambda d: [d.created_at, d.id],
    )


async def unannounced_ends(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    created_since: datetime,
    limit: int = 100,
) -> list[uuid.UUID]:
    """Jobs that ended between `since` and `until` whose end has no delivery to a
    live endpoint that wants it: whoever announced the end died, or lost the
    database, between writing the end and recording its webhooks.

    `created_since` bounds when such jobs were created (their life is bounded),
    so the scan reads the (user_id, created_at) index, not every job ever run.
    """
    end_deliveries = sa.and_(
        col(WebhookDelivery.endpoint_id) == col(WebhookEndpoint.id),
        col(WebhookDelivery.job_id) == col(Job.id),
        col(WebhookDelivery.event).in_(list(END_EVENTS.values())),
    )
    rows = await session.execute(
        sa.select(col(Job.id), col(Job.status), col(WebhookEndpoint.events))
        .select_from(WebhookEndpoint)
        .join(Job, col(Job.user_id) == col(WebhookEndpoint.user_id))
        .outerjoin(WebhookDelivery, end_deliveries)
        .where(
            col(WebhookEndpoint.is_active),
            col(Job.created_at) >= created_since,
            col(Job.status).in_(list(END_EVENTS)),
            col(Job.finished_at) >= since,
            col(Job.finished_at) < until,
            # An endpoint hears of ends after it was registered, never before.
            col(Job.finished_at) >= col(WebhookEndpoint.created_at),
            col(WebhookDelivery.id).is_(None),
        )
        .limit(limit)
    )
    wanted = [
        job_id
        for job_id, status, events in rows
        if END_EVENTS[status] in parse_events(events)
    ]
    return list(dict.fromkeys(wanted))
