"""Where queued jobs stand: their places in the lanes, a rough wait, and updates.

The order: dispatched jobs first, the paid lane ahead of the free one, FIFO by
dispatch within a lane; a job still in its account's overflow comes after every
dispatched job and the account's earlier waiting ones (by creation, then id).

Every read is an index range whatever the depth. Dispatching takes the lane's
next ticket (`issue_tickets`), so tickets run gapless in dispatch order and a
dispatched job's place in its lane is its ticket less the lane's head (its
smallest queued ticket), plus one, less the jobs that left the lane out of turn
between the two (cancelled, failed, or claimed as a batch companion); those are
few, and the head passes them soon. An overflow job counts its account's earlier
waiting jobs, at most `max_overflow`.
"""

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.enums import EventType, JobStatus
from core.models import Job, QueueLane, utcnow
from jobs.events import JobEvent
from jobs.services import Jobs

log = logging.getLogger(__name__)

# Recent successful runs averaged for the ETA.
ETA_SAMPLE = 20
# The most often one process updates its followers' places (see PlaceUpdates).
UPDATE_INTERVAL_SECONDS = 0.5
# A change of the wait alone is news past this fraction (the mean run time that
# it comes from shifts with every job that ends).
ETA_NEWS_FRACTION = 0.1
LANES = (True, False)  # paid, then free


async def issue_tickets(session: AsyncSession, dispatched: Sequence[Job]) -> None:
    """Give each newly dispatched job its lane's next ticket, in the given order.

    Call last in the dispatching transaction: the lane row stays locked until
    commit, which is what keeps tickets gapless and in commit order.

    Each job's `enqueued_at` is stamped here too, under the lane's lock, a
    millisecond apart within the call: arq orders a lane by that time
    (jobs.queue.queue_score_ms), so it must follow the tickets. Stamped before the
    lock, a submission that waited on it for a while carried an earlier time than
    the ticket it then took, and workers took it ahead of jobs the places said
    came first (benchmarks/scale.py counted such FIFO violations, seconds ahead).
    """
    for paid in LANES:
        lane_jobs = [job for job in dispatched if job.paid_lane is paid]
        if not lane_jobs:
            continue
        last = await session.scalar(
            sa.update(QueueLane)
            .where(col(QueueLane.paid) == paid)
            .values(issued=col(QueueLane.issued) + len(lane_jobs))
            .returning(col(QueueLane.issued))
        )
        assert last is not None, "migration 0005 creates both lanes"
        now = utcnow()
        first = last - len(lane_jobs) + 1
        for k, job in enumerate(lane_jobs):
            job.queue_ticket = first + k  # written by the flush, once
            job.enqueued_at = now + timedelta(milliseconds=k)
    await session.flush()


def _status_is(entity: Any, status: JobStatus) -> sa.ColumnElement[bool]:
    """The status as a literal, not a parameter: only then may the planners use
    the partial indexes these reads rely on (their predicates name the status)."""
    return col(entity.status) == sa.literal_column(f"'{status.value}'")


def _status_is_not(entity: Any, status: JobStatus) -> sa.ColumnElement[bool]:
    return col(entity.status) != sa.literal_column(f"'{status.value}'")


def _queued_in_lane(entity: Any, paid: bool) -> sa.ColumnElement[bool]:
    """Dispatched jobs still queued in the lane (what ix_jobs_queued_ticket holds)."""
    return sa.and_(
        _status_is(entity, JobStatus.QUEUED),
        col(entity.queue_ticket).is_not(None),
        col(entity.paid_lane) == paid,
    )


def _end_ticket(paid: bool, *, last: bool) -> sa.ScalarSelect[Any]:
    """The lane's smallest (or largest) queued ticket; NULL when it is empty."""
    queued = sa.orm.aliased(Job, name=f"{'tail' if last else 'head'}_{paid}")
    ticket = col(queued.queue_ticket)
    return (
        sa.select(ticket)
        .where(_queued_in_lane(queued, paid))
        .order_by(ticket.desc() if last else ticket)
        .limit(1)
        .correlate(None)
        .scalar_subquery()
    )


def _left_between(paid: Any, low: Any, high: Any) -> sa.ScalarSelect[Any]:
    """How many jobs left the lane `paid` (a value, or the outer job's column) with
    a ticket strictly between low and high."""
    departed = sa.orm.aliased(Job, name="departed")
    ticket = col(departed.queue_ticket)
    return (
        sa.select(sa.func.count())
        .where(
            _status_is_not(departed, JobStatus.QUEUED),
            ticket.is_not(None),
            col(departed.paid_lane) == paid,
            ticket > low,
            ticket < high,
        )
        .scalar_subquery()
    )


def _lane_size(paid: bool) -> sa.ColumnElement[Any]:
    """How many dispatched jobs wait in the lane."""
    head, tail = _end_ticket(paid, last=False), _end_ticket(paid, last=True)
    return sa.func.coalesce(tail - head + 1 - _left_between(paid, head, tail), 0)


def _overflow_rank() -> sa.ScalarSelect[Any]:
    """The outer job's place among its account's waiting jobs (1 = next)."""
    earlier = sa.orm.aliased(Job, name="earlier")
    return (
        sa.select(sa.func.count())
        .where(
            col(earlier.user_id) == col(Job.user_id),
            _status_is(earlier, JobStatus.QUEUED),
            col(earlier.enqueued_at).is_(None),
            sa.tuple_(col(earlier.created_at), col(earlier.id))
            <= sa.tuple_(col(Job.created_at), col(Job.id)),
        )
        .scalar_subquery()
    )


def _place() -> sa.ColumnElement[Any]:
    """The outer QUEUED job's 1-based place (see the module's docstring)."""
    paid_waiting, free_waiting = _lane_size(True), _lane_size(False)
    ticket = col(Job.queue_ticket)
    head = sa.case(
        (col(Job.paid_lane), _end_ticket(True, last=False)),
        else_=_end_ticket(False, last=False),
    )
    in_lane = ticket - head + 1 - _left_between(col(Job.paid_lane), head, ticket)
    ahead_of_lane = sa.case((col(Job.paid_lane), 0), else_=paid_waiting)
    return sa.case(
        (ticket.is_not(None), ahead_of_lane + in_lane),
        else_=paid_waiting + free_waiting + _overflow_rank(),
    )


def _mean_run_seconds(dialect: str) -> sa.ScalarSelect[Any]:
    """Mean run time of recent successful jobs, in seconds; NULL without history."""
    ran = sa.orm.aliased(Job, name="ran")
    started, finished = col(ran.started_at), col(ran.finished_at)
    if dialect == "sqlite":  # SQLite stores times as text; julianday reads it
        seconds: Any = (
            sa.func.julianday(finished) - sa.func.julianday(started)
        ) * 86400
    else:
        seconds = sa.func.extract("epoch", finished - started)
    recent = (
        sa.select(seconds.label("seconds"))
        .where(_status_is(ran, JobStatus.SUCCEEDED), started.is_not(None))
        .order_by(finished.desc())
        .limit(ETA_SAMPLE)
        .correlate(None)
        .subquery()
    )
    return sa.select(sa.func.avg(recent.c.seconds)).correlate(None).scalar_subquery()


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

    def news_after(self, before: "QueuePlace") -> bool:
        """Whether a follower told `before` should hear this: another place, or a
        wait that appeared or moved by more than ETA_NEWS_FRACTION."""
        if self.position != before.position:
            return True
        if self.eta_seconds is None or before.eta_seconds is None:
            return self.eta_seconds != before.eta_seconds
        change = abs(self.eta_seconds - before.eta_seconds)
        return change > ETA_NEWS_FRACTION * before.eta_seconds


async def queue_places(
    jobs: Jobs, *, job_ids: list[uuid.UUID]
) -> dict[uuid.UUID, QueuePlace]:
    """The places of those of these jobs that are queued, in one query (running
    and finished jobs have none)."""
    if not job_ids:
        return {}
    async with jobs.db.reading() as session:
        return await queue_places_in(session, job_ids)


async def queue_places_in(
    session: AsyncSession, job_ids: list[uuid.UUID]
) -> dict[uuid.UUID, QueuePlace]:
    """As queue_places, in a transaction of the caller's: one statement, the recent
    run times behind the ETA included."""
    return {
        uuid.UUID(str(row.id)): QueuePlace.read(row.place, row.per_run)
        for row in await _queued_rows(session, job_ids)
    }


async def _queued_rows(session: AsyncSession, job_ids: list[uuid.UUID]) -> list[Any]:
    """`_places_of_jobs` rows of those of these jobs that are queued."""
    statement = _places_of_jobs(session.get_bind().dialect.name)
    rows = await session.execute(statement, {"job_ids": job_ids})
    return [row for row in rows if row.status is JobStatus.QUEUED]


def _places(dialect: str) -> sa.Select[Any]:
    """Jobs with their places (meaningful for queued ones) and what their QUEUED
    events carry."""
    return sa.select(
        col(Job.id),
        col(Job.user_id),
        col(Job.status),
        col(Job.total_steps),
        col(Job.cost),
        _place().label("place"),
        _mean_run_seconds(dialect).label("per_run"),
    )


@functools.cache
def _places_of_jobs(dialect: str) -> sa.Select[Any]:
    """These jobs' places; the caller keeps the queued ones' (a status condition
    here would have SQLite walk every queued job rather than look the ids up)."""
    # Built once: every submission runs it, and building it costs more than
    # PostgreSQL takes to answer it.
    return _places(dialect).where(
        col(Job.id).in_(sa.bindparam("job_ids", expanding=True))
    )


@functools.cache
def _places_of_accounts(dialect: str) -> sa.Select[Any]:
    """The places of these accounts' queued jobs (ix_jobs_user_status)."""
    return _places(dialect).where(
        col(Job.user_id).in_(sa.bindparam("user_ids", expanding=True)),
        _status_is(Job, JobStatus.QUEUED),
    )


async def queue_position(jobs: Jobs, *, job: Job) -> QueuePlace | None:
    """One job's place; None unless it is queued."""
    if job.status is not JobStatus.QUEUED:
        return None
    return (await queue_places(jobs, job_ids=[job.id])).get(job.id)


class PlaceUpdates:
    """Tells the queued jobs followed in this process their new places.

    When the queue moves (`EventBus.queue_moved`, from any process) or somebody
    here starts following, one statement reads the places of the followed jobs
    and of the followed accounts' queued jobs (an account has few: its parallel
    limit and its overflow), and only the places that changed since this process
    last told them are published. So events and database time per second are
    bounded by the followers, whatever the depth and however fast jobs end: at
    most one read per `interval`, however many moves it covers.

    With several processes following one job, each sends what it sees change;
    the last place published is always its sender's latest, so once the queue
    rests every follower holds the true place.
    """

    def __init__(
        self, jobs: Jobs, *, interval: float = UPDATE_INTERVAL_SECONDS
    ) -> None:
        self._jobs = jobs
        self._interval = interval
        # The place each followed queued job was last told from here.
        self._told: dict[uuid.UUID, QueuePlace] = {}

    async def run(self) -> None:
        """Update after every move, at most once per interval, until cancelled.

        A failed update (the database or Redis away) is tried again each interval
        until one succeeds, with one warning for the outage.
        """
        loop = asyncio.get_running_loop()
        failing = False
        while True:
            if not failing:
                await self._jobs.events.next_queue_move()
            began = loop.time()
            try:
                await self.update()
            except Exception as err:
                if not failing:
                    log.warning("queue places not updated (%s); retrying", err)
                failing = True
            else:
                failing = False
            await asyncio.sleep(max(0.0, began + self._interval - loop.time()))

    async def update(self) -> int:
        """Publish the followed jobs' places that changed; return how many."""
        job_ids, user_ids = self._jobs.events.followed()
        if not job_ids and not user_ids:
            self._told.clear()
            return 0
        rows: list[Any] = []
        async with self._jobs.db.reading() as session:
            if job_ids:
                rows += await _queued_rows(session, job_ids)
            if user_ids:
                statement = _places_of_accounts(session.get_bind().dialect.name)
                rows += await session.execute(statement, {"user_ids": user_ids})
        now = utcnow()
        told: dict[uuid.UUID, QueuePlace] = {}
        changed: list[JobEvent] = []
        for row in rows:
            job_id = uuid.UUID(str(row.id))
            if job_id in told:
                continue  # followed itself and through its account
            place = QueuePlace.read(row.place, row.per_run)
            before = self._told.get(job_id)
            if before is not None and not place.news_after(before):
                told[job_id] = before
                continue
            told[job_id] = place
            changed.append(
                queued_event(
                    job_id=job_id,
                    user_id=uuid.UUID(str(row.user_id)),
                    total_steps=row.total_steps,
                    cost=row.cost,
                    place=place,
                    at=now,
                )
            )
        await self._jobs.events.publish_many(changed)
        # Only now: what failed to go out is sent next time. Jobs that left the
        # queue or lost their followers are forgotten.
        self._told = told
        return len(changed)


@contextlib.asynccontextmanager
async def updating_places(jobs: Jobs) -> AsyncIterator[PlaceUpdates]:
    """Run this process's PlaceUpdates while the block runs."""
    updates = PlaceUpdates(jobs)
    task = asyncio.create_task(updates.run(), name="queue places")
    try:
        yield updates
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


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
