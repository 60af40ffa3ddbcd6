"""Job fixtures: a Jobs facade on real Redis (arq) or in memory, and accounts."""

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from arq.connections import RedisSettings, create_pool
from redis.asyncio import Redis

from core.accounts import create_user
from core.credits import FreeCreditPolicy, balance
from core.db import Database
from core.enums import Scope, Tier
from core.models import ApiToken, Job
from core.settings import Settings
from core.storage import LocalStorage
from core.tokens import Caller, create_token, parse_scopes
from engine.catalog import Catalog, builtin_catalog
from jobs.arq_queue import ArqQueue
from jobs.events import JobEvent
from jobs.redis_bus import RedisEventBus
from jobs.services import Jobs
from jobs.webhooks.arq_queue import ArqDeliveryQueue
from jobs.webhooks.runner import InProcessDeliveries
from jobs.worker.arq_worker import build_worker, close_worker
from jobs.worker.engine import Engine


@dataclass
class Accounts:
    """Creates accounts with a token, and reads balances back."""

    db: Database
    settings: Settings

    async def caller(
        self, email: str, *, tier: Tier = Tier.PRO, credits: int = 50
    ) -> Caller:
        async with self.db.session() as session:
            user = await create_user(
                session,
                email=email,
                tier=tier,
                credits=0 if tier is Tier.FREE else credits,
                policy=FreeCreditPolicy.from_settings(self.settings),
            )
            token, _secret = await create_token(
                session, user_id=user.id, scopes=[Scope.GENERATE, Scope.READ]
            )
        return Caller(user=user, token=token, scopes=parse_scopes(token.scopes))

    async def balance(self, caller: Caller) -> int:
        async with self.db.session() as session:
            return await balance(session, user_id=caller.user.id)

    async def token_spend(self, caller: Caller) -> int:
        async with self.db.session() as session:
            token = await session.get(ApiToken, caller.token.id, populate_existing=True)
            assert token is not None
            return token.credits_spent

    async def job(self, job_id: uuid.UUID) -> Job:
        async with self.db.session() as session:
            job = await session.get(Job, job_id, populate_existing=True)
            assert job is not None
            return job

    async def count_jobs(self) -> int:
        async with self.db.session() as session:
            return int(
                await session.scalar(sa.select(sa.func.count()).select_from(Job)) or 0
            )


@pytest.fixture
def job_settings(tmp_path: Path, redis_url: str, db: Database) -> Settings:
    """Settings for job tests: the test database, Redis, short liveness limits."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db.url,
        redis_url=redis_url,
        heartbeat_seconds=0.5,
        heartbeat_stale_seconds=3,
        progress_interval_seconds=0,
        worker_poll_delay_seconds=0,
    )


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The built-in catalog, its tiny model built once per run."""
    return builtin_catalog(tmp_path_factory.mktemp("models"))


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    """A storage folder for this test."""
    return LocalStorage(
        tmp_path / "files", base_url="http://test", signing_key=b"k" * 32
    )


@pytest.fixture
async def jobs(
    db: Database, job_settings: Settings, catalog: Catalog, storage: LocalStorage
) -> AsyncIterator[Jobs]:
    """The jobs facade on arq and Redis pub/sub, as the API builds it."""
    arq = await create_pool(RedisSettings.from_dsn(job_settings.redis_url))
    redis = Redis.from_url(job_settings.redis_url)
    events = RedisEventBus(redis)
    facade = Jobs(
        db=db,
        settings=job_settings,
        catalog=catalog,
        queue=ArqQueue(arq),
        events=events,
        storage=storage,
    )
    yield facade
    await events.close()
    await redis.aclose()
    await arq.aclose()


async def run_burst_worker(jobs: Jobs) -> None:
    """Run a real arq worker until the queue is empty."""
    engine = Engine(jobs.catalog, cache_dir=jobs.settings.data_dir / "models")
    worker = build_worker(jobs, engine, burst=True, handle_signals=False)
    try:
        await worker.main()
    finally:
        await close_worker(worker)


async def follow(
    events: AsyncIterator[JobEvent], first: asyncio.Event
) -> list[JobEvent]:
    """Collect a watch until it ends, signalling once the snapshot has arrived."""
    seen = []
    async for event in events:
        seen.append(event)
        first.set()
    return seen


async def watch(jobs: Jobs, job_id: uuid.UUID) -> "asyncio.Task[list[JobEvent]]":
    """Start following a job and return once the subscription is live."""
    ready = asyncio.Event()
    task = asyncio.create_task(follow(jobs.events.watch_job(job_id), ready))
    await asyncio.wait_for(ready.wait(), 5)
    return task


@pytest.fixture
def accounts(db: Database, job_settings: Settings) -> Accounts:
    """Account helpers on the test database."""
    return Accounts(db, job_settings)


# Webhook tests (tests/jobs/test_webhooks.py, test_job_webhooks.py):


@pytest.fixture
def hook_settings(job_settings: Settings) -> Settings:
    """Job settings with private receivers allowed and quick retries."""
    return job_settings.model_copy(
        update={"webhook_allow_private": True, "webhook_retry_base_seconds": 0.1}
    )


@pytest.fixture
async def arq_jobs(jobs: Jobs, hook_settings: Settings) -> Jobs:
    """The jobs facade on arq, sending webhooks through arq's webhook queue."""
    assert hasattr(jobs.queue, "redis")
    return dataclasses.replace(
        jobs, settings=hook_settings, deliveries=ArqDeliveryQueue(jobs.queue.redis)
    )


@pytest.fixture
async def local_jobs(jobs: Jobs, hook_settings: Settings) -> AsyncIterator[Jobs]:
    """The jobs facade sending webhooks from this process."""
    deliveries = InProcessDeliveries(jobs.db, hook_settings)
    yield dataclasses.replace(jobs, settings=hook_settings, deliveries=deliveries)
    await deliveries.close()


def claimed_together(rows: list[Job]) -> bool:
    """Whether one claim took these jobs: one worker, and starts within the few
    statements of a claim (PostgreSQL stamps each row as it is taken; SQLite
    gives a batch its leader's start)."""
    starts = [row.started_at for row in rows if row.started_at is not None]
    assert len(starts) == len(rows), "every job was claimed"
    spread = max(starts) - min(starts)
    return len({row.worker_id for row in rows}) == 1 and spread < timedelta(seconds=1)
