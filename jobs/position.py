"""Where a queued job stands: its place in the lanes and a rough wait."""

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import col

from core.enums import JobStatus
from core.models import Job
from jobs.lifecycle import is_waiting

if TYPE_CHECKING:
    from jobs.submission import Jobs

# Recent successful runs averaged for the ETA.
ETA_SAMPLE = 20


async def queue_position(jobs: "Jobs", *, job: Job) -> tuple[int | None, float | None]:
    """1-based place among queued jobs (paid lane first, FIFO within a lane) and ETA.

    A job still in its account's overflow counts every dispatched job plus the
    account's earlier waiting ones. The ETA is the place times the mean run time
    of recent jobs, as if one worker served the queue; None without history.
    Running and finished jobs have no place.
    """
    if job.status is not JobStatus.QUEUED:
        return None, None
    queued = col(Job.status) == JobStatus.QUEUED
    dispatched = sa.and_(queued, col(Job.enqueued_at).is_not(None))
    async with jobs.db.session() as session:
        if job.enqueued_at is not None:
            ahead_in_lane = sa.or_(
                col(Job.enqueued_at) < job.enqueued_at,
                sa.and_(col(Job.enqueued_at) == job.enqueued_at, col(Job.id) < job.id),
            )
            if job.paid_lane:
                ahead = sa.and_(dispatched, col(Job.paid_lane), ahead_in_lane)
            else:
                ahead = sa.and_(dispatched, sa.or_(col(Job.paid_lane), ahead_in_lane))
            before = await session.scalar(sa.select(sa.func.count()).where(ahead))
        else:
            everyone = await session.scalar(
                sa.select(sa.func.count()).where(dispatched)
            )
            mine = await session.scalar(
                sa.select(sa.func.count()).where(
                    col(Job.user_id) == job.user_id,
                    is_waiting(),
                    col(Job.created_at) < job.created_at,
                )
            )
            before = int(everyone or 0) + int(mine or 0)
        runs = await session.execute(
            sa.select(col(Job.started_at), col(Job.finished_at))
            .where(
                col(Job.status) == JobStatus.SUCCEEDED, col(Job.started_at).is_not(None)
            )
            .order_by(col(Job.finished_at).desc())
            .limit(ETA_SAMPLE)
        )
        seconds = [
            (finished - started).total_seconds()
            for started, finished in runs
            if started is not None and finished is not None
        ]
    place = int(before or 0) + 1
    eta = None if not seconds else place * sum(seconds) / len(seconds)
    return place, eta
