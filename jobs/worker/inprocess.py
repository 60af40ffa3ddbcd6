"""The in-process runner: jobs run in the API process when there is no Redis.

Without Redis (`darkroom serve` on the embedded setup) jobs run in the API
process: an asyncio.PriorityQueue ordered like arq's sorted set (paid band
first, then enqueue time) feeds one consumer, which calls the same task
functions as the arq worker with an arq-shaped context, a MemoryEventBus and
in-memory cancel flags.
"""

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from datetime import datetime

from jobs.presence import forget_worker, report_forever
from jobs.queue import TASK_GENERATION, TASK_UPSCALE, queue_score_ms
from jobs.services import Jobs
from jobs.sweeper import hand_back, sweep
from jobs.worker.engine import Engine
from jobs.worker.generation import run_generation
from jobs.worker.tasks import WorkerContext, worker_id
from jobs.worker.upscale import run_upscale

log = logging.getLogger(__name__)
TASKS = {TASK_GENERATION: run_generation, TASK_UPSCALE: run_upscale}

# score, tie-breaker, task, job id, traceparent
_Entry = tuple[int, int, str, uuid.UUID, str | None]
SWEEP_INTERVAL_SECONDS = 60  # the arq cron's period


class InProcessQueue:
    """A JobQueue that runs jobs in this process, one at a time."""

    def __init__(self, *, warm_up: bool = False) -> None:
        """With `warm_up`, start() loads the default model and upscaler in the
        background, so the first job does not pay for the imports and loading."""
        self._warm_up = warm_up
        self._warming: asyncio.Task[None] | None = None
        self._queue: asyncio.PriorityQueue[_Entry] = asyncio.PriorityQueue()
        self._seen: set[tuple[uuid.UUID, int]] = set()
        self._cancelled: set[uuid.UUID] = set()
        self._order = itertools.count()
        self._consumer: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._presence: asyncio.Task[None] | None = None
        self._ctx: WorkerContext | None = None
        # Held while a job runs; once draining, no job starts.
        self._running = asyncio.Lock()
        self._draining = False

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
        if self._presence is None or self._presence.done():
            jobs = self._ctx["jobs"]
            self._presence = asyncio.create_task(
                report_forever(
                    jobs.db,
                    worker_id=self._ctx["worker_id"],
                    kind="inproc",
                    every=jobs.settings.heartbeat_seconds,
                )
            )
        if self._warm_up and self._warming is None:
            self._warming = asyncio.create_task(_warm(self._ctx["engine"]))

    async def stop(self) -> None:
        """Stop the consumer; a job in progress is handed back to the queue, to
        start again at once on the next start (its queued row waits for the sweep)."""
        for task in (self._consumer, self._sweeper, self._warming, self._presence):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._consumer is not None and self._ctx is not None:
            try:
                handed = await hand_back(self._ctx["jobs"], self._ctx["worker_id"])
            except Exception:  # the database away: the stale limit still applies
                log.warning("could not hand back the running job", exc_info=True)
            else:
                if handed:
                    log.info("handed back %d unfinished job(s) to the queue", handed)
        if self._presence is not None and self._ctx is not None:
            with contextlib.suppress(Exception):  # the row goes stale otherwise
                await forget_worker(
                    self._ctx["jobs"].db, worker_id=self._ctx["worker_id"]
                )
        self._consumer = self._sweeper = self._presence = None

    async def enqueue(
        self,
        job_id: uuid.UUID,
        *,
        task: str,
        paid: bool,
        enqueued_at: datetime,
        attempt: int = 0,
        traceparent: str | None = None,
    ) -> None:
        """Queue a delivery once; the same (job, attempt) again is a no-op."""
        if (job_id, attempt) in self._seen:
            return
        self._seen.add((job_id, attempt))
        score = queue_score_ms(enqueued_at, paid=paid)
        entry = (score, next(self._order), task, job_id, traceparent)
        self._queue.put_nowait(entry)

    async def finish_running(self) -> None:
        """Start no more jobs; wait for the one running to end. The jobs still
        queued here wait in their rows for the next start's sweep."""
        self._draining = True
        async with self._running:
            pass

    async def join(self) -> None:
        """Wait until every queued delivery has been run, including those of jobs
        a batch took along, which find their job claimed and do nothing."""
        await self._queue.join()

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
            _score, _n, task, job_id, traceparent = await self._queue.get()
            try:
                async with self._running:
                    if not self._draining:
                        await TASKS[task](ctx, str(job_id), traceparent)
            except Exception:
                log.exception("in-process job %s failed outside its task", job_id)
            finally:
                self._queue.task_done()


async def _warm(engine: Engine) -> None:
    """Load the default model and upscaler on the engine thread; the server
    answers meanwhile, and a job that comes in waits its turn on that thread."""
    started = time.perf_counter()
    try:
        await engine.call(engine.preload)
    except Exception:
        # Jobs on that model fail (and are refunded) with the same reason.
        log.exception("could not load the default model or upscaler at start-up")
    else:
        seconds = time.perf_counter() - started
        log.info("engine ready in %.1f s: default model and upscaler loaded", seconds)
