"""Read-only counts for operators: queue depth, recent jobs, run times."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import Database
from core.enums import JobStatus
from core.models import Job, utcnow

LANES = ("free", "paid")  # the `lane` label's values


async def queue_depths(session: AsyncSession) -> dict[str, int]:
    """Queued jobs per lane (in the queue or in their account's overflow)."""
    rows = await session.execute(
        sa.select(col(Job.paid_lane), sa.func.count())
        .where(col(Job.status) == JobStatus.QUEUED)
        .group_by(col(Job.paid_lane))
    )
    depths = dict.fromkeys(LANES, 0)
    for paid, count in rows.all():
        depths["paid" if paid else "free"] = int(count)
    return depths


async def count_queue_depths(db: Database) -> dict[str, int]:
    """queue_depths in a session of its own (what a scrape calls)."""
    async with db.session() as session:
        return await queue_depths(session)


async def running_jobs(session: AsyncSession) -> list[Job]:
    """Jobs running now, oldest start first."""
    rows = await session.scalars(
        sa.select(Job)
        .where(col(Job.status) == JobStatus.RUNNING)
        .order_by(col(Job.started_at))
    )
    return list(rows)


@dataclass(frozen=True)
class RecentJobs:
    """Jobs created within a window: how many by status, and their run times."""

    by_status: dict[JobStatus, int]
    run_p50_seconds: float | None
    run_p95_seconds: float | None


async def recent_jobs(session: AsyncSession, *, within: timedelta) -> RecentJobs:
    """Jobs created in the last `within`, by status, with run-time percentiles of
    those that ran to an end (computed here: SQLite has no percentile function)."""
    since = utcnow() - within
    counts = await session.execute(
        sa.select(col(Job.status), sa.func.count())
        .where(col(Job.created_at) >= since)
        .group_by(col(Job.status))
    )
    by_status = dict.fromkeys(JobStatus, 0)
    for status, count in counts.all():
        by_status[JobStatus(status)] = int(count)
    spans = await session.execute(
        sa.select(col(Job.started_at), col(Job.finished_at)).where(
            col(Job.created_at) >= since,
            col(Job.started_at).is_not(None),
            col(Job.finished_at).is_not(None),
        )
    )
    runs = sorted(
        (finished - started).total_seconds()
        for started, finished in spans.all()
        if started is not None and finished is not None  # as the query asks
    )
    return RecentJobs(by_status, percentile(runs, 0.5), percentile(runs, 0.95))


def percentile(ordered: list[float], q: float) -> float | None:
    """The nearest-rank q-quantile of sorted values; None when there are none."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * q // 1))  # ceil(n * q), at least 1
    return ordered[int(rank) - 1]
