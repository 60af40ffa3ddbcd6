"""Redis restarts under a running system: workers, jobs and subscribers ride it out.

Each test runs a redis-server of its own on a free port and stops and restarts
it there. It keeps nothing on disk, so it comes back empty: queue, snapshots,
event counters and cancel flags are gone, the hardest case. The database runs
on PostgreSQL only, the scale-out path's.
"""

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis
from sqlmodel import col

from core.db import Database
from core.enums import EventType, GalleryStatus, JobSource, JobStatus
from core.errors import ErrorCode, ServiceError
from core.models import Output, utcnow
from core.settings import Settings
from darkroom.services import close_jobs, open_jobs, open_storage
from engine.catalog import Catalog
from jobs.arq_queue import open_arq_pool
from jobs.claiming import claim_job
from jobs.ending import cancel_job
from jobs.events import JobEvent
from jobs.lifecycle import Ending, finish_job
from jobs.outage import REDIS_DOWN
from jobs.params import GenerationParams
from jobs.queue import ARQ_QUEUE
from jobs.reads import wait_for_job
from jobs.redis_bus import RedisEventBus
from jobs.services import Jobs
from jobs.submission import submit_generation
from jobs.worker.arq_worker import build_worker, close_worker
from jobs.worker.engine import Engine
from tests.conftest import _empty_tables

from .conftest import Accounts
from .test_worker_crash import start_worker
from .test_worker_shutdown import exit_code

pytestmark = pytest.mark.slow

REDIS_SERVER = "/usr/bin/redis-server"
OUTAGE_SECONDS = 3
QUICK = GenerationParams(
    prompt="a red fox", width=64, height=64, inference_steps=2, num_outputs=1
)
# About 0.3 s a step on two CPU cores: some 12 s, well past the 3 s outage.
SLOW = dataclasses.replace(QUICK, width=512, height=512, inference_steps=40)


class RedisServer:
    """A redis-server of the test's own that can be stopped and restarted."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        """Start on the same port and return once it answers."""
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)
        try:
            async with asyncio.timeout(10):
                while True:
                    with contextlib.suppress(*REDIS_DOWN):
                        if await client.ping():
                            return
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    def stop(self) -> None:
        """Kill it outright, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    async def outage(self, seconds: float = OUTAGE_SECONDS) -> None:
        """Go away for `seconds`, then come back empty."""
        self.stop()
        await asyncio.sleep(seconds)
        await self.start()


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path)
    try:
        await server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def db(postgresql_database_url: str) -> AsyncIterator[Database]:
    """PostgreSQL only, unlike the shared fixture: these tests are slow."""
    database = Database(postgresql_database_url)
    await _empty_tables(database)
    yield database
    await database.dispose()


@pytest.fixture
def settings(tmp_path: Path, db: Database, redis_server: RedisServer) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db.url,
        redis_url=redis_server.url,
        heartbeat_seconds=0.5,
        heartbeat_stale_seconds=3,
        progress_interval_seconds=0,
    )


@pytest.fixture
async def jobs(settings: Settings, catalog: Catalog) -> AsyncIterator[Jobs]:
    """The jobs facade as the API opens it."""
    database = Database(settings.resolved_database_url)
    facade = await open_jobs(
        settings,
        db=database,
        storage=open_storage(settings),
        catalog=catalog,
        in_process=False,
    )
    yield facade
    await close_jobs(facade)
    await database.dispose()


@pytest.fixture
def accounts(db: Database, settings: Settings) -> Accounts:
    return Accounts(db, settings)


@contextlib.asynccontextmanager
async def running_worker(jobs: Jobs) -> AsyncIterator["asyncio.Task[None]"]:
    """A real arq worker, not in burst mode, until the block ends."""
    engine = Engine(jobs.catalog, cache_dir=jobs.settings.data_dir / "models")
    worker = build_worker(jobs, engine, handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        await polling(jobs.settings.redis_url, task)
        yield task
    finally:
        async with asyncio.timeout(30):
            await close_worker(worker)
            await asyncio.wait({task})


async def polling(redis_url: str, task: "asyncio.Task[None] | None" = None) -> None:
    """Return once a worker has polled the queue (its health key is written)."""
    client = Redis.from_url(redis_url)
    try:
        async with asyncio.timeout(120):
            while not await client.exists(f"{ARQ_QUEUE}:health-check"):
                assert task is None or not task.done(), task
                await asyncio.sleep(0.1)
    finally:
        await client.aclose()


class Follower:
    """A subscriber collecting one job's events until its end."""

    def __init__(self, jobs: Jobs, job_id: uuid.UUID) -> None:
        self.events: list[JobEvent] = []
        self.task = asyncio.create_task(self._follow(jobs, job_id))

    async def _follow(self, jobs: Jobs, job_id: uuid.UUID) -> list[JobEvent]:
        async for event in jobs.events.watch_job(job_id):
            self.events.append(event)
        return self.events

    async def until(self, type_: EventType) -> None:
        await until(lambda: any(e.type is type_ for e in self.events))


async def until(check: Callable[[], bool], timeout: float = 120) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


async def outputs_of(jobs: Jobs, job_id: uuid.UUID) -> list[Output]:
    async with jobs.db.session() as session:
        rows = await session.scalars(
            sa.select(Output).where(col(Output.job_id) == job_id)
        )
        return list(rows)


def redis_warnings(caplog: pytest.LogCaptureFixture, who: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.getMessage().startswith(who)
    ]


async def test_an_idle_worker_rides_out_a_redis_restart_and_runs_the_next_job(
    redis_server: RedisServer,
    jobs: Jobs,
    accounts: Accounts,
    caplog: pytest.LogCaptureFixture,
):
    # given an idle worker
    alice = await accounts.caller("alice@example.com")
    async with running_worker(jobs) as worker:
        # when Redis goes away for a few seconds and comes back empty
        await redis_server.outage()
        # then the worker is still there and runs a job submitted afterwards
        assert not worker.done()
        job = (
            await submit_generation(
                jobs, caller=alice, params=QUICK, source=JobSource.API
            )
        ).job
        await wait_for_job(jobs, job_id=job.id, timeout=60)
        assert not worker.done()
    assert (await accounts.job(job.id)).status is JobStatus.SUCCEEDED
    # and the whole outage cost the worker one warning, not one per poll
    assert len(redis_warnings(caplog, "worker:")) == 1


async def test_a_job_running_through_a_redis_restart_succeeds_once_and_its_subscriber_sees_the_end(
    redis_server: RedisServer, jobs: Jobs, accounts: Accounts
):
    # given a slow job under way, followed by a subscriber since before it started
    alice = await accounts.caller("alice@example.com")
    async with running_worker(jobs):
        job = (
            await submit_generation(
                jobs, caller=alice, params=SLOW, source=JobSource.API
            )
        ).job
        follower = Follower(jobs, job.id)
        await follower.until(EventType.PROGRESS)
        assert (await accounts.job(job.id)).status is JobStatus.RUNNING
        # when Redis goes away for a few seconds and comes back empty (the job
        # may finish meanwhile: its row, not Redis, is the record)
        await redis_server.outage()
        # then the subscriber's stream ends with the job's success, once
        events = await asyncio.wait_for(follower.task, 120)
    ends = [e.type for e in events if e.type.is_terminal]
    assert ends == [EventType.SUCCEEDED]
    assert events[-1].type is EventType.SUCCEEDED
    # and the job ran once, stored one image and was charged one credit
    done = await accounts.job(job.id)
    assert (done.status, done.attempts, done.refunded) == (JobStatus.SUCCEEDED, 1, 0)
    assert len(await outputs_of(jobs, job.id)) == 1
    assert await accounts.balance(alice) == 49


async def test_a_cancel_after_a_redis_restart_still_stops_a_running_job(
    redis_server: RedisServer, jobs: Jobs, accounts: Accounts
):
    # given a long job whose cancel watch lived through a Redis restart
    alice = await accounts.caller("alice@example.com")
    params = dataclasses.replace(SLOW, width=768, height=768, inference_steps=50)
    async with running_worker(jobs):
        job = (
            await submit_generation(
                jobs, caller=alice, params=params, source=JobSource.API
            )
        ).job
        follower = Follower(jobs, job.id)
        await follower.until(EventType.PROGRESS)
        await redis_server.outage()
        # when alice cancels it once Redis is back
        await cancel_job(jobs, caller=alice, job_id=job.id)
        # then it stops within a step (seconds here; a minute guards a busy box)
        events = await asyncio.wait_for(follower.task, 60)
    assert events[-1].type is EventType.CANCELLED
    done = await accounts.job(job.id)
    assert (done.status, done.refunded) == (JobStatus.CANCELLED, 1)
    assert await accounts.balance(alice) == 50


async def test_subscribers_get_the_end_of_a_job_cancelled_while_redis_was_down(
    redis_server: RedisServer, jobs: Jobs, accounts: Accounts
):
    # given a queued job, no worker, and subscribers to the job and to its account
    alice = await accounts.caller("alice@example.com")
    job = (
        await submit_generation(jobs, caller=alice, params=QUICK, source=JobSource.API)
    ).job
    follower = Follower(jobs, job.id)
    await follower.until(EventType.QUEUED)
    account: list[JobEvent] = []
    account_task = asyncio.create_task(collect(jobs, alice.user.id, account))
    await asyncio.sleep(0.1)  # let it subscribe
    # when Redis goes away, alice cancels the job meanwhile, and Redis comes back empty
    redis_server.stop()
    cancelled = await cancel_job(jobs, caller=alice, job_id=job.id)
    await asyncio.sleep(OUTAGE_SECONDS)
    await redis_server.start()
    # then the cancel went through, and the job's subscriber gets the end from its row
    assert cancelled.status is JobStatus.CANCELLED
    events = await asyncio.wait_for(follower.task, 30)
    assert [e.type for e in events] == [EventType.QUEUED, EventType.CANCELLED]
    assert events[-1].refunded == 1
    assert await accounts.balance(alice) == 50
    # and so does the account's subscriber, once
    await until(lambda: any(e.type is EventType.CANCELLED for e in account), 30)
    account_task.cancel()
    assert [(e.job_id, e.type) for e in account] == [(job.id, EventType.CANCELLED)]


async def test_outputs_stored_while_redis_was_down_reach_subscribers_before_the_end(
    redis_server: RedisServer, jobs: Jobs, accounts: Accounts
):
    # given a queued job of two images, followed by its own and its account's
    # subscribers
    alice = await accounts.caller("alice@example.com")
    two = dataclasses.replace(QUICK, num_outputs=2)
    job = (
        await submit_generation(jobs, caller=alice, params=two, source=JobSource.API)
    ).job
    follower = Follower(jobs, job.id)
    await follower.until(EventType.QUEUED)
    account: list[JobEvent] = []
    account_task = asyncio.create_task(collect(jobs, alice.user.id, account))
    await asyncio.sleep(0.1)  # let it subscribe
    # when Redis goes away, and meanwhile a worker runs the job and records its
    # two outputs and its end (none of its events can reach this process)
    redis_server.stop()
    async with jobs.db.session() as session:
        claimed = await claim_job(
            session, job_id=job.id, worker_id="elsewhere", stale_before=utcnow()
        )
        assert claimed is not None
        images = tuple(
            Output(
                job_id=job.id,
                user_id=job.user_id,
                index=i,
                storage_key=f"outputs/{job.id}/{i}.png",
                format="png",
                width=64,
                height=64,
                model_id=job.model_id,
                source=JobSource.API,
                gallery_status=GalleryStatus.NOT_SUBMITTED,
            )
            for i in range(2)
        )
        await finish_job(
            session,
            job_id=job.id,
            ending=Ending(status=JobStatus.SUCCEEDED, outputs=images),
            settings=jobs.settings,
        )
    await asyncio.sleep(OUTAGE_SECONDS)
    await redis_server.start()
    # then the job's subscriber gets each OUTPUT, in order, then the end
    events = await asyncio.wait_for(follower.task, 30)
    assert [e.type for e in events] == [
        EventType.QUEUED,
        EventType.OUTPUT,
        EventType.OUTPUT,
        EventType.SUCCEEDED,
    ]
    assert [e.output["index"] for e in events[1:3]] == [0, 1]  # type: ignore[index]
    assert [e.output["id"] for e in events[1:3]] == [str(o.id) for o in images]  # type: ignore[index]
    # and so does the account's subscriber, each once
    await until(lambda: any(e.type is EventType.SUCCEEDED for e in account), 30)
    await asyncio.sleep(0.2)
    account_task.cancel()
    assert [e.type for e in account] == [
        EventType.OUTPUT,
        EventType.OUTPUT,
        EventType.SUCCEEDED,
    ]


async def test_cancelling_a_running_job_while_redis_is_down_says_try_again(
    redis_server: RedisServer, jobs: Jobs, accounts: Accounts
):
    # given a job a worker has claimed
    alice = await accounts.caller("alice@example.com")
    job = (
        await submit_generation(jobs, caller=alice, params=QUICK, source=JobSource.API)
    ).job
    async with jobs.db.session() as session:
        await claim_job(
            session, job_id=job.id, worker_id="w", stale_before=datetime.now(UTC)
        )
    # when alice cancels it while Redis, where cancel flags live, is away
    redis_server.stop()
    with pytest.raises(ServiceError) as refused:
        await cancel_job(jobs, caller=alice, job_id=job.id)
    # then she is told to try again, and nothing changed
    assert refused.value.code is ErrorCode.UNAVAILABLE
    running = await accounts.job(job.id)
    assert (running.status, running.refunded) == (JobStatus.RUNNING, 0)
    assert await accounts.balance(alice) == 49


async def collect(jobs: Jobs, user_id: uuid.UUID, into: list[JobEvent]) -> None:
    async for event in jobs.events.watch_user(user_id):
        into.append(event)


async def test_a_job_submitted_while_redis_is_down_is_queued_and_runs_once_it_is_back(
    redis_server: RedisServer, jobs: Jobs, accounts: Accounts
):
    # given an idle worker
    alice = await accounts.caller("alice@example.com")
    async with running_worker(jobs):
        # when a job is submitted while Redis is down
        redis_server.stop()
        job = (
            await submit_generation(
                jobs, caller=alice, params=QUICK, source=JobSource.API
            )
        ).job
        # then it is accepted as queued and charged
        assert job.status is JobStatus.QUEUED
        assert await accounts.balance(alice) == 49
        # and once Redis is back it runs without waiting for the minute's sweep
        await asyncio.sleep(OUTAGE_SECONDS)
        await redis_server.start()
        await wait_for_job(jobs, job_id=job.id, timeout=30)
    done = await accounts.job(job.id)
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 1)


async def test_a_worker_process_shuts_down_cleanly_after_a_redis_restart(
    redis_server: RedisServer, jobs: Jobs, tmp_path: Path
):
    # given a worker process that lived through a Redis restart
    worker = start_worker(jobs, tmp_path, "worker.log")
    try:
        await polling(redis_server.url)
        await redis_server.outage()
        log = tmp_path / "worker.log"
        await until(lambda: "Redis is back" in log.read_text() or bool(worker.poll()))
        assert worker.poll() is None, log.read_text()
        # when it is sent SIGTERM
        worker.send_signal(signal.SIGTERM)
        code = await exit_code(worker, 20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    # then it exits cleanly within seconds, without a traceback
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()


class SilentLink:
    """A TCP proxy to Redis whose open connections can go silent: bytes stop
    flowing both ways while the sockets stay open, as in a partition that sends
    no reset; connections made afterwards pass."""

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self._silenced: list[asyncio.Event] = []
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> "SilentLink":
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.url = f"redis://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()

    def silence(self) -> None:
        """Drop everything the connections open now carry, from here on."""
        for silenced in self._silenced:
            silenced.set()

    async def _link(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        up_reader, up_writer = await asyncio.open_connection(
            "127.0.0.1", self.redis_port
        )
        silenced = asyncio.Event()
        self._silenced.append(silenced)
        self._writers += [writer, up_writer]
        await asyncio.gather(
            self._pump(reader, up_writer, silenced),
            self._pump(up_reader, writer, silenced),
            return_exceptions=True,
        )

    @staticmethod
    async def _pump(
        source: asyncio.StreamReader,
        target: asyncio.StreamWriter,
        silenced: asyncio.Event,
    ) -> None:
        while data := await source.read(65536):
            if not silenced.is_set():
                target.write(data)
                await target.drain()
        target.close()


@contextlib.asynccontextmanager
async def bus_through(link: SilentLink) -> AsyncIterator[RedisEventBus]:
    """An event bus on a client like the composition root's, shorter timings."""
    client = Redis.from_url(link.url, socket_timeout=1.0)
    bus = RedisEventBus(client, ping_seconds=0.2)
    try:
        yield bus
    finally:
        await bus.close()
        await client.aclose()


def event(job_id: uuid.UUID, kind: EventType, status: JobStatus) -> JobEvent:
    return JobEvent(job_id, uuid.UUID(int=1), kind, status, datetime.now(UTC))


@pytest.fixture
async def publisher(redis_server: RedisServer) -> AsyncIterator[RedisEventBus]:
    """A bus straight to Redis, as a worker publishes."""
    client = Redis.from_url(redis_server.url)
    yield RedisEventBus(client)
    await client.aclose()


async def follow_started_job(
    bus: RedisEventBus, publisher: RedisEventBus
) -> tuple[uuid.UUID, list[JobEvent], "asyncio.Task[None]"]:
    """A started job, followed on `bus` once its first event has arrived there."""
    job_id = uuid.uuid4()
    await publisher.publish(event(job_id, EventType.STARTED, JobStatus.RUNNING))
    seen: list[JobEvent] = []
    follower = asyncio.create_task(follow_into(bus.watch_job(job_id), seen))
    await until(lambda: bool(seen), timeout=10)
    return job_id, seen, follower


async def test_a_subscription_whose_connection_goes_silent_reconnects_and_gets_the_end(
    redis_server: RedisServer, publisher: RedisEventBus
):
    # given a subscriber following a started job through a link to Redis
    async with SilentLink(redis_server.port) as link, bus_through(link) as bus:
        job_id, seen, follower = await follow_started_job(bus, publisher)
        # when every connection it has goes silent, and the job ends meanwhile
        link.silence()
        await publisher.publish(event(job_id, EventType.SUCCEEDED, JobStatus.SUCCEEDED))
        # then the subscriber still gets the end, within seconds, not never
        await asyncio.wait_for(follower, 15)
    assert [e.type for e in seen] == [EventType.STARTED, EventType.SUCCEEDED]


async def test_a_quiet_subscription_stays_connected_past_its_read_timeout(
    redis_server: RedisServer,
    publisher: RedisEventBus,
    caplog: pytest.LogCaptureFixture,
):
    # given a subscriber on a healthy link, with nothing published for a while
    async with SilentLink(redis_server.port) as link, bus_through(link) as bus:
        job_id, seen, follower = await follow_started_job(bus, publisher)
        with caplog.at_level(logging.WARNING, logger="jobs"):
            await asyncio.sleep(3)  # three read timeouts' worth of silence
            # when the job ends
            await publisher.publish(
                event(job_id, EventType.SUCCEEDED, JobStatus.SUCCEEDED)
            )
            await asyncio.wait_for(follower, 5)
    # then the PINGs kept the connection: no outage was seen, nothing was missed
    assert not [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert [e.type for e in seen] == [EventType.STARTED, EventType.SUCCEEDED]


async def follow_into(events: AsyncIterator[JobEvent], into: list[JobEvent]) -> None:
    async for one in events:
        into.append(one)


async def test_a_worker_whose_connections_go_silent_takes_jobs_again(
    redis_server: RedisServer, jobs: Jobs, accounts: Accounts
):
    # given an idle worker whose arq pool reaches Redis through a link
    alice = await accounts.caller("alice@example.com")
    engine = Engine(jobs.catalog, cache_dir=jobs.settings.data_dir / "models")
    async with SilentLink(redis_server.port) as link:
        pool = await open_arq_pool(link.url, read_timeout=1.0)
        worker = build_worker(jobs, engine, handle_signals=False, redis_pool=pool)
        task = asyncio.create_task(worker.async_run())
        try:
            await polling(jobs.settings.redis_url, task)
            # when every connection it has goes silent, and then a job comes in
            link.silence()
            job = (
                await submit_generation(
                    jobs, caller=alice, params=QUICK, source=JobSource.API
                )
            ).job
            # then the worker notices, reconnects and runs it
            await wait_for_job(jobs, job_id=job.id, timeout=30)
            assert (await accounts.job(job.id)).status is JobStatus.SUCCEEDED
        finally:
            async with asyncio.timeout(30):
                await close_worker(worker)
                await asyncio.wait({task})
