"""Workers' own rows: refreshed while they run, gone on a clean stop, and a dead
worker's row cleared a day later by any live one."""

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from core.db import Database
from core.models import WorkerBeat, utcnow
from jobs.presence import live_workers, reporting


async def rows(db: Database) -> list[WorkerBeat]:
    async with db.session() as session:
        return list(await session.scalars(sa.select(WorkerBeat)))


async def test_a_worker_is_live_while_it_reports_and_gone_after(db: Database) -> None:
    # given a worker that died two days ago, and one silent for ten minutes
    now = utcnow()
    async with db.session() as session:
        for worker_id, silent in (
            ("dead", timedelta(days=2)),
            ("quiet", timedelta(minutes=10)),
        ):
            session.add(
                WorkerBeat(
                    id=worker_id,
                    kind="arq",
                    started_at=now - silent,
                    seen_at=now - silent,
                )
            )
    # when a worker reports every 10 ms for a while
    async with reporting(db, worker_id="w1", kind="arq", every=0.01):
        await asyncio.sleep(0.1)
        during = {row.id: row for row in await rows(db)}
        async with db.session() as session:
            live = await live_workers(session, seen_within=timedelta(minutes=1))
    # then it alone is live, the dead one's row is gone, and its row goes with it
    assert [worker.id for worker in live] == ["w1"]
    assert set(during) == {"w1", "quiet"}
    assert during["w1"].seen_at > during["w1"].started_at
    assert [row.id for row in await rows(db)] == ["quiet"]
