"""The in-process runner, and opening the jobs facade for the composition root.

Without Redis (`darkroom serve` on the embedded setup) jobs run in the API
process: an asyncio.PriorityQueue ordered like arq's sorted set (paid band
first, then enqueue time) feeds one consumer, which calls the same task
functions as the arq worker with an arq-shaped context, a MemoryEventBus and
in-memory cancel flags.
"""

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import socket
import uuid
from datetime import datetime

from arq.connections import RedisSettings, create_pool
from redis.asyncio import Redis

from core.db import Database
from core.settings import Settings
from core.storage import open_storage
from engine.catalog import Catalog
from jobs.events import MemoryEventBus
from jobs.lifecycle import read_terminal_events
from jobs.queue import TASK_GENERATION, TASK_UPSCALE, ArqQueue, queue_score_ms
from jobs.redis_bus import RedisEventBus
from jobs.submission import Jobs
from jobs.sweeper import sweep
from jobs.tasks import Engine, WorkerContext, run_generation, run_upscale

log = logging.getLogger(__name__)
TASKS = {TASK_GENERATION: run_generation, TASK_UPSCALE: run_upscale}

_Entry = tuple[int, int, str, uuid.UUID]  # score, tie-breaker, task, job id
SWEEP_INTERVAL_SECONDS = 60  # the arq cron's period


def worker_id(kind: str) -> str:
    """A name for this worker that is unique across hosts and restarts."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class InProcessQueue:
    """A JobQueue that runs jobs in this process, one at a time."""

    def __init__(self) -> None:
        self._queue: asyncio.PriorityQueue[_Entry] = asyncio.PriorityQueue()
        self._seen: set[tuple[uuid.UUID, int]] = set()
        self._cancelled: set[uuid.UUID] = set()
        self._order = itertools.count()
        self._consumer: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._ctx: WorkerContext | None = None

    def bind(self, jobs: Jobs, engine: Engine) -> None:
        """Give the runner what its tasks need (the facade holds this queue)."""
        self._ctx = {"jobs": jobs, "engine": engine, "worker_id": worker_id("inproc")}

    async def start(self) -> None:
        """Start the consumer; calling it again does nothing."""
        if self._ctx is None:
            raise RuntimeError("bind() the runner before starting it")
        if self._consumer is None or self._consumer.done():
            self._consumer = asyncio.create_task(self._consume(self._ctx))
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep_forever(self._ctx["jobs"]))

    async def stop(self) -> None:
        """Stop the consumer; a job in progress is abandoned for the sweeper."""
        for task in (self._consumer, self._sweeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._consumer = self._sweeper = None

    async def enqueue(
        self,
        job_id: uuid.UUID,
        *,
        task: str,
        paid: bool,
        enqueued_at: datetime,
        attempt: int = 0,
    ) -> None:
        """Queue a delivery once; the same (job, attempt) again is a no-op."""
        if (job_id, attempt) in self._seen:
            return
        self._seen.add((job_id, attempt))
        score = queue_score_ms(enqueued_at, paid=paid)
        self._queue.put_nowait((score, next(self._order), task, job_id))

    async def request_cancel(self, job_id: uuid.UUID) -> None:
        """Raise the in-memory cancel flag."""
        self._cancelled.add(job_id)

    async def cancel_requested(self, job_id: uuid.UUID) -> bool:
        """A set lookup."""
        return job_id in self._cancelled

    async def close(self) -> None:
        """Stop the consumer and the engine thread."""
        await self.stop()
        if self._ctx is not None:
            self._ctx["engine"].close()

    async def _sweep_forever(self, jobs: Jobs) -> None:
        # As the arq cron does for workers; the first pass, at start-up, repairs
        # what a crash of this process left: queued jobs that lived only in the
        # lost in-memory queue, and running jobs whose heartbeat stopped.
        while True:
            try:
                report = await sweep(jobs)
                log.info("in-process sweep: %s", report)
            except Exception:
                log.exception("in-process sweep failed; trying again next round")
            await asyncio.sleep(SWEEP_INTERVAL_SECONDS)

    async def _consume(self, ctx: WorkerContext) -> None:
        while True:
            _score, _n, task, job_id = await self._queue.get()
            try:
                await TASKS[task](ctx, str(job_id))
            except Exception:
                log.exception("in-process job %s failed outside its task", job_id)


async def open_jobs(settings: Settings, catalog: Catalog, *, in_process: bool) -> Jobs:
    """Open database, storage, queue and events; start the runner when in process."""
    db = Database(settings.resolved_database_url)
    storage = open_storage(settings)
    if in_process:
        runner = InProcessQueue()
        jobs = Jobs(
            db=db,
            settings=settings,
            catalog=catalog,
            queue=runner,
            events=MemoryEventBus(),
            storage=storage,
        )
        runner.bind(jobs, Engine(catalog, cache_dir=settings.data_dir / "models"))
        await runner.start()
        return jobs
    arq = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    # Subscribers whose job ended while Redis was away get the end from its row.
    events = RedisEventBus(
        Redis.from_url(settings.redis_url),
        row_ends=functools.partial(read_terminal_events, db),
    )
    return Jobs(
        db=db,
        settings=settings,
        catalog=catalog,
        queue=ArqQueue(arq),
        events=events,
        storage=storage,
    )


async def close_jobs(jobs: Jobs) -> None:
    """Stop the runner and close what open_jobs opened."""
    await jobs.queue.close()
    await jobs.events.close()
    if isinstance(jobs.events, RedisEventBus):
        await jobs.events.redis.aclose()
    await jobs.db.dispose()
