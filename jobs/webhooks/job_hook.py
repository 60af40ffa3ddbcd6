"""A job's own webhook on the job's path: record its deliveries, throttled.

As with endpoints (jobs/webhooks/hook.py), this only writes rows and enqueues,
and never raises. PROGRESS and OUTPUT come in bursts (a step every few
milliseconds on a fast model), so together they are held to one delivery per
THROTTLE_SECONDS per job; the end, which carries every output, is never dropped.
"""

import logging
import time
from collections.abc import Callable

from core.enums import EventType, JobHookEvent, WebhookEvent
from core.models import Job
from core.webhooks.job_hooks import (
    parse_hook_events,
    record_hook_delivery,
    unannounced_hook_ends,
)
from jobs.events import JobEvent
from jobs.lifecycle import terminal_event
from jobs.services import Jobs
from jobs.webhooks.hook import WEBHOOK_EVENTS, late_window, queue_deliveries
from jobs.webhooks.payload import event_body

log = logging.getLogger(__name__)
THROTTLE_SECONDS = 0.5

HOOK_EVENTS = {
    EventType.STARTED: JobHookEvent.STARTED,
    EventType.PROGRESS: JobHookEvent.PROGRESS,
    EventType.OUTPUT: JobHookEvent.OUTPUT,
    EventType.SUCCEEDED: JobHookEvent.COMPLETED,
    EventType.FAILED: JobHookEvent.COMPLETED,
    EventType.CANCELLED: JobHookEvent.COMPLETED,
}
# The body's type: the same names endpoints get, and job.progress.
BODY_TYPES = {**WEBHOOK_EVENTS, EventType.PROGRESS: WebhookEvent.JOB_PROGRESS}
THROTTLED = (JobHookEvent.PROGRESS, JobHookEvent.OUTPUT)


class Throttle:
    """Lets one PROGRESS or OUTPUT delivery of a job through per `seconds`."""

    def __init__(
        self,
        seconds: float = THROTTLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds, self._clock = seconds, clock
        self._last: float | None = None

    def allow(self) -> bool:
        """True, and the window restarts, if the last one let through is old enough."""
        now = self._clock()
        if self._last is not None and now - self._last < self.seconds:
            return False
        self._last = now
        return True


def hook_event_key(event: JobEvent, kind: WebhookEvent) -> str:
    """What makes an event one delivery: the job, the event and, for progress or
    an output, its step or index (a rerun after a dead worker repeats them)."""
    if event.output is not None:
        detail = f":{event.output['index']}"
    elif kind is WebhookEvent.JOB_PROGRESS:
        detail = f":{event.step}"
    else:
        detail = ""
    return f"{event.job_id}:hook:{kind.value}{detail}"


async def record_hook_event(
    jobs: Jobs, job: Job, event: JobEvent, throttle: Throttle | None = None
) -> None:
    """Record and queue the delivery of one event to the job's own webhook, if it
    has one that wants the event (and, for PROGRESS and OUTPUT, the throttle
    lets it through)."""
    wanted = HOOK_EVENTS.get(event.type)
    if job.webhook_url is None or jobs.deliveries is None or wanted is None:
        return
    if wanted not in parse_hook_events(job.webhook_events):
        return
    if wanted in THROTTLED and throttle is not None and not throttle.allow():
        return
    kind = BODY_TYPES[event.type]
    try:
        body = await event_body(jobs, event, kind)
        attempts = jobs.settings.webhook_max_attempts if kind.is_terminal else 1
        async with jobs.db.session() as session:
            created = await record_hook_delivery(
                session,
                job=job,
                event=kind,
                event_key=hook_event_key(event, kind),
                payload=body,
                max_attempts=attempts,
            )
    except Exception:
        log.warning(
            "job %s: could not record its own %s webhook",
            event.job_id,
            kind.value,
            exc_info=True,
        )
        return
    await queue_deliveries(jobs.deliveries, created)


async def announce_missed_hook_ends(jobs: Jobs) -> int:
    """Record the own-webhook ends of recent jobs that never got them (their
    announcer died, or its database write failed); returns how many."""
    async with jobs.db.session() as session:
        ended = await unannounced_hook_ends(session, **late_window(jobs.settings))
    for job in ended:
        await record_hook_event(jobs, job, terminal_event(job))
    return len(ended)
