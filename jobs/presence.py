"""Workers report themselves while they run, so an idle worker is seen too.

A job's own heartbeat shows only the worker running it; readiness and `darkroom
status` also need the ones waiting for work. Each worker (arq or the in-process
runner) refreshes its row every heartbeat and removes it on a clean stop; a
worker that died leaves a row that simply stops being fresh.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import Database
from core.models import WorkerBeat, utcnow

log = logging.getLogger(__name__)
# A row silent this long is a worker that died without removing it; any live
# worker's report clears such rows, so the table stays the size of the fleet.
FORGOTTEN_AFTER = timedelta(days=1)


async def report_worker(
    db: Database, *, worker_id: str, kind: str, started_at: datetime
) -> None:
    """Record that the worker is alive now (its row is made on the first call)."""
    now = utcnow()
    async with db.session() as session:
        updated = await session.execute(
            sa.update(WorkerBeat)
            .where(col(WorkerBeat.id) == worker_id)
            .values(seen_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(updated, "rowcount", 0) == 0:
            session.add(
                WorkerBeat(id=worker_id, kind=kind, started_at=started_at, seen_at=now)
            )
        await session.execute(
            sa.delete(WorkerBeat).where(col(WorkerBeat.seen_at) < now - FORGOTTEN_AFTER)
        )


async def forget_worker(db: Database, *, worker_id: str) -> None:
    """Remove the worker's row on a clean stop."""
    async with db.session() as session:
        await session.execute(
            sa.delete(WorkerBeat).where(col(WorkerBeat.id) == worker_id)
        )


async def report_forever(
    db: Database, *, worker_id: str, kind: str, every: float
) -> None:
    """Report the worker every `every` seconds until cancelled."""
    started = utcnow()
    while True:
        try:
            await report_worker(db, worker_id=worker_id, kind=kind, started_at=started)
        except Exception as err:  # the database may be away a while; try again
            log.warning("worker %s: could not report itself (%r)", worker_id, err)
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def reporting(
    db: Database, *, worker_id: str, kind: str, every: float
) -> AsyncIterator[None]:
    """Report the worker every `every` seconds while the block runs."""
    task = asyncio.create_task(
        report_forever(db, worker_id=worker_id, kind=kind, every=every),
        name="worker presence",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await forget_worker(db, worker_id=worker_id)


async def live_workers(
    session: AsyncSession, *, seen_within: timedelta
) -> list[WorkerBeat]:
    """Workers that reported themselves within `seen_within`, oldest first."""
    since = utcnow() - seen_within
    rows = await session.scalars(
        sa.select(WorkerBeat)
        .where(col(WorkerBeat.seen_at) >= since)
        .order_by(col(WorkerBeat.started_at))
    )
    return list(rows)
