"""Job state changes shared by submission, tasks and the sweeper.

Every change is a conditional UPDATE guarded by the state it leaves, so a second
delivery, a racing sweeper or a late cancel changes nothing and refunds nothing.
Writers take the account lock before touching job rows, in that order everywhere,
so two transactions never wait on each other in a cycle.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.credits import lock_account, refund_credits
from core.db import Database
from core.enums import EventType, JobKind, JobStatus
from core.errors import JobErrorCode
from core.models import Job, Output, User, utcnow
from core.settings import Settings
from core.tokens import record_token_spend
from jobs.events import JobEvent
from jobs.positions import issue_tickets
from jobs.queue import TASK_GENERATION, TASK_UPSCALE, JobQueue

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
_TERMINAL_EVENT = {
    JobStatus.SUCCEEDED: EventType.SUCCEEDED,
    JobStatus.FAILED: EventType.FAILED,
    JobStatus.CANCELLED: EventType.CANCELLED,
}


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE touched (the ORM types its result as a plain Result)."""
    return cast("CursorResult[Any]", result).rowcount


def task_of(job: Job) -> str:
    """The arq function that runs this kind of job."""
    return TASK_GENERATION if job.kind is JobKind.GENERATE else TASK_UPSCALE


def is_dispatched() -> sa.ColumnElement[bool]:
    """Jobs holding one of their account's parallel slots."""
    return sa.or_(
        col(Job.status) == JobStatus.RUNNING,
        sa.and_(col(Job.status) == JobStatus.QUEUED, col(Job.enqueued_at).is_not(None)),
    )


def is_waiting() -> sa.ColumnElement[bool]:
    """Jobs in their account's overflow, accepted but not yet handed to a worker."""
    return sa.and_(col(Job.status) == JobStatus.QUEUED, col(Job.enqueued_at).is_(None))


async def count_jobs(
    session: AsyncSession, *, user_id: uuid.UUID, where: sa.ColumnElement[bool]
) -> int:
    """How many of the account's jobs match."""
    found = await session.scalar(
        sa.select(sa.func.count()).where(col(Job.user_id) == user_id, where)
    )
    return int(found or 0)


def _anyone_waiting(user_id: Any) -> sa.Exists:
    return sa.exists().where(col(Job.user_id) == user_id, is_waiting())


async def dispatch_waiting(
    session: AsyncSession, *, user_id: uuid.UUID, settings: Settings
) -> list[Job]:
    """Move the account's oldest waiting jobs into free slots; the caller enqueues them.

    The caller holds the account lock, so slots are counted once.
    """
    if not await session.scalar(sa.select(_anyone_waiting(user_id))):
        return []  # the usual case: nothing waits, so no slots to count
    return await _fill_slots(session, user_id=user_id, settings=settings)


async def _fill_slots(
    session: AsyncSession, *, user_id: uuid.UUID, settings: Settings
) -> list[Job]:
    user = await session.get(User, user_id)
    if user is None:
        return []
    free = settings.parallel_limit(user.tier) - await count_jobs(
        session, user_id=user_id, where=is_dispatched()
    )
    if free <= 0:
        return []
    waiting = await session.scalars(
        sa.select(Job)
        .where(col(Job.user_id) == user_id, is_waiting())
        .order_by(col(Job.created_at), col(Job.id))
        .limit(free)
        .execution_options(populate_existing=True)
    )
    now = utcnow()
    dispatched = []
    for job in waiting:
        result = await session.execute(
            sa.update(Job)
            .where(col(Job.id) == job.id, is_waiting())
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result):
            job.enqueued_at = now
            dispatched.append(job)
    await issue_tickets(session, dispatched)
    return dispatched


async def enqueue_all(
    queue: JobQueue, jobs: list[Job], *, traceparent: str | None = None
) -> None:
    """Hand dispatched jobs to the queue, after their transaction committed;
    `traceparent` goes with them for their worker to continue."""
    for job in jobs:
        assert job.enqueued_at is not None  # dispatched jobs always have it
        await queue.enqueue(
            job.id,
            task=task_of(job),
            paid=job.paid_lane,
            enqueued_at=job.enqueued_at,
            traceparent=traceparent,
        )


async def beat(
    session: AsyncSession,
    *,
    job_id: uuid.UUID,
    worker_id: str,
    step: int,
    total_steps: int,
) -> bool:
    """Refresh the heartbeat while the job is still ours; False once it is not."""
    result = await session.execute(
        sa.update(Job)
        .where(
            col(Job.id) == job_id,
            col(Job.status) == JobStatus.RUNNING,
            col(Job.worker_id) == worker_id,
        )
        .values(heartbeat_at=utcnow(), step=step, total_steps=total_steps)
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))


@dataclass(frozen=True)
class Ending:
    """How a job ends: its final state, the credits it gives back, why, and the
    outputs it leaves (written in the same transaction)."""

    status: JobStatus
    refund: int = 0
    error_code: JobErrorCode | None = None
    error_message: str | None = None
    step: int | None = None  # the steps done, when the caller knows them
    outputs: tuple[Output, ...] = ()

    @classmethod
    def failure(
        cls, job: Job, code: JobErrorCode, message: str, step: int | None = None
    ) -> "Ending":
        """A failure, refunded in full."""
        return cls(JobStatus.FAILED, job.cost, code, message, step)


@dataclass(frozen=True)
class Guard:
    """The state a job must still be in for its end to be written."""

    only_from: tuple[JobStatus, ...] = ACTIVE
    worker_id: str | None = None  # and still held by this worker
    where: sa.ColumnElement[bool] | None = None  # and whatever else must hold


async def finish_job(
    session: AsyncSession,
    *,
    job_id: uuid.UUID,
    ending: Ending,
    settings: Settings,
    guard: Guard = Guard(),
    user_id: uuid.UUID | None = None,
) -> tuple[Job, list[Job]] | None:
    """Write a terminal state with its outputs and refund, then fill the freed slot.

    Returns the job and the jobs newly dispatched (to enqueue after commit), or
    None when the job no longer passes `guard`. A caller that knows the job's
    account passes `user_id` and saves a read.
    """
    if user_id is None:
        user_id = await session.scalar(
            sa.select(col(Job.user_id)).where(col(Job.id) == job_id)
        )
        if user_id is None:
            return None
    await lock_account(session, user_id=user_id)
    ended = await _write_end(session, job_id, user_id, ending, guard)
    if ended is None:
        return None
    job, anyone_waiting = ended
    session.add_all(ending.outputs)
    if ending.refund:
        note = f"refund: job {ending.status.value.lower()}"
        await refund_credits(
            session, user_id=user_id, amount=ending.refund, job_id=job_id, note=note
        )
        if job.token_id is not None:
            await record_token_spend(
                session, token_id=job.token_id, credits=-ending.refund
            )
    dispatched = []
    if anyone_waiting:  # the usual case: nothing waits, so no slots to count
        dispatched = await _fill_slots(session, user_id=user_id, settings=settings)
    return job, dispatched


async def _write_end(
    session: AsyncSession,
    job_id: uuid.UUID,
    user_id: uuid.UUID,
    ending: Ending,
    guard: Guard,
) -> tuple[Job, bool] | None:
    """The conditional update that ends the job, and whether any of the account's
    jobs waits for a slot (read in the same statement); None when the guard fails."""
    conditions = [
        col(Job.id) == job_id,
        col(Job.user_id) == user_id,
        col(Job.status).in_(guard.only_from),
    ]
    if guard.worker_id is not None:
        conditions.append(col(Job.worker_id) == guard.worker_id)
    if guard.where is not None:
        conditions.append(guard.where)
    message = ending.error_message
    values: dict[str, Any] = {
        "status": ending.status,
        "finished_at": utcnow(),
        "refunded": ending.refund,
        "error_code": ending.error_code,
        "error_message": None if message is None else message[:1000],
    }
    if ending.step is not None:
        values["step"] = ending.step
    row = (
        await session.execute(
            sa.update(Job)
            .where(*conditions)
            .values(**values)
            .returning(Job, _anyone_waiting(user_id))
            .execution_options(synchronize_session=False, populate_existing=True)
        )
    ).one_or_none()
    return None if row is None else (row[0], bool(row[1]))


def terminal_event(job: Job) -> JobEvent:
    """The last event of a finished job."""
    return JobEvent(
        job_id=job.id,
        user_id=job.user_id,
        type=_TERMINAL_EVENT[job.status],
        status=job.status,
        at=job.finished_at or utcnow(),
        step=job.step,
        total_steps=job.total_steps,
        percent=1.0 if job.status is JobStatus.SUCCEEDED else None,
        error_code=job.error_code,
        error_message=job.error_message,
        charged=job.cost - job.refunded,
        refunded=job.refunded,
    )


def output_event(job: Job, output: Output) -> JobEvent:
    """An OUTPUT event, as the worker sends it when the image is stored."""
    return JobEvent(
        job_id=job.id,
        user_id=job.user_id,
        type=EventType.OUTPUT,
        status=JobStatus.RUNNING,
        at=output.created_at,
        step=job.step,
        total_steps=job.total_steps,
        charged=job.cost,
        output=output.model_dump(mode="json"),
    )


async def read_row_events(
    db: Database,
    *,
    job_ids: list[uuid.UUID],
    user_ids: list[uuid.UUID],
    since: datetime,
) -> list[JobEvent]:
    """What rows record of these jobs, and of the accounts' jobs that changed since
    `since`: each stored output's OUTPUT event, then the job's end if it ended (for
    event readers after a Redis outage, which pub/sub does not replay)."""
    mine = sa.or_(
        col(Job.id).in_(job_ids),
        sa.and_(
            col(Job.user_id).in_(user_ids),
            sa.or_(col(Job.finished_at) >= since, col(Job.status) == JobStatus.RUNNING),
        ),
    )
    async with db.session() as session:
        found = list(await session.scalars(sa.select(Job).where(mine)))
        outputs = await session.scalars(
            sa.select(Output)
            .where(
                col(Output.job_id).in_([job.id for job in found]),
                col(Output.deleted_at).is_(None),
            )
            .order_by(col(Output.job_id), col(Output.index))
        )
    by_id = {job.id: job for job in found}
    events = [output_event(by_id[o.job_id], o) for o in outputs]
    return events + [
        terminal_event(job) for job in found if job.status in _TERMINAL_EVENT
    ]


def stale_before(settings: Settings) -> datetime:
    """Heartbeats older than this belong to dead workers."""
    return utcnow() - timedelta(seconds=settings.heartbeat_stale_seconds)
