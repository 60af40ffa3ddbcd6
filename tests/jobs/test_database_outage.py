"""A real worker through a PostgreSQL crash: every job ends once, soon after the
server is back, and its subscriber gets the end; no process restarted."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.connections import RedisSettings, create_pool
from redis.asyncio import Redis

from core.db import Database, retry_database
from core.enums import EventType, JobSource, JobStatus
from core.settings import Settings
from core.storage import LocalStorage
from engine.catalog import Catalog
from jobs.arq_queue import ArqQueue
from jobs.params import GenerationParams
from jobs.redis_bus import RedisEventBus
from jobs.services import Jobs
from jobs.submission import submit_generation
from tests.conftest import _empty_tables
from tests.pg_server import PostgresServer

from .conftest import Accounts
from .test_worker_crash import start_worker

pytestmark = pytest.mark.slow


@pytest.fixture
async def own_jobs(
    postgres: PostgresServer,
    tmp_path: Path,
    redis_url: str,
    catalog: Catalog,
    storage: LocalStorage,
) -> AsyncIterator[Jobs]:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=postgres.url, redis_url=redis_url
    )
    db = Database(settings.database_url)
    await _empty_tables(db)
    arq = await create_pool(RedisSettings.from_dsn(redis_url))
    redis = Redis.from_url(redis_url)
    events = RedisEventBus(redis)
    yield Jobs(
        db=db,
        settings=settings,
        catalog=catalog,
        queue=ArqQueue(arq),
        events=events,
        storage=storage,
    )
    await events.close()
    await redis.aclose()
    await arq.aclose()
    await db.dispose()


async def _end(jobs: Jobs, job_id: object) -> EventType:
    async for event in jobs.events.watch_job(job_id):  # type: ignore[arg-type]
        if event.type.is_terminal:
            return event.type
    raise AssertionError("the watch ended without a terminal event")


async def test_jobs_running_and_queued_through_a_postgresql_crash_all_end_once(
    own_jobs: Jobs, tmp_path: Path, postgres: PostgresServer
) -> None:
    jobs = own_jobs
    accounts = Accounts(jobs.db, jobs.settings)
    # given a worker and four queued jobs of two accounts, each watched
    callers = [await accounts.caller(f"u{i}@example.com") for i in range(2)]
    # Different step counts: each runs alone, so the crash finds some queued.
    params = [
        GenerationParams(
            prompt="a fox", width=192, height=192, inference_steps=s, num_outputs=1
        )
        for s in (20, 21, 22, 23)
    ]
    worker = start_worker(jobs, tmp_path, "worker.log")
    try:
        submitted = [
            (
                await submit_generation(jobs, caller=c, params=p, source=JobSource.API)
            ).job
            for c, p in zip(callers * 2, params, strict=True)
        ]
        ends = [asyncio.create_task(_end(jobs, j.id)) for j in submitted]
        async with asyncio.timeout(60):
            async for event in jobs.events.watch_job(submitted[0].id):
                if event.type is EventType.PROGRESS:
                    break
        # when PostgreSQL crashes mid-job and comes back 5 s later
        postgres.crash()
        assert not all(e.done() for e in ends), "too fast: all ended before the crash"
        await asyncio.sleep(5)
        postgres.start()
        back = time.monotonic()
        # then every subscriber gets its job's end soon after
        try:
            async with asyncio.timeout(60):
                types = await asyncio.gather(*ends)
        except TimeoutError:
            states = [(await accounts.job(j.id)).status for j in submitted]
            log = (tmp_path / "worker.log").read_text()[-4000:]
            raise AssertionError(f"not all ended: {states}\n{log}") from None
        ended_within = time.monotonic() - back
        assert worker.poll() is None, "the worker must ride the outage out"
    finally:
        worker.kill()
        worker.wait()
    assert types == [EventType.SUCCEEDED] * 4
    # and each ran once, charged once (this process's pool, too, held
    # connections the crash closed: the first statement on one fails)
    await retry_database(jobs.db.ping, what="test", patience=10)
    for job in submitted:
        row = await accounts.job(job.id)
        assert (row.status, row.attempts, row.refunded) == (JobStatus.SUCCEEDED, 1, 0)
    assert [await accounts.balance(c) for c in callers] == [48, 48]
    print(f"all jobs ended {ended_within:.1f} s after PostgreSQL was back")
