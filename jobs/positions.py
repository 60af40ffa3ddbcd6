"""Where queued jobs stand: their places in the lanes, a rough wait, and updates.

The order is defined once, in `_places`: dispatched jobs first, the paid lane
ahead of the free one, FIFO by enqueue time (then id) within a lane; a job still
in its account's overflow comes after every dispatched job and the account's
earlier waiting ones. Both the single-job lookup and the refresh that runs
whenever the queue moves read it.
"""

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.enums import EventType, JobStatus
from core.models import Job, utcnow
from jobs.events import JobEvent
from jobs.services import Jobs

# Recent successful runs averaged for the ETA.
ETA_SAMPLE = 20
# Queued jobs told their new place when the queue moves; the rest hear it later.
REFRESH_LIMIT = 200


def _places() -> sa.Subquery:
    """Every QUEUED job with its 1-based place: the one definition of the order."""
    dispatched = col(Job.enqueued_at).is_not(None)
    in_lane = sa.func.row_number().over(
        partition_by=dispatched,
        order_by=(col(Job.paid_lane).desc(), col(Job.enqueued_at), col(Job.id)),
    )
    in_account = sa.func.row_number().over(
        partition_by=(dispatched, col(Job.user_id)),
        order_by=(col(Job.created_at), col(Job.id)),
    )
    all_dispatched = sa.func.count(col(Job.enqueued_at)).over()
    place = sa.case((dispatched, in_lane), else_=all_dispatched + in_account)
    return (
        sa.select(
            col(Job.id).label("id"),
            col(Job.user_id).label("user_id"),
            col(Job.total_steps).label("total_steps"),
            col(Job.cost).label("cost"),
            place.label("place"),
        )
        .where(col(Job.status) == JobStatus.QUEUED)
        .subquery("places")
    )


def _mean_run_seconds(dialect: str) -> sa.ScalarSelect[Any]:
    """Mean run time of recent successful jobs, in seconds; NULL without history."""
    started, finished = col(Job.started_at), col(Job.finished_at)
    if dialect == "sqlite":  # SQLite stores times as text; julianday reads it
        seconds: Any = (
            sa.func.julianday(finished) - sa.func.julianday(started)
        ) * 86400
    else:
        seconds = sa.func.extract("epoch", finished - started)
    recent = (
        sa.select(seconds.label("seconds"))
        .where(col(Job.status) == JobStatus.SUCCEEDED, started.is_not(None))
        .order_by(finished.desc())
        .limit(ETA_SAMPLE)
        .subquery()
    )
    return sa.select(sa.func.avg(recent.c.seconds)).scalar_subquery()


@dataclass(frozen=True)
class QueuePlace:
    """A queued job's 1-based place (see `_places`) and rough wait.

    The wait is the place times the mean run time of recent jobs, as if one
    worker served the queue; None without history.
    """

    position: int
    eta_seconds: float | None

    @classmethod
    def read(cls, place: Any, per_run: Any) -> "QueuePlace":
        """From a row: the place, and recent jobs' mean run seconds (NULL without
        history)."""
        position = int(place)
        wait = None if per_run is None else position * float(per_run)
        return cls(position, wait)


async def queue_places(
    jobs: Jobs, *, job_ids: list[uuid.UUID]
) -> dict[uuid.UUID, QueuePlace]:
    """The places of those of these jobs that are queued, in one query (running
    and finished jobs have none)."""
    if not job_ids:
        return {}
    async with jobs.db.session() as session:
        return await queue_places_in(session, job_ids)


async def queue_places_in(
    session: AsyncSession, job_ids: list[uuid.UUID]
) -> dict[uuid.UUID, QueuePlace]:
    """As queue_places, in a transaction of the caller's: one statement, the recent
    run times behind the ETA included."""
    statement = _places_of_jobs(session.get_bind().dialect.name)
    rows = (await session.execute(statement, {"job_ids": job_ids})).all()
    return {
        uuid.UUID(str(job_id)): QueuePlace.read(place, per_run)
        for job_id, place, per_run in rows
    }


@functools.cache
def _places_of_jobs(dialect: str) -> sa.Select[Any]:
    # Built once: every submission runs it, and building it costs more than
    # PostgreSQL takes to answer it.
    places = _places()
    return sa.select(places.c.id, places.c.place, _mean_run_seconds(dialect)).where(
        places.c.id.in_(sa.bindparam("job_ids", expanding=True))
    )


async def queue_position(jobs: Jobs, *, job: Job) -> QueuePlace | None:
    """One job's place; None unless it is queued."""
    if job.status is not JobStatus.QUEUED:
        return None
    return (await queue_places(jobs, job_ids=[job.id])).get(job.id)


async def publish_positions(jobs: Jobs) -> None:
    """Tell the first queued jobs their place and ETA now; call when the queue moves.

    A job that starts meanwhile keeps its STARTED snapshot: the buses drop a
    QUEUED event that would follow a later one.
    """
    async with jobs.db.session() as session:
        statement = _first_places(session.get_bind().dialect.name)
        rows = (await session.execute(statement)).all()
    now = utcnow()
    await jobs.events.publish_many(
        [
            queued_event(
                job_id=uuid.UUID(str(row.id)),
                user_id=uuid.UUID(str(row.user_id)),
                total_steps=row.total_steps,
                cost=row.cost,
                place=QueuePlace.read(row.place, row.per_run),
                at=now,
            )
            for row in rows
        ]
    )


@functools.cache
def _first_places(dialect: str) -> sa.Select[Any]:
    # Built once, as _places_of_jobs: every job's start and end runs it.
    places = _places()
    mean_run = _mean_run_seconds(dialect).label("per_run")
    return (
        sa.select(places, mean_run)
        .order_by(places.c.place, places.c.id)
        .limit(REFRESH_LIMIT)
    )


def queued_event(
    *,
    job_id: uuid.UUID,
    user_id: uuid.UUID,
    total_steps: int,
    cost: int,
    place: QueuePlace | None,
    at: datetime,
) -> JobEvent:
    """A queued job's event: its place and wait when known."""
    return JobEvent(
        job_id=job_id,
        user_id=user_id,
        type=EventType.QUEUED,
        status=JobStatus.QUEUED,
        at=at,
        queue_position=None if place is None else place.position,
        eta_seconds=None if place is None else place.eta_seconds,
        step=0,
        total_steps=total_steps,
        percent=0.0,
        charged=cost,
    )
