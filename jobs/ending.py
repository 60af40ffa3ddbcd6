"""Ending jobs: cancel one, and announce an end once it is committed."""

import uuid

from core.enums import JobStatus
from core.errors import ErrorCode, ServiceError
from core.metrics import (
    JOB_QUEUE_WAIT_SECONDS,
    JOB_RUN_SECONDS,
    JOBS_FINISHED,
    model_label,
)
from core.models import Job
from core.tokens import Caller
from jobs.lifecycle import Ending, Guard, enqueue_all, finish_job, terminal_event
from jobs.outage import REDIS_DOWN, retry_redis
from jobs.reads import get_job, owned_job
from jobs.services import Jobs
from jobs.webhooks.hook import record_job_event
from jobs.webhooks.job_hook import record_hook_event


async def cancel_job(jobs: Jobs, *, caller: Caller, job_id: uuid.UUID) -> Job:
    """Cancel one's own job: a queued one at once with a full refund; a running one
    is flagged, and its worker stops within a step and refunds undelivered images."""
    async with jobs.db.session() as session:
        job = await owned_job(session, caller.user.id, job_id)
        if job.status.is_terminal:
            message = f"job {job_id} already finished ({job.status.value})"
            raise ServiceError(ErrorCode.JOB_FINISHED, message, "id")
        done = None
        if job.status is JobStatus.QUEUED:
            done = await finish_job(
                session,
                job_id=job_id,
                ending=Ending(JobStatus.CANCELLED, refund=job.cost),
                settings=jobs.settings,
                guard=Guard(only_from=(JobStatus.QUEUED,)),
            )
    if done is None:
        # Running (or claimed a moment ago): the worker honours the flag.
        try:
            await jobs.queue.request_cancel(job_id)
        except REDIS_DOWN:
            # Nothing was changed: say so, so the caller can try again.
            message = "the job's worker cannot be reached right now; try again shortly"
            raise ServiceError(ErrorCode.UNAVAILABLE, message, "id") from None
        return await get_job(jobs, user_id=caller.user.id, job_id=job_id)
    cancelled, dispatched = done
    await announce_end(jobs, cancelled, dispatched, left_queue=True)
    return cancelled


async def announce_end(
    jobs: Jobs,
    finished: Job,
    dispatched: list[Job],
    *,
    left_queue: bool,
    patience: float = 0,
) -> None:
    """After a terminal state committed: publish it, hand the freed slots' jobs to
    the queue and, when the queue moved, tell the queued jobs their new places.

    The committed row is the record, so a Redis outage longer than `patience`
    seconds is logged, not raised: event readers take the end from the row once
    Redis is back, and the sweeper sends the dispatched jobs.
    """
    _count_end(jobs, finished)
    event = terminal_event(finished)
    published = await retry_redis(
        lambda: jobs.events.publish(event),
        what=f"job {finished.id}: {event.type} event",
        patience=patience,
    )
    # After the subscribers' event, off their path; whether or not Redis took it,
    # as the webhook rows do not depend on Redis (and never raise).
    await record_job_event(jobs, event)
    await record_hook_event(jobs, finished, event)
    if not published:
        return

    async def fill_slots() -> None:
        await enqueue_all(jobs.queue, dispatched)
        if left_queue or dispatched:
            await jobs.events.queue_moved()

    await retry_redis(fill_slots, what=f"job {finished.id}: next jobs", patience=0)


def _count_end(jobs: Jobs, finished: Job) -> None:
    """Count the end, and time the wait and the run of a job that started.

    announce_end follows the one write that made the job terminal (the guarded
    update in finish_job), so each job is counted once.
    """
    JOBS_FINISHED.labels(kind=finished.kind.value, status=finished.status.value).inc()
    if finished.started_at is None:
        return  # cancelled or expired while queued: it never waited its turn out
    queued_at = finished.enqueued_at or finished.created_at
    wait = (finished.started_at - queued_at).total_seconds()
    JOB_QUEUE_WAIT_SECONDS.observe(max(0.0, wait))
    if finished.finished_at is not None:
        catalog = jobs.catalog
        model = model_label(
            finished.model_id,
            lambda m: m in catalog.models or m in catalog.upscalers,
        )
        run = (finished.finished_at - finished.started_at).total_seconds()
        JOB_RUN_SECONDS.labels(model=model).observe(max(0.0, run))
