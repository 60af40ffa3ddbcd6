"""The job queue on Redis, served by arq workers: built by the composition root.

Kept apart from jobs/queue.py (keys, lanes, the JobQueue protocol) so that code
which only submits or reads jobs never imports arq.
"""

import asyncio
import uuid
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis

from jobs.outage import READ_TIMEOUT_SECONDS, REDIS_DOWN
from jobs.queue import (
    ARQ_EXPIRES,
    ARQ_QUEUE,
    JOB_CANCEL,
    KEY_TTL_SECONDS,
    WAKE_CHANNEL,
    arq_job_id,
    queue_score_ms,
)

# Like arq's create_pool: a Redis still starting gets this many seconds to answer.
CONNECT_ATTEMPTS = 5


async def open_arq_pool(
    url: str, *, read_timeout: float = READ_TIMEOUT_SECONDS
) -> ArqRedis:
    """arq's pool on `url`, whose reads time out: arq's create_pool sets no socket
    timeout, so a connection gone silent would hold the worker's poll, and an
    enqueue, forever. Fails, as create_pool does, if Redis never answers."""
    pool: ArqRedis = ArqRedis.from_url(
        url, socket_timeout=read_timeout, socket_connect_timeout=1
    )
    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        try:
            await pool.ping()
        except REDIS_DOWN:
            if attempt == CONNECT_ATTEMPTS:
                await pool.aclose()
                raise
            await asyncio.sleep(1)
        else:
            return pool
    raise AssertionError("unreachable")  # the loop returns or raises


class ArqQueue:
    """The JobQueue on Redis, served by arq workers (`jobs.worker`)."""

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

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
        """Put the job in arq's queue at its lane's score."""
        score = queue_score_ms(enqueued_at, paid=paid)
        # A keyword argument of the task, and only when tracing: a job queued
        # without it (or before an upgrade) runs the same.
        trace: dict[str, Any] = {}
        if traceparent is not None:
            trace["traceparent"] = traceparent
        await self.redis.enqueue_job(
            task,
            str(job_id),
            **trace,
            _job_id=arq_job_id(job_id, attempt),
            _queue_name=ARQ_QUEUE,
            _defer_until=datetime.fromtimestamp(score / 1000, tz=enqueued_at.tzinfo),
            _expires=ARQ_EXPIRES,
        )
        # Idle workers wait on this rather than sleeping out their poll delay.
        await self.redis.publish(WAKE_CHANNEL, b"1")

    async def finish_running(self) -> None:
        """Nothing runs here: workers run the jobs, and drain on their own SIGTERM."""

    async def request_cancel(self, job_id: uuid.UUID) -> None:
        """Set the cancel flag key; workers poll it."""
        await self.redis.set(JOB_CANCEL.format(job_id=job_id), b"1", ex=KEY_TTL_SECONDS)

    async def cancel_requested(self, job_id: uuid.UUID) -> bool:
        """One EXISTS on the flag key."""
        return bool(await self.redis.exists(JOB_CANCEL.format(job_id=job_id)))

    async def close(self) -> None:
        """Close the Redis pool."""
        await self.redis.aclose()
