"""Read the caller's jobs: one by id, keyset pages, batches for DataLoaders, and
waiting for one to finish."""

import asyncio
import uuid
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.enums import JobKind, JobStatus
from core.errors import ErrorCode, ServiceError
from core.history.paging import Direction, Page, SortKey, check_window, fetch_page
from core.models import Job, Output
from jobs.outage import REDIS_DOWN
from jobs.services import Jobs

JOBS: sa.Table = Job.__table__  # type: ignore[attr-defined]  # set by SQLModel
_KEYS = [
    SortKey("created_at", JOBS.c.created_at, Direction.DESC, datetime),
    SortKey("id", JOBS.c.id, Direction.DESC, uuid.UUID),
]


async def get_job(jobs: Jobs, *, user_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """One of the account's jobs; another account's id is simply not found."""
    async with jobs.db.reading() as session:
        return await owned_job(session, user_id, job_id)


async def owned_job(
    session: AsyncSession, user_id: uuid.UUID, job_id: uuid.UUID
) -> Job:
    job = await session.get(Job, job_id, populate_existing=True)
    if job is None or job.user_id != user_id:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no job with id {job_id}", "id")
    return job


async def list_jobs(
    jobs: Jobs,
    *,
    user_id: uuid.UUID,
    status: list[JobStatus] | None = None,
    kind: list[JobKind] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    with_total: bool = False,
) -> Page[Job]:
    """A keyset page of the account's jobs, newest first (1 to 100, 50 by default)."""
    window = check_window(first=first, after=after, last=last, before=before)
    stmt = sa.select(Job).select_from(JOBS).where(JOBS.c.user_id == user_id)
    if status is not None:
        stmt = stmt.where(JOBS.c.status.in_(status))
    if kind is not None:
        stmt = stmt.where(JOBS.c.kind.in_(kind))
    async with jobs.db.reading() as session:
        return await fetch_page(
            session,
            stmt,
            keys=_KEYS,
            scope="jobs",
            window=window,
            with_total=with_total,
            convert=lambda row: row[0],
            values_of=lambda job: [job.created_at, job.id],
        )


async def jobs_by_ids(
    jobs: Jobs, *, user_id: uuid.UUID, job_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Job]:
    """The account's jobs among these ids, in one query (for a DataLoader)."""
    if not job_ids:
        return {}
    query = sa.select(Job).where(col(Job.id).in_(job_ids), col(Job.user_id) == user_id)
    async with jobs.db.reading() as session:
        return {job.id: job for job in await session.scalars(query)}


async def outputs_of_jobs(
    jobs: Jobs, *, user_id: uuid.UUID, job_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Output]]:
    """Each job's live outputs in index order, in one query (for a DataLoader)."""
    found: dict[uuid.UUID, list[Output]] = defaultdict(list)
    if not job_ids:
        return found
    query = (
        sa.select(Output)
        .where(
            col(Output.job_id).in_(job_ids),
            col(Output.user_id) == user_id,
            col(Output.deleted_at).is_(None),
        )
        .order_by(col(Output.job_id), col(Output.index))
    )
    async with jobs.db.reading() as session:
        for output in await session.scalars(query):
            found[output.job_id].append(output)
    return found


async def wait_for_job(jobs: Jobs, *, job_id: uuid.UUID, timeout: float) -> None:
    """Return once the job is finished, or after `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async with jobs.db.reading() as session:
                status = await session.scalar(
                    sa.select(col(Job.status)).where(col(Job.id) == job_id)
                )
            if status is None or JobStatus(status).is_terminal:
                return
            # The snapshot covers a job that finished since the read above.
            async for _event in jobs.events.watch_job(job_id):
                pass
    except (TimeoutError, *REDIS_DOWN):
        return  # the caller reads the row, which is the record
