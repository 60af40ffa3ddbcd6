"""The job queue: Redis keys, lanes, and enqueueing onto arq.

Lanes. arq has no priorities, but its queue is one Redis sorted set scored by
the time a job may start (ms) and a worker takes the lowest scores first among
those due. A paid-tier job is enqueued with `_defer_until` set `PAID_BAND_MS`
(about 31 years) before its enqueue time, so every paid job sorts ahead of every
free one and jobs within a lane keep FIFO order. One queue and one worker pool
serve both lanes; a free job waits only while paid jobs are queued, which the
per-account parallel limits bound. The score is computed from the job's
`enqueued_at` column, so a re-enqueue (sweeper, retry) keeps the job's place.
arq derives a job's expiry from its score, which for a paid job lies in the
past, so `_expires` is always passed explicitly.

Every Redis key Darkroom uses is defined here under the `darkroom:` prefix.
"""

import uuid
from datetime import datetime, timedelta
from typing import Protocol

PREFIX = "darkroom"
ARQ_QUEUE = f"{PREFIX}:queue"  # the one arq queue (a sorted set) both lanes share
JOB_EVENTS = PREFIX + ":job:{job_id}:events"  # pub/sub channel
JOB_EVENTS_PATTERN = f"{PREFIX}:job:*:events"  # what each event bus listens to
JOB_LAST = PREFIX + ":job:{job_id}:last"  # snapshot for late subscribers
JOB_SEQ = PREFIX + ":job:{job_id}:seq"  # event counter; orders snapshot and stream
JOB_CANCEL = PREFIX + ":job:{job_id}:cancel"  # read by should_stop
WAKE_CHANNEL = f"{PREFIX}:queue:wake"  # pub/sub: a job was queued, poll now
QUEUE_MOVED = f"{PREFIX}:queue:moved"  # pub/sub: queued jobs' places changed

# How far ahead of free jobs paid jobs sort: larger than any real wait.
PAID_BAND_MS = 10**12
# arq forgets a queued job after this; the sweeper re-enqueues long before.
ARQ_EXPIRES = timedelta(days=1)
# Snapshots, counters and cancel flags outlive any job's run by a wide margin.
KEY_TTL_SECONDS = 7 * 24 * 3600

TASK_GENERATION = "run_generation"
TASK_UPSCALE = "run_upscale"

# Webhook deliveries have their own arq queue, served beside the job worker with
# many at once: on the job queue they would wait behind GPU work, and a slow
# receiver would hold the GPU worker's one slot.
WEBHOOK_QUEUE = f"{PREFIX}:webhooks"
TASK_WEBHOOK = "send_webhook"


def queue_score_ms(enqueued_at: datetime, *, paid: bool) -> int:
    """The sort score of a job: its enqueue time, moved a band earlier for paid jobs."""
    ms = int(enqueued_at.timestamp() * 1000)
    return ms - PAID_BAND_MS if paid else ms


def arq_job_id(job_id: uuid.UUID, attempt: int = 0) -> str:
    """The arq id of a delivery; a re-run after a dead worker needs a fresh one.

    arq refuses an id whose job or result key still exists, which is what makes a
    repeated enqueue harmless; a job taken over from a dead worker still has its
    old arq entry, so the sweeper enqueues it under `{id}:{attempts}`.
    """
    return str(job_id) if attempt == 0 else f"{job_id}:{attempt}"


def webhook_job_id(delivery_id: uuid.UUID, attempt: int) -> str:
    """The arq id of one attempt of one delivery: enqueueing it twice is a no-op."""
    return f"webhook:{delivery_id}:{attempt}"


class JobQueue(Protocol):
    """Where dispatched jobs wait for a worker, and where cancel flags live."""

    async def enqueue(
        self,
        job_id: uuid.UUID,
        *,
        task: str,
        paid: bool,
        enqueued_at: datetime,
        attempt: int = 0,
        traceparent: str | None = None,
    ) -> None:
        """Hand a job to the workers; enqueueing the same delivery twice is a no-op.
        The task gets `traceparent`, when given, to continue its trace."""
        ...

    async def request_cancel(self, job_id: uuid.UUID) -> None:
        """Raise the job's cancel flag for the worker running it."""
        ...

    async def cancel_requested(self, job_id: uuid.UUID) -> bool:
        """True once the job's cancel flag is raised."""
        ...

    async def finish_running(self) -> None:
        """Start no more jobs in this process and wait for those it runs to end
        (a stopping server's drain); a queue whose jobs run elsewhere returns."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class DeliveryQueue(Protocol):
    """Where webhook deliveries wait for their attempts: arq's webhook queue, or
    timers in this process."""

    async def enqueue(
        self, delivery_id: uuid.UUID, *, attempt: int, at: datetime
    ) -> None:
        """Make attempt `attempt` (0-based) at `at`; the same attempt twice is a no-op."""
        ...

    async def close(self) -> None:
        """Stop sending and release what the queue holds."""
        ...
