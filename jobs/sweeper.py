"""Repair what crashes and lost messages leave behind; safe to run twice at once.

Every change is a conditional update or an idempotent enqueue, so two sweepers
(arq's cron can fire on two workers) do each thing at most once between them.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from core.enums import JobStatus
from core.errors import JobErrorCode
from core.models import Job, utcnow
from jobs.ending import announce_end
from jobs.lifecycle import (
    Ending,
    Guard,
    enqueue_all,
    finish_job,
    rowcount,
    stale_before,
    task_of,
)
from jobs.services import Jobs
from jobs.webhooks.delivery import sweep_webhooks

BATCH = 100  # jobs per kind of repair per run


# A heartbeat that every stale limit finds dead.
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class SweepReport:
    """What one sweep did."""

    requeued: int = 0  # RUNNING under a dead worker, handed out again
    timed_out: int = 0  # RUNNING under dead workers too often: failed and refunded
    expired: int = 0  # QUEUED too long: failed and refunded
    reenqueued: int = 0  # dispatched but perhaps never reached the queue
    webhooks: int = 0  # webhook deliveries queued again, and job ends recorded late


async def sweep(jobs: Jobs) -> SweepReport:
    """Requeue or fail stale running jobs, expire old queued ones, re-enqueue the rest."""
    report = SweepReport()
    settings = jobs.settings
    stale = stale_before(settings)
    expiry = utcnow() - timedelta(minutes=settings.queued_expiry_minutes)
    await _repair_dead_runs(jobs, stale, report)
    await _expire_old_waits(jobs, expiry, report)
    report.reenqueued = await _resend_dispatched(jobs, expiry)
    report.webhooks = await sweep_webhooks(jobs)
    return report


async def repair_dead_runs(jobs: Jobs) -> SweepReport:
    """Only the dead-worker part of the sweep: cheap (few jobs run at once), so
    every worker runs it every few seconds beside its jobs."""
    report = SweepReport()
    await _repair_dead_runs(jobs, stale_before(jobs.settings), report)
    return report


async def hand_back(jobs: Jobs, worker_id: str) -> int:
    """Give up the jobs a stopping worker still runs, so that another worker
    starts them within seconds rather than once their heartbeat is stale: mark
    them stale now and hand them out. Returns how many were handed back."""
    async with jobs.db.session() as session:
        result = await session.execute(
            sa.update(Job)
            .where(
                col(Job.status) == JobStatus.RUNNING, col(Job.worker_id) == worker_id
            )
            .values(heartbeat_at=LONG_AGO)
            .execution_options(synchronize_session=False)
        )
    handed = rowcount(result)
    if handed:
        await repair_dead_runs(jobs)
    return handed


async def _repair_dead_runs(jobs: Jobs, stale: datetime, report: SweepReport) -> None:
    """Hand jobs of dead workers out again, or fail them after too many tries."""
    dead = await _select(
        jobs, col(Job.status) == JobStatus.RUNNING, col(Job.heartbeat_at) < stale
    )
    for job in dead:
        if job.attempts < jobs.settings.max_attempts:
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
            Ending.failure(
                job,
                JobErrorCode.TIMEOUT,
                f"worker stopped responding {job.attempts} times",
            ),
            still=col(Job.heartbeat_at) < stale,
        ):
            report.timed_out += 1


async def _expire_old_waits(jobs: Jobs, expiry: datetime, report: SweepReport) -> None:
    """Fail and refund jobs queued longer than the queue time limit."""
    minutes = jobs.settings.queued_expiry_minutes
    message = f"waited more than {minutes:g} minutes for a worker"
    old = await _select(
        jobs, col(Job.status) == JobStatus.QUEUED, col(Job.created_at) < expiry
    )
    for job in old:
        ending = Ending.failure(job, JobErrorCode.EXPIRED, message)
        if await _fail(jobs, job, JobStatus.QUEUED, ending):
            report.expired += 1


async def _resend_dispatched(jobs: Jobs, expiry: datetime) -> int:
    """Enqueue dispatched jobs again: arq ignores an id it already holds, so only
    enqueues that were lost take effect."""
    dispatched = await _select(
        jobs,
        col(Job.status) == JobStatus.QUEUED,
        col(Job.enqueued_at).is_not(None),
        col(Job.created_at) >= expiry,
        order=col(Job.enqueued_at),
    )
    await enqueue_all(jobs.queue, dispatched)
    return len(dispatched)


async def _select(
    jobs: Jobs, *where: sa.ColumnElement[bool], order: Any = None
) -> list[Job]:
    query = sa.select(Job).where(*where).limit(BATCH)
    if order is not None:
        query = query.order_by(order)
    async with jobs.db.session() as session:
        return list(await session.scalars(query))


async def _fail(
    jobs: Jobs,
    job: Job,
    current: JobStatus,
    ending: Ending,
    still: sa.ColumnElement[bool] | None = None,
) -> bool:
    async with jobs.db.session() as session:
        done = await finish_job(
            session,
            job_id=job.id,
            ending=ending,
            settings=jobs.settings,
            guard=Guard(only_from=(current,), where=still),
        )
    if done is None:
        return False
    finished, dispatched = done
    await announce_end(
        jobs, finished, dispatched, left_queue=current is JobStatus.QUEUED
    )
    return True
