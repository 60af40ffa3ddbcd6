"""Repair what crashes and lost messages leave behind; safe to run twice at once.

Every change is a conditional update or an idempotent enqueue, so two sweepers
(arq's cron can fire on two workers) do each thing at most once between them.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col

from core.enums import JobStatus
from core.errors import ErrorCode
from core.models import Job, utcnow
from jobs.lifecycle import enqueue_all, finish_job, stale_before, task_of
from jobs.services import Jobs
from jobs.submission import announce_end

BATCH = 100  # jobs per kind of repair per run


@dataclass
class SweepReport:
    """What one sweep did."""

    requeued: int = 0  # RUNNING under a dead worker, handed out again
    timed_out: int = 0  # RUNNING under dead workers too often: failed and refunded
    expired: int = 0  # QUEUED too long: failed and refunded
    reenqueued: int = 0  # dispatched but perhaps never reached the queue


async def sweep(jobs: Jobs) -> SweepReport:
    """Requeue or fail stale running jobs, expire old queued ones, re-enqueue the rest."""
    report = SweepReport()
    settings = jobs.settings
    stale = stale_before(settings)
    expiry = utcnow() - timedelta(minutes=settings.queued_expiry_minutes)
    async with jobs.db.session() as session:
        dead = list(
            await session.scalars(
                sa.select(Job)
                .where(
                    col(Job.status) == JobStatus.RUNNING, col(Job.heartbeat_at) < stale
                )
                .limit(BATCH)
            )
        )
        old = list(
            await session.scalars(
                sa.select(Job)
                .where(
                    col(Job.status) == JobStatus.QUEUED, col(Job.created_at) < expiry
                )
                .limit(BATCH)
            )
        )
    for job in dead:
        if job.attempts < settings.max_attempts:
            # The claim takes over a stale RUNNING job; a fresh arq id per attempt
            # gets past the dead delivery's entry, and repeats of it are no-ops.
            assert job.enqueued_at is not None  # it was dispatched to run at all
            await jobs.queue.enqueue(
                job.id,
                task=task_of(job),
                paid=job.paid_lane,
                enqueued_at=job.enqueued_at,
                attempt=job.attempts,
            )
            report.requeued += 1
        elif await _fail(
            jobs,
            job,
            JobStatus.RUNNING,
            ErrorCode.TIMEOUT,
            f"worker stopped responding {job.attempts} times",
            still=col(Job.heartbeat_at) < stale,
        ):
            report.timed_out += 1
    for job in old:
        message = (
            f"waited more than {settings.queued_expiry_minutes:g} minutes for a worker"
        )
        if await _fail(jobs, job, JobStatus.QUEUED, ErrorCode.EXPIRED, message):
            report.expired += 1
    async with jobs.db.session() as session:
        dispatched = list(
            await session.scalars(
                sa.select(Job)
                .where(
                    col(Job.status) == JobStatus.QUEUED,
                    col(Job.enqueued_at).is_not(None),
                    col(Job.created_at) >= expiry,
                )
                .order_by(col(Job.enqueued_at))
                .limit(BATCH)
            )
        )
    # arq ignores an id it already holds, so only lost enqueues take effect.
    await enqueue_all(jobs.queue, dispatched)
    report.reenqueued = len(dispatched)
    return report


async def _fail(
    jobs: Jobs,
    job: Job,
    current: JobStatus,
    code: ErrorCode,
    message: str,
    still: sa.ColumnElement[bool] | None = None,
) -> bool:
    async with jobs.db.session() as session:
        done = await finish_job(
            session,
            job_id=job.id,
            status=JobStatus.FAILED,
            settings=jobs.settings,
            refund=job.cost,
            error_code=code,
            error_message=message,
            only_from=(current,),
            where=still,
        )
    if done is None:
        return False
    finished, dispatched = done
    await announce_end(
        jobs, finished, dispatched, left_queue=current is JobStatus.QUEUED
    )
    return True
