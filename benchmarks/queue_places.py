"""Benchmark queue places at depth: one job's place, the followers' update, and
the position traffic while the queue moves, shallow vs deep.

For each database (PostgreSQL, and SQLite, the embedded default) and each depth it
fills a fresh database with that many QUEUED jobs (paid and free lanes, a few
accounts' overflow, some jobs that left the lanes out of turn) and 100,000
finished ones behind the ETA, then times `queue_places` for the deepest job
(what every submission reads) and `PlaceUpdates.update` for 100 followed jobs
spread through the queue (what each process runs when the queue moved). The
figure is the deep depth's p50 over the shallow one's: the goal is at most 1.5x.

Then the traffic: for 10 s, 50 jobs a second finish at the free lane's head and
as many join its tail (so the depth holds), each move signalled as the workers
do, with `PlaceUpdates.run` serving the 100 followers; it reports QUEUED events
per second and the updates' database time per finished job.

    .venv/bin/python benchmarks/queue_places.py           # 100 vs 100,000 (PG), 100 vs 10,000 (SQLite)
    .venv/bin/python benchmarks/queue_places.py --quick   # 100 vs 10,000 on both
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ahead of benchmarks/, whose engine.py is not ours

import asyncpg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from benchmarks.machine import machine  # noqa: E402
from core.db import Database  # noqa: E402
from core.enums import Tier  # noqa: E402
from core.migrate import upgrade_database  # noqa: E402
from core.models import Job, QueueLane, User  # noqa: E402
from core.settings import Settings  # noqa: E402
from engine.catalog import builtin_catalog  # noqa: E402
from jobs.events import MemoryEventBus  # noqa: E402
from jobs.positions import PlaceUpdates, queue_places  # noqa: E402
from jobs.services import Jobs  # noqa: E402
from jobs.worker.inprocess import InProcessQueue  # noqa: E402

SERVER = os.environ.get("DARKROOM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
NAME = "darkroom_bench_places"
RESULTS = Path(__file__).with_name("RESULTS.md")
FINISHED = 100_000
GOAL_RATIO = 1.5
FOLLOWED = 100
FINISHES_PER_SECOND = 50
TRAFFIC_SECONDS = 10.0
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _job(user: uuid.UUID, i: int, t0: datetime = T0, **values: Any) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "user_id": user,
        "kind": "GENERATE",
        "source": "API",
        "status": "QUEUED",
        "paid_lane": False,
        "model_id": "darkroom-tiny",
        "params": {},
        "cost": 1,
        "refunded": 0,
        "total_steps": 2,
        "step": 0,
        "attempts": 0,
        "created_at": t0 + timedelta(milliseconds=i),
    }
    row.update(values)
    return row


def _rows(
    depth: int, users: list[uuid.UUID], t0: datetime = T0
) -> Iterator[dict[str, Any]]:
    """`depth` queued jobs, the finished ones, and a hole every 500 tickets;
    created from `t0` on, a millisecond apart."""
    tickets = {True: 0, False: 0}
    for i in range(depth):
        user = users[i % len(users)]
        if i % 50 == 49:  # some accounts' overflow
            yield _job(user, i, t0)
            continue
        paid = i % 3 == 0
        tickets[paid] += 1
        at = t0 + timedelta(milliseconds=i)
        yield _job(
            user, i, t0, paid_lane=paid, enqueued_at=at, queue_ticket=tickets[paid]
        )
        if i % 500 == 250:  # one that left out of turn (cancelled mid-queue)
            tickets[paid] += 1
            yield _job(
                user,
                i,
                t0,
                status="CANCELLED",
                paid_lane=paid,
                enqueued_at=at,
                queue_ticket=tickets[paid],
                finished_at=at,
            )
    for i in range(FINISHED):
        started = t0 - timedelta(seconds=FINISHED - i)
        yield _job(
            users[i % len(users)],
            i,
            t0,
            status="SUCCEEDED",
            started_at=started,
            finished_at=started + timedelta(seconds=2),
        )
    yield {"__lanes__": tickets}


async def _fill(
    db: Database,
    depth: int,
    *,
    t0: datetime = T0,
    template: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Fill the database; return the id of the deepest queued job.

    `template` overrides columns of every row (benchmarks/scale.py gives the
    params of a real job, so that workers can run the filled ones).
    """
    users = [uuid.uuid4() for _ in range(200)]
    async with db.session() as session:
        session.add_all(
            User(id=u, email=f"{u.hex}@example.com", tier=Tier.PRO) for u in users
        )
    batch: list[dict[str, Any]] = []
    deepest: uuid.UUID | None = None
    lanes: dict[bool, int] = {}
    for row in _rows(depth, users, t0):
        if "__lanes__" in row:
            lanes = row["__lanes__"]
            break
        row.update(template or {})
        if (
            row["status"] == "QUEUED"
            and row.get("queue_ticket")
            and not row["paid_lane"]
        ):
            deepest = row["id"]
        batch.append(row)
        if len(batch) == 5000:
            await _insert(db, batch)
            batch = []
    await _insert(db, batch)
    async with db.session() as session:
        for paid, issued in lanes.items():
            await session.execute(
                sa.update(QueueLane).where(QueueLane.paid == paid).values(issued=issued)
            )
    if db.engine.dialect.name == "postgresql":
        # begin(), not connect(): statistics are transactional, and a block
        # that never commits leaves the planner with the old ones.
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    assert deepest is not None
    return deepest


async def _insert(db: Database, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = sorted({k for row in rows for k in row})
    table: Any = Job.__table__  # type: ignore[attr-defined]
    async with db.session() as session:
        await session.execute(
            sa.insert(table), [{k: row.get(k) for k in keys} for row in rows]
        )


async def _timed(call: Callable[[], Awaitable[Any]], runs: int) -> float:
    for _ in range(10):
        await call()
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        took.append((time.perf_counter() - start) * 1000)
    return statistics.median(took)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class TimedUpdates(PlaceUpdates):
    """PlaceUpdates that add up the time their reads and publishes take."""

    def __init__(self, jobs: Jobs) -> None:
        super().__init__(jobs)
        self.seconds = 0.0
        self.runs = 0

    async def update(self) -> int:
        start = time.perf_counter()
        try:
            return await super().update()
        finally:
            self.seconds += time.perf_counter() - start
            self.runs += 1


async def _followed(db: Database) -> list[uuid.UUID]:
    """FOLLOWED queued jobs spread evenly through the queue."""
    async with db.session() as session:
        ids = list(
            await session.scalars(
                sa.select(Job.id)
                .where(Job.status == "QUEUED")
                .order_by(Job.created_at, Job.id)
            )
        )
    step = max(1, len(ids) // FOLLOWED)
    return ids[::step][:FOLLOWED]


async def _follow(events: MemoryEventBus, job_id: uuid.UUID, told: list[int]) -> None:
    async for event in events.watch_job(job_id):
        if event.queue_position is not None:
            told.append(event.queue_position)


async def _finish_head_and_add(db: Database, user: uuid.UUID, i: int) -> None:
    """The free lane's first job ends and a new one joins its tail (ticketed)."""
    async with db.session() as session:
        head = (
            sa.select(Job.id)
            .where(
                Job.status == "QUEUED",
                Job.paid_lane.is_(False),  # type: ignore[attr-defined]
                Job.queue_ticket.is_not(None),  # type: ignore[union-attr]
            )
            .order_by(Job.queue_ticket)
            .limit(1)
            .scalar_subquery()
        )
        await session.execute(
            sa.update(Job)
            .where(Job.id == head)  # type: ignore[arg-type]
            .values(status="SUCCEEDED", finished_at=datetime.now(UTC))
        )
        ticket = await session.scalar(
            sa.update(QueueLane)
            .where(QueueLane.paid.is_(False))  # type: ignore[attr-defined]
            .values(issued=QueueLane.issued + 1)
            .returning(QueueLane.issued)
        )
        now = datetime.now(UTC)
        table: Any = Job.__table__  # type: ignore[attr-defined]
        row = _job(user, i, enqueued_at=now, queue_ticket=ticket)
        await session.execute(sa.insert(table), [{**row, "created_at": now}])


async def traffic(jobs: Jobs) -> dict[str, float]:
    """Followers' events per second and update time per finished job while
    FINISHES_PER_SECOND jobs finish."""
    events = jobs.events
    assert isinstance(events, MemoryEventBus)
    told: list[list[int]] = []
    followers = []
    for job_id in await _followed(jobs.db):
        told.append([])
        followers.append(asyncio.create_task(_follow(events, job_id, told[-1])))
    user = uuid.uuid4()
    async with jobs.db.session() as session:
        session.add(User(id=user, email=f"{user.hex}@example.com", tier=Tier.PRO))
    updates = TimedUpdates(jobs)
    runner = asyncio.create_task(updates.run())
    await asyncio.sleep(1)  # the followers' first places
    before = sum(map(len, told))
    updates.seconds, updates.runs = 0.0, 0
    finished = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < TRAFFIC_SECONDS:
        await _finish_head_and_add(jobs.db, user, finished)
        finished += 1
        await events.queue_moved()
        due = start + finished / FINISHES_PER_SECOND
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
    await asyncio.sleep(1)  # the last move's update
    runner.cancel()
    for task in (runner, *followers):
        task.cancel()
    await asyncio.gather(runner, *followers, return_exceptions=True)
    sent = sum(map(len, told)) - before
    return {
        "followed": len(told),
        "finished_per_s": finished / elapsed,
        "events_per_s": sent / elapsed,
        "updates_per_s": updates.runs / elapsed,
        "db_ms_per_job": updates.seconds * 1000 / finished,
    }


async def measure(kind: str, depth: int, runs: int, folder: Path) -> dict[str, float]:
    """p50 ms of one place and of the followers' update at this depth, and the
    traffic figures, on a fresh database."""
    if kind == "postgresql":
        await _admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        await _admin(f'CREATE DATABASE "{NAME}"')
        url = f"{SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{NAME}"
    else:
        url = f"sqlite+aiosqlite:///{folder / f'places-{depth}.db'}"
    await asyncio.to_thread(upgrade_database, url)
    db = Database(url)
    try:
        deepest = await _fill(db, depth)
        settings = Settings(data_dir=folder, database_url=url)
        events = MemoryEventBus()
        jobs = Jobs(
            db=db,
            settings=settings,
            catalog=builtin_catalog(folder / "models"),
            queue=InProcessQueue(),
            events=events,
            storage=None,  # type: ignore[arg-type]  # never touched here
        )
        place = await _timed(lambda: queue_places(jobs, job_ids=[deepest]), runs)
        # The followers' update, timed alone: followed, with nothing to publish.
        watching = [
            asyncio.create_task(_follow(events, job_id, []))
            for job_id in await _followed(db)
        ]
        await asyncio.sleep(0)
        refresh = await _timed(PlaceUpdates(jobs).update, max(20, runs // 5))
        for task in watching:
            task.cancel()
        await asyncio.gather(*watching, return_exceptions=True)
        found = (await queue_places(jobs, job_ids=[deepest]))[deepest].position
        moving = await traffic(jobs)
        print(
            f"{kind} {depth:>7,} queued: place {place:.2f} ms (deepest at {found:,}),"
            f" update {refresh:.2f} ms; {moving['finished_per_s']:.0f} ends/s:"
            f" {moving['events_per_s']:.0f} events/s,"
            f" {moving['updates_per_s']:.1f} updates/s,"
            f" {moving['db_ms_per_job']:.2f} ms per finished job",
            flush=True,
        )
        return {"place": place, "refresh": refresh, **moving}
    finally:
        await db.dispose()
        if kind == "postgresql":
            await _admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


async def main(args: argparse.Namespace) -> None:
    depths = {
        "postgresql": (100, 10_000) if args.quick else (100, 10_000, 100_000),
        "sqlite": (100, 10_000),
    }
    lines = [
        f"## Queue places at depth ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`benchmarks/queue_places.py{' --quick' if args.quick else ''}` on "
        f"{machine()}. Each depth on a fresh database with {FINISHED:,} finished "
        f"jobs behind the ETA; p50 of {args.runs} calls of `queue_places` for the "
        "deepest free-lane job, and of `PlaceUpdates.update` for "
        f"{FOLLOWED} followed jobs spread through the queue. Traffic: "
        f"{TRAFFIC_SECONDS:.0f} s of {FINISHES_PER_SECOND} jobs/s finishing at the "
        "free lane's head (as many joining its tail), the followers' QUEUED events "
        "per second and the updates' database time per finished job.",
        "",
        "| database | queued | place ms | update ms | ends/s | events/s "
        "| updates/s | DB ms per finished job |",
        "|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, kind_depths in depths.items():
            figures = [
                await measure(kind, d, args.runs, Path(tmp)) for d in kind_depths
            ]
            for depth, f in zip(kind_depths, figures, strict=True):
                lines.append(
                    f"| {kind} | {depth:,} | {f['place']:.2f} | {f['refresh']:.2f} "
                    f"| {f['finished_per_s']:.0f} | {f['events_per_s']:.0f} "
                    f"| {f['updates_per_s']:.1f} | {f['db_ms_per_job']:.3f} |"
                )
            low, high = figures[0], figures[-1]
            shallow, deep = kind_depths[0], kind_depths[-1]
            for what in ("place", "refresh"):  # "refresh": the followers' update
                ratio = high[what] / low[what]
                verdict = "PASS" if ratio <= GOAL_RATIO else "MISS"
                verdicts.append(
                    f"- {kind} {what}: x{ratio:.2f} at {deep:,} vs {shallow:,} "
                    f"(goal <= x{GOAL_RATIO}) {verdict}"
                )
    lines += ["", *verdicts, ""]
    text = "\n".join(lines)
    print(text)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(("\n" if RESULTS.exists() and RESULTS.stat().st_size else "") + text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 deep on both")
    parser.add_argument("--runs", type=int, default=300)
    asyncio.run(main(parser.parse_args()))
