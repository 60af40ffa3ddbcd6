"""Claiming jobs for a worker: one job, and the queued jobs that can share its
engine call.

A claim is a conditional update: QUEUED (dispatched), or RUNNING under a dead
worker, becomes ours; zero rows means another worker owns it, so a second
delivery of a claimed job does nothing. The update returns the row and its
account's tier, all the worker needs, in one round trip.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.enums import JobKind, JobStatus, Tier
from core.models import Job, User, utcnow


@dataclass(frozen=True)
class Claimed:
    """A job this worker now holds, and its account's tier."""

    job: Job
    tier: Tier


def _queued() -> sa.ColumnElement[bool]:
    """Dispatched jobs still waiting for a worker."""
    return sa.and_(
        col(Job.status) == JobStatus.QUEUED, col(Job.enqueued_at).is_not(None)
    )


def _ours(session: AsyncSession, worker_id: str, now: datetime) -> dict[str, Any]:
    """The columns a claim sets; a retried job keeps its first start.

    On PostgreSQL the start is the server's clock as the row is taken, so that
    starts sort in claim order across workers: a worker slowed between reading
    its clock and claiming would otherwise stamp a job it took after another
    worker's as started before it. SQLite has one writer at a time; a claim
    there, and a batch's jobs, share `now`.
    """
    started: Any = now
    if session.get_bind().dialect.name == "postgresql":
        started = sa.func.clock_timestamp()
    return {
        "status": JobStatus.RUNNING,
        "worker_id": worker_id,
        "attempts": col(Job.attempts) + 1,
        "started_at": sa.func.coalesce(col(Job.started_at), started),
        "heartbeat_at": now,
        "step": 0,
    }


async def _claim(
    session: AsyncSession,
    which: sa.ColumnElement[bool],
    claimable: sa.ColumnElement[bool],
    values: dict[str, Any],
) -> list[Claimed]:
    owner_tier = (
        sa.select(col(User.tier))
        .where(col(User.id) == col(Job.user_id))
        .scalar_subquery()
    )
    result = await session.execute(
        sa.update(Job)
        .where(which, claimable)
        .values(**values)
        .returning(Job, owner_tier)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return [Claimed(row[0], Tier(row[1])) for row in result]


async def claim_job(
    session: AsyncSession, *, job_id: uuid.UUID, worker_id: str, stale_before: datetime
) -> Claimed | None:
    """Make the job ours: QUEUED, or RUNNING under a dead worker; None if neither."""
    dead = sa.and_(
        col(Job.status) == JobStatus.RUNNING, col(Job.heartbeat_at) < stale_before
    )
    claimed = await _claim(
        session,
        col(Job.id) == job_id,
        sa.or_(_queued(), dead),
        _ours(session, worker_id, utcnow()),
    )
    return claimed[0] if claimed else None


async def claim_companions(
    session: AsyncSession, *, leader: Job, worker_id: str, max_images: int
) -> list[Claimed]:
    """Claim queued jobs that can run in the leader's engine call, in queue order
    (paid lane first, then dispatch), while all their images fit in
    `max_images`; each is claimed as the leader was, so one that another worker
    took or is taking meanwhile is skipped. Their own deliveries then find them
    claimed.

    Compatible is what the engine batches (engine/generate.py, _batch_key):
    text-to-image on the same model, size, steps, scheduler and guidance, with
    a negative prompt as empty or not as the leader's. They share the leader's
    heartbeat (and on SQLite its start), so the rows show which jobs ran
    together.
    """
    stored = leader.params
    if leader.kind is not JobKind.GENERATE or stored.get("init_image_id"):
        return []
    room = max_images - int(stored["num_outputs"])
    if room < 1:
        return []
    values = _ours(session, worker_id, leader.heartbeat_at or utcnow())
    claimed: list[Claimed] = []
    while room > 0:
        # One at a time, so that a claim locks only the row it takes: a row
        # locked but left unclaimed (too many images for the room) would be
        # passed over by every other worker's claim until this transaction
        # ended, and so run after later jobs. PostgreSQL: rows another worker
        # is claiming right now are passed over, never waited for, so two
        # claiming workers cannot deadlock. SQLite has one writer at a time
        # and ignores the clause.
        head = (
            sa.select(col(Job.id))
            .where(_queued(), col(Job.id) != leader.id, *_compatible(leader))
            .where(_param("num_outputs").as_integer() <= room)
            .order_by(col(Job.paid_lane).desc(), col(Job.queue_ticket))
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        found = await _claim(session, col(Job.id) == head, _queued(), values)
        if not found:
            break
        claimed += found
        room -= int(found[0].job.params["num_outputs"])
    return claimed


def _param(name: str) -> Any:
    """One field of the stored, resolved request (a JSON column)."""
    return col(Job.params)[name]


def _compatible(leader: Job) -> list[sa.ColumnElement[bool]]:
    """Conditions for a job to share the leader's pipeline call."""
    stored = leader.params
    negative = _param("negative_prompt").as_string()
    return [
        col(Job.kind) == JobKind.GENERATE,
        col(Job.model_id) == leader.model_id,
        _param("width").as_integer() == stored["width"],
        _param("height").as_integer() == stored["height"],
        _param("inference_steps").as_integer() == stored["inference_steps"],
        _param("scheduler_id").as_string() == stored["scheduler_id"],
        _param("guidance_scale").as_float() == stored["guidance_scale"],
        _param("init_image_id").as_string().is_(None),
        negative == "" if stored["negative_prompt"] == "" else negative != "",
    ]
