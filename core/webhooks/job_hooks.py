"""Per-job webhooks: check the one a job is submitted with, keep the account's
signing secret (made on first use, rotated with a grace), record deliveries.

A job's own webhook shares the endpoints' machinery: the same URL and address
rules, the same deliveries table (with no endpoint), claims, retries and
Standard Webhooks signatures.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.enums import JobHookEvent, WebhookEvent
from core.errors import ErrorCode, ServiceError
from core.models import Job, JobHookSecret, utcnow
from core.webhooks.addresses import AddressRefused, UnknownHost, resolve_allowed
from core.webhooks.deliveries import DELIVERIES, END_EVENTS, dialect_insert, pending_row
from core.webhooks.endpoints import ROTATION_GRACE, check_url
from core.webhooks.signing import new_secret

DEFAULT_HOOK_EVENTS = (
    JobHookEvent.STARTED,
    JobHookEvent.OUTPUT,
    JobHookEvent.COMPLETED,
)
SECRETS: sa.Table = JobHookSecret.__table__  # type: ignore[attr-defined]  # set by SQLModel


@dataclass(frozen=True)
class JobHook:
    """A job's own webhook as submitted: where, and which events (None: default)."""

    url: str
    events: tuple[JobHookEvent, ...] | None = None


def parse_hook_events(raw: str | None) -> list[JobHookEvent]:
    """Events from their stored comma-separated form, in declaration order."""
    chosen = set((raw or "").split(","))
    return [e for e in JobHookEvent if e.value in chosen]


def format_hook_events(events: Iterable[JobHookEvent]) -> str:
    """Events in their stored form, in a stable order."""
    chosen = set(events)
    return ",".join(e.value for e in JobHookEvent if e in chosen)


async def check_job_hook(
    hook: JobHook, *, allow_private: bool, problems: list[ServiceError]
) -> JobHook:
    """The hook with its URL trimmed and its events settled, adding what is wrong
    to `problems`: the URL's rules as for endpoints, and the addresses its host
    resolves to now (each send checks them again)."""
    url = hook.url
    try:
        url = check_url(hook.url, allow_private=allow_private)
    except ServiceError as err:
        problems.append(ServiceError(err.code, err.message, "webhook.url"))
    else:
        problem = await _address_problem(url, allow_private=allow_private)
        if problem is not None:
            problems.append(problem)
    events = DEFAULT_HOOK_EVENTS if hook.events is None else hook.events
    chosen = tuple(parse_hook_events(format_hook_events(events)))
    if not chosen:
        message = "events must name at least one event"
        problems.append(ServiceError(ErrorCode.REQUIRED, message, "webhook.events"))
    return JobHook(url=url, events=chosen)


async def _address_problem(url: str, *, allow_private: bool) -> ServiceError | None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        await resolve_allowed(host, port, allow_private=allow_private)
    except AddressRefused as err:
        message = f"url must reach a public address: {err}"
        return ServiceError(ErrorCode.URL_NOT_ALLOWED, message, "webhook.url")
    except UnknownHost as err:
        return ServiceError(ErrorCode.BAD_USER_INPUT, f"url: {err}", "webhook.url")
    return None


async def hook_secret(session: AsyncSession, *, user_id: uuid.UUID) -> JobHookSecret:
    """The account's per-job webhook secret, made on first use (a concurrent
    first use makes one, not two)."""
    row = await session.get(JobHookSecret, user_id, populate_existing=True)
    if row is not None:
        return row  # the usual case at each send: one read, no write
    await session.execute(
        dialect_insert(session)(SECRETS)
        .values(user_id=user_id, secret=new_secret(), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    row = await session.get(JobHookSecret, user_id, populate_existing=True)
    assert row is not None  # just inserted, or there already
    return row


async def rotate_hook_secret(
    session: AsyncSession, *, user_id: uuid.UUID
) -> JobHookSecret:
    """Give the account a new per-job secret; as with an endpoint, the replaced
    one signs beside it for ROTATION_GRACE, so receivers can switch over."""
    row = await hook_secret(session, user_id=user_id)
    row.previous_secret = row.secret
    row.previous_secret_until = utcnow() + ROTATION_GRACE
    row.secret = new_secret()
    await session.flush()
    return row


async def record_hook_delivery(
    session: AsyncSession,
    *,
    job: Job,
    event: WebhookEvent,
    event_key: str,
    payload: str,
    max_attempts: int,
) -> list[uuid.UUID]:
    """Insert the PENDING delivery of one event to a job's own webhook, due now;
    returns its id if new, so an event recorded again is not sent again."""
    row = pending_row(
        endpoint_id=None,
        user_id=job.user_id,
        job_id=job.id,
        event=event,
        event_key=event_key,
        payload=payload,
        max_attempts=max_attempts,
        now=utcnow(),
    )
    stmt = (
        dialect_insert(session)(DELIVERIES)
        .values(row)
        .on_conflict_do_nothing(
            index_elements=["event_key"],
            index_where=DELIVERIES.c.endpoint_id.is_(None),
        )
        .returning(DELIVERIES.c.id)
    )
    return list((await session.scalars(stmt)).all())


async def hook_url(session: AsyncSession, *, job_id: uuid.UUID) -> str | None:
    """Where a job's own webhook goes, or None if it has none."""
    url: str | None = await session.scalar(
        sa.select(col(Job.webhook_url)).where(col(Job.id) == job_id)
    )
    return url


async def unannounced_hook_ends(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    created_since: datetime,
    limit: int = 100,
) -> list[Job]:
    """Jobs that ended between `since` and `until` whose own webhook wants the end
    and has no delivery of it: whoever announced the end died first. As for
    endpoints, `created_since` keeps the scan on the (user_id, created_at) side."""
    recorded = sa.and_(
        DELIVERIES.c.job_id == col(Job.id),
        DELIVERIES.c.endpoint_id.is_(None),
        DELIVERIES.c.event.in_([event.value for event in END_EVENTS.values()]),
    )
    rows = await session.scalars(
        sa.select(Job)
        .outerjoin(DELIVERIES, recorded)
        .where(
            col(Job.webhook_url).is_not(None),
            col(Job.created_at) >= created_since,
            col(Job.status).in_(list(END_EVENTS)),
            col(Job.finished_at) >= since,
            col(Job.finished_at) < until,
            DELIVERIES.c.id.is_(None),
        )
        .limit(limit)
    )
    return [
        job
        for job in rows
        if JobHookEvent.COMPLETED in parse_hook_events(job.webhook_events)
    ]
