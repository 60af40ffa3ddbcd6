"""Read-side helpers for the API: a job's stored outputs, batched across jobs."""

import uuid
from collections import defaultdict

import sqlalchemy as sa
from sqlmodel import col

from core.models import Job, Output
from jobs.services import Jobs


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
    async with jobs.db.session() as session:
        for output in await session.scalars(query):
            found[output.job_id].append(output)
    return found


async def get_output(
    jobs: Jobs, *, user_id: uuid.UUID, output_id: uuid.UUID
) -> Output | None:
    """One of the account's live outputs, for an OUTPUT event."""
    async with jobs.db.session() as session:
        output = await session.get(Output, output_id)
    if output is None or output.user_id != user_id or output.deleted_at is not None:
        return None
    return output


async def jobs_by_ids(
    jobs: Jobs, *, user_id: uuid.UUID, job_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Job]:
    """The account's jobs among these ids, in one query (for a DataLoader)."""
    if not job_ids:
        return {}
    query = sa.select(Job).where(col(Job.id).in_(job_ids), col(Job.user_id) == user_id)
    async with jobs.db.session() as session:
        return {job.id: job for job in await session.scalars(query)}
