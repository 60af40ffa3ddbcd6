"""Turn a job's events into webhook deliveries without waiting on any receiver.

This runs on the job's own path (a worker publishing STARTED and OUTPUT, and
whoever announces the end), so it only writes rows and enqueues, and it never
raises: a database or queue hiccup is logged and costs the job nothing. Rows
written but not queued are sent by the sweeper once due.
"""

import logging
import uuid
from datetime import datetime, timedelta
from typing import TypedDict

from core.enums import EventType, WebhookEvent
from core.models import Job, utcnow
from core.settings import Settings
from core.webhooks.deliveries import (
    record_deliveries,
    subscribed_endpoints,
    unannounced_ends,
)
from jobs.events import JobEvent
from jobs.lifecycle import terminal_event
from jobs.queue import DeliveryQueue
from jobs.services import Jobs
from jobs.webhooks.payload import event_body

log = logging.getLogger(__name__)
# An end is left to the sweep once its announcer had this long to record it.
ANNOUNCE_GRACE = timedelta(minutes=1)
# Ends older than this are not announced late: the news is stale by then.
LATE_LIMIT = timedelta(hours=1)

WEBHOOK_EVENTS = {
    EventType.STARTED: WebhookEvent.JOB_STARTED,
    EventType.OUTPUT: WebhookEvent.JOB_OUTPUT,
    EventType.SUCCEEDED: WebhookEvent.JOB_SUCCEEDED,
    EventType.FAILED: WebhookEvent.JOB_FAILED,
    EventType.CANCELLED: WebhookEvent.JOB_CANCELLED,
}


def event_key(event: JobEvent, kind: WebhookEvent) -> str:
    """What makes an event one delivery per endpoint: the job, the event and,
    for an output, its index (a rerun after a dead worker repeats them)."""
    index = "" if event.output is None else f":{event.output['index']}"
    return f"{event.job_id}:{kind.value}{index}"


async def record_job_event(jobs: Jobs, event: JobEvent) -> None:
    """Record and queue the webhook deliveries of one job event, if any are due."""
    kind = WEBHOOK_EVENTS.get(event.type)
    if kind is None or jobs.deliveries is None:
        return
    try:
        created = await _record(jobs, event, kind)
    except Exception:
        log.warning(
            "job %s: could not record its %s webhooks",
            event.job_id,
            kind.value,
            exc_info=True,
        )
        return
    await queue_deliveries(jobs.deliveries, created)


async def queue_deliveries(queue: DeliveryQueue, delivery_ids: list[uuid.UUID]) -> None:
    """Queue first attempts now; on failure leave them to the sweeper."""
    now = utcnow()
    for delivery_id in delivery_ids:
        try:
            await queue.enqueue(delivery_id, attempt=0, at=now)
        except Exception as err:
            # The queue is away: the rest would fail too, and all are due rows.
            log.warning("webhooks left for the sweeper to send (%r)", err)
            return


async def _record(jobs: Jobs, event: JobEvent, kind: WebhookEvent) -> list[uuid.UUID]:
    async with jobs.db.session() as session:
        endpoints = await subscribed_endpoints(
            session, user_id=event.user_id, event=kind
        )
    if not endpoints:
        return []  # the usual case: one indexed read, nothing else
    body = await event_body(jobs, event, kind)
    # The end is what receivers must not miss: it is retried. The rest are sent
    # once; the end repeats their substance (status, every output).
    attempts = jobs.settings.webhook_max_attempts if kind.is_terminal else 1
    async with jobs.db.session() as session:
        return await record_deliveries(
            session,
            endpoints=endpoints,
            job_id=event.job_id,
            event=kind,
            event_key=event_key(event, kind),
            payload=body,
            max_attempts=attempts,
        )


async def announce_missed_ends(jobs: Jobs) -> int:
    """Record the webhooks of recent job ends that never got them (the process
    announcing the end died, or its database write failed); returns how many."""
    async with jobs.db.session() as session:
        job_ids = await unannounced_ends(session, **late_window(jobs.settings))
        ended = [await session.get(Job, job_id) for job_id in job_ids]
    for job in ended:
        if job is not None:
            await record_job_event(jobs, terminal_event(job))
    return len(job_ids)


class LateWindow(TypedDict):
    """The bounds unannounced_ends and unannounced_hook_ends take."""

    since: datetime
    until: datetime
    created_since: datetime


def late_window(settings: Settings) -> LateWindow:
    """Where to look for ends never recorded: those that ended after LATE_LIMIT
    ago and before ANNOUNCE_GRACE ago, of jobs created within a job's life."""
    now = utcnow()
    since = now - LATE_LIMIT
    return LateWindow(
        since=since,
        until=now - ANNOUNCE_GRACE,
        created_since=since - _longest_life(settings),
    )


def _longest_life(settings: Settings) -> timedelta:
    """How long after its creation a job can end: the queue's expiry, then every
    run it may get, each cut off by the time limit or found dead by the sweeper."""
    per_run = settings.job_timeout_seconds + settings.heartbeat_stale_seconds + 60
    return timedelta(
        minutes=settings.queued_expiry_minutes,
        seconds=settings.max_attempts * per_run,
    )
