"""Composition root: each process builds its database, storage, queue and event
bus once, here, and passes them to the app or the worker.

The API process never imports the worker side (and so never torch) unless it
runs jobs itself: the in-process runner is imported only on the embedded setup.
"""

import asyncio
import functools
import gc
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from redis.asyncio import Redis
from starlette.applications import Starlette

from api.app import create_app
from api.metrics import unauthenticated_listener
from api.schema import build_schema
from core.db import Database
from core.metrics import exported_registry
from core.ratelimit import open_rate_limiter
from core.s3 import S3Storage
from core.settings import Settings
from core.storage import LocalStorage, Storage, load_signing_key
from core.tokens import CallerCache
from darkroom.search import open_search, query_vectors, torch_embedder
from engine.catalog import Catalog, load_catalog
from engine.embedding.folder import ModelFolder
from engine.threads import default_threads
from jobs.arq_queue import ArqQueue, open_arq_pool
from jobs.events import MemoryEventBus
from jobs.lifecycle import read_row_events
from jobs.outage import READ_TIMEOUT_SECONDS
from jobs.positions import updating_places
from jobs.presence import reporting
from jobs.redis_bus import RedisEventBus
from jobs.services import Jobs, OutputIndexer
from jobs.webhooks.arq_queue import ArqDeliveryQueue
from jobs.webhooks.runner import InProcessDeliveries
from resolvers.context import Services

log = logging.getLogger("darkroom.worker")


def open_storage(settings: Settings, *, signing_key: bytes | None = None) -> Storage:
    """Open the storage `settings.storage_url` names: S3 for s3://, else a folder.

    A local store signs URLs with `signing_key`, or with a key kept in
    `data_dir/signing.key` (created on first use), so URLs survive restarts.
    """
    if settings.storage_url.startswith("s3://"):
        bucket, _, prefix = settings.storage_url.removeprefix("s3://").partition("/")
        return S3Storage(
            bucket=bucket,
            prefix=prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            ttl_seconds=settings.signed_url_ttl_seconds,
        )
    return LocalStorage(
        settings.storage_root,
        base_url=settings.public_base_url,
        signing_key=signing_key or load_signing_key(settings.data_dir),
        ttl_seconds=settings.signed_url_ttl_seconds,
    )


def open_catalog(settings: Settings) -> Catalog:
    """The catalog the settings name (the built-in one by default)."""
    return load_catalog(settings.models_file, data_dir=settings.data_dir)


def engine_threads(settings: Settings) -> int:
    """Torch's CPU threads: DARKROOM_TORCH_THREADS, or the cores this process
    may use (a container's or taskset's limit counts)."""
    if settings.torch_threads:
        return settings.torch_threads
    usable = (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count()
    )
    return default_threads(usable)


def freeze_start_up_objects() -> None:
    """Keep full garbage collections off what lives as long as the process.

    Modules, the schema, models and services are made once. A full collection
    walks every object, which with hundreds of sockets open stalled event
    delivery for 100-200 ms at a time (benchmarks/RESULTS.md, fan-out); frozen,
    these are skipped and a collection walks only what was made since.
    """
    gc.collect()  # what is garbage now would otherwise be kept for good
    gc.freeze()


def open_database(settings: Settings) -> Database:
    """The process's database, its pool sized by the settings."""
    return Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


def build_services(settings: Settings) -> Services:
    """Everything the API needs that can be built before the event loop runs."""
    return Services(
        settings=settings,
        db=open_database(settings),
        catalog=open_catalog(settings),
        storage=open_storage(settings),
        callers=CallerCache(ttl=settings.revocation_check_seconds),
        rate_limiter=open_rate_limiter(settings.redis_url),
    )


async def open_jobs(
    settings: Settings,
    *,
    db: Database,
    storage: Storage,
    catalog: Catalog,
    in_process: bool,
    standalone: bool = False,
    search_model: ModelFolder | None = None,
) -> Jobs:
    """The jobs services on the given database and storage: on Redis and arq, or
    in this process (MemoryEventBus and the in-process runner, started here).

    `standalone` says this process is `darkroom serve` itself: its in-process
    engine then sets torch's threads for the whole process and warms up at once.
    Tests and benchmarks that embed the app in their own process leave it off.
    In this process, jobs' outputs are embedded with `search_model` when given.
    """
    if in_process:
        # Only the embedded setup runs jobs in the API process, and loads torch.
        from jobs.worker.engine import Engine
        from jobs.worker.inprocess import InProcessQueue

        runner = InProcessQueue(warm_up=standalone)
        deliveries = InProcessDeliveries(db, settings)
        jobs = Jobs(
            db, settings, catalog, runner, MemoryEventBus(), storage, deliveries
        )
        threads = engine_threads(settings) if standalone else None
        engine = Engine(
            catalog, cache_dir=settings.data_dir / "models", threads=threads
        )
        runner.bind(jobs, engine)
        if search_model is not None:
            jobs.indexer = await start_indexer(db, search_model)
        await runner.start()
        return jobs
    pool = await open_arq_pool(settings.redis_url)
    # Subscribers whose job ended while Redis was away get the end from its row.
    events = RedisEventBus(
        # No command, and no read of the subscription, waits on a dead connection
        # for longer than this; the bus PINGs its subscription well within it.
        Redis.from_url(settings.redis_url, socket_timeout=READ_TIMEOUT_SECONDS),
        row_events=functools.partial(read_row_events, db),
    )
    return Jobs(
        db, settings, catalog, ArqQueue(pool), events, storage, ArqDeliveryQueue(pool)
    )


async def start_indexer(db: Database, folder: ModelFolder) -> OutputIndexer:
    """Embed finished outputs' prompts in this process, in the background."""
    from jobs.worker.indexing import SearchIndexer

    indexer = SearchIndexer(db, functools.partial(torch_embedder, folder))
    await indexer.start()
    return indexer


async def close_jobs(jobs: Jobs) -> None:
    """Stop the runner and close the queue and event bus open_jobs opened (not
    the database or storage, which belong to whoever passed them in)."""
    await jobs.queue.close()
    if jobs.indexer is not None:  # after the runner, whose last jobs may add some
        await jobs.indexer.stop()
    if jobs.deliveries is not None:  # after the runner, whose jobs may add some
        await jobs.deliveries.close()
    await jobs.events.close()
    if isinstance(jobs.events, RedisEventBus):
        await jobs.events.redis.aclose()


def build_app(
    settings: Settings, services: Services | None = None, *, standalone: bool = False
) -> Starlette:
    """The ASGI app for these settings; jobs run in-process unless Redis is set.

    Pass `services` to keep a handle on what the app runs on (benchmarks do), and
    `standalone` from `darkroom serve` (see open_jobs).
    """
    services = services or build_services(settings)

    @asynccontextmanager
    async def jobs_open() -> AsyncIterator[None]:
        in_process = not settings.redis_url
        # Only a process that runs jobs has torch to export the model with.
        folder = await open_search(settings, services.db, can_export=in_process)
        services.search = None if folder is None else query_vectors(folder)
        services.jobs = await open_jobs(
            settings,
            db=services.db,
            storage=services.storage,
            catalog=services.catalog,
            in_process=in_process,
            standalone=standalone,
            search_model=folder,
        )
        try:
            # Followers here learn their queued jobs' new places as the queue moves.
            async with updating_places(services.jobs):
                yield
        finally:
            await close_jobs(services.jobs)

    return create_app(services, build_schema(debug=settings.debug), resources=jobs_open)


@contextmanager
def worker_metrics(port: int) -> Iterator[None]:
    """Serve this worker's metrics on `port` (all interfaces) unless it is 0."""
    address = f"0.0.0.0:{port}" if port else ""
    with unauthenticated_listener(address, exported_registry()) as bound:
        if bound is not None:
            log.info("worker metrics on port %d", bound)
        yield


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Run an arq worker until stopped (or, with burst, until the queue is empty)."""
    asyncio.run(_serve_worker(settings, burst=burst))


async def _serve_worker(settings: Settings, *, burst: bool) -> None:
    from jobs.worker.arq_worker import build_worker
    from jobs.worker.engine import Engine
    from jobs.worker.webhook_worker import build_webhook_worker, run_beside

    db = open_database(settings)
    catalog = open_catalog(settings)
    jobs = await open_jobs(
        settings,
        db=db,
        storage=open_storage(settings),
        catalog=catalog,
        in_process=False,
    )
    assert isinstance(jobs.queue, ArqQueue)  # open_jobs built it for Redis
    folder = await open_search(settings, db, can_export=True)
    if folder is not None:
        jobs.indexer = await start_indexer(db, folder)
    # Set before anything loads torch: the engine thread's first task does it.
    engine = Engine(
        catalog,
        cache_dir=settings.data_dir / "models",
        threads=engine_threads(settings),
    )
    try:
        # One Redis pool for arq's polling and our enqueues; arq closes it.
        worker = build_worker(jobs, engine, burst=burst, redis_pool=jobs.queue.redis)
        # The webhook sender's own pool, with the same read timeout.
        pool = await open_arq_pool(settings.redis_url)
        webhooks = build_webhook_worker(jobs, burst=burst, redis_pool=pool)
        presence = reporting(
            db,
            worker_id=worker.ctx["worker_id"],
            kind="arq",
            every=settings.heartbeat_seconds,
        )
        with worker_metrics(settings.worker_metrics_port):
            async with presence:
                await run_beside(worker, webhooks, burst=burst)
    finally:
        if jobs.indexer is not None:
            await jobs.indexer.stop()
        await jobs.events.close()
        if isinstance(jobs.events, RedisEventBus):
            await jobs.events.redis.aclose()
        await db.dispose()
