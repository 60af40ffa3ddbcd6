"""The arq worker: takes jobs from Redis and runs them on the engine.

`darkroom worker` builds its services once (darkroom/services.py) and hands them
to `build_worker`; startup only warms the engine and repairs what a crash left.
"""

import asyncio
import contextlib
import logging
import math
import warnings
from typing import Any

from arq import cron
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, func
from redis.asyncio.client import PubSub

from jobs.outage import REDIS_DOWN, Outage
from jobs.queue import ARQ_QUEUE, TASK_GENERATION, TASK_UPSCALE, WAKE_CHANNEL
from jobs.services import Jobs
from jobs.sweeper import hand_back, repair_dead_runs, sweep
from jobs.worker.engine import Engine
from jobs.worker.generation import run_generation
from jobs.worker.tasks import WorkerContext, worker_id
from jobs.worker.upscale import run_upscale

log = logging.getLogger(__name__)
# arq's own timeout backs up ours: it only fires if the engine ignores the stop flag.
ARQ_TIMEOUT_MARGIN_SECONDS = 60


async def startup(ctx: WorkerContext) -> None:
    """Load the default model and upscaler; repair what a crash left."""
    jobs: Jobs = ctx["jobs"]
    engine: Engine = ctx["engine"]
    try:
        await engine.call(engine.preload)
    except Exception:
        # Jobs on that model fail (and are refunded) with the same reason; the
        # worker still serves the rest of the catalog.
        log.exception("could not load the default model or upscaler at start-up")
    else:
        log.info(
            "loaded %s and %s",
            jobs.catalog.default_model().id,
            jobs.catalog.default_upscaler().id,
        )
    # A worker that died mid-job left it RUNNING; pick it up now, not in a minute.
    report = await sweep(jobs)
    log.info("startup sweep: %s", report)
    ctx["dead_runs"] = asyncio.create_task(_watch_dead_runs(jobs), name="dead runs")


async def shutdown(ctx: WorkerContext) -> None:
    """Hand back the jobs SIGTERM cut short, then stop the engine thread; the
    services are closed by whoever opened them."""
    watcher = ctx.pop("dead_runs", None)
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    try:
        handed = await hand_back(ctx["jobs"], ctx["worker_id"])
    except Exception:  # the database or Redis away: the stale limit still applies
        log.warning("could not hand back this worker's jobs", exc_info=True)
    else:
        if handed:
            log.info("handed back %d unfinished job(s) to the queue", handed)
    ctx["engine"].close()


async def _watch_dead_runs(jobs: Jobs) -> None:
    """Hand out the jobs of workers that died, every few seconds.

    A task of the worker process rather than an arq cron job: cron jobs queue
    behind the jobs, so a busy fleet would never run them.
    """
    while True:
        await asyncio.sleep(jobs.settings.dead_run_check_seconds)
        try:
            report = await repair_dead_runs(jobs)
        except Exception:  # Redis or the database away: the next round retries
            log.warning("could not look for jobs of dead workers", exc_info=True)
            continue
        if report.requeued or report.timed_out:
            log.info("dead workers' jobs: %s", report)


async def sweep_jobs(ctx: WorkerContext) -> None:
    """The sweeper as an arq cron job."""
    report = await sweep(ctx["jobs"])
    log.info("sweep: %s", report)


class WorkerSettings:
    """arq's worker settings; build_worker adds the services and the ones read from Settings."""

    functions = [  # noqa: RUF012  # arq reads these class attributes as they are
        func(run_generation, name=TASK_GENERATION),
        func(run_upscale, name=TASK_UPSCALE),
    ]
    cron_jobs = [cron(sweep_jobs, second=0, run_at_startup=False)]  # noqa: RUF012  # as above
    on_startup = startup
    on_shutdown = shutdown
    queue_name = ARQ_QUEUE
    # One job at a time: the engine thread serialises GPU work anyway.
    max_jobs = 1


class WakingWorker(Worker):
    """arq's Worker, woken as soon as a job is queued (ArqQueue publishes on
    WAKE_CHANNEL) instead of only once each poll delay; the poll delay remains
    the longest wait, so a lost wake-up costs no more than plain polling.

    It also rides out a Redis outage: arq's own loop dies on the first refused
    connection, taking the worker process with it.
    """

    def __init__(self, *args: Any, poll_delay: float, **kwargs: Any) -> None:
        # arq's own sleep between iterations is replaced by `_wait_for_wake`.
        super().__init__(*args, poll_delay=0, **kwargs)
        self.wake_delay = poll_delay
        self._wake: PubSub | None = None
        self._outage = Outage("worker")
        self._stopping = False
        # arq calls this beside cancelling the poll loop (SIGTERM, close()).
        self.on_stop = lambda _signal: self.stop()

    def stop(self) -> None:
        """End the poll loop at its next step, whether or not a cancel reaches it.

        redis-py (5.3) can swallow a cancel that lands mid-command, returning as
        if none came; the loop then went on polling and the process never exited
        (a SIGTERM just after a Redis outage, during the sweep that follows one).
        """
        self._stopping = True

    async def _poll_iteration(self) -> None:
        self._stop_if_asked()
        try:
            await super()._poll_iteration()
            await self._wait_for_wake()
        except REDIS_DOWN as err:
            # A running job carries on: it needs Redis only for events and the
            # cancel flag, and both wait for it on their own.
            await self._close_wake()
            await self._outage.failed(err)
            return
        if self._outage.ok():
            await self._sweep_after_outage()
        self._stop_if_asked()

    def _stop_if_asked(self) -> None:
        if self._stopping:
            raise asyncio.CancelledError  # as the swallowed cancel would have

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq's start_jobs, giving back the job slot a failed claim leaves taken."""
        try:
            await super().start_jobs(job_ids)
        except REDIS_DOWN:
            # arq counts the slot before its claim pipeline runs and only a job
            # task's end releases it; with max_jobs = 1 a lost slot would leave
            # the worker polling forever without ever starting a job.
            self._release_sem_dec_counter_on_complete()
            raise

    async def _wait_for_wake(self) -> None:
        """Return on a wake-up message or after the poll delay, whichever is first."""
        if self._wake is None:
            self._wake = self.pool.pubsub()
            await self._wake.subscribe(WAKE_CHANNEL)
        woken = await self._wake.get_message(
            ignore_subscribe_messages=True, timeout=self.wake_delay
        )
        # One poll serves every wake-up that arrived meanwhile.
        while woken is not None:
            woken = await self._wake.get_message(
                ignore_subscribe_messages=True, timeout=0
            )

    async def _sweep_after_outage(self) -> None:
        # A Redis that restarted empty lost its queue; the sweeper re-sends every
        # dispatched job still QUEUED, so run it now rather than at the next cron.
        try:
            report = await sweep(self.ctx["jobs"])
        except Exception:
            log.warning("sweep after the Redis outage failed", exc_info=True)
        else:
            log.info("sweep after the Redis outage: %s", report)

    async def _close_wake(self) -> None:
        wake, self._wake = self._wake, None
        if wake is not None:
            with contextlib.suppress(Exception):
                await wake.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    async def close(self) -> None:
        """Settle the job tasks, run arq's own shutdown, leave the wake-up channel."""
        # SIGTERM cancels job tasks still in arq's finishing tail (the job itself
        # done); arq's close() gathers them, re-raises that CancelledError and skips
        # on_shutdown and the pool's close. Settle them here instead: jobs are
        # idempotent, so a delivery cut off in its tail is harmless if run again.
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        self.tasks = {k: t for k, t in self.tasks.items() if not t.done()}
        try:
            await super().close()
        except REDIS_DOWN as err:
            # Its one Redis command, deleting the health-check key, failed: Redis
            # is down at shutdown. Close the rest as arq would have.
            log.warning("Redis is unavailable at shutdown (%s)", err)
            if self.on_shutdown:
                await self.on_shutdown(self.ctx)
            await self.pool.aclose(close_connection_pool=True)
            self._pool = None
        finally:
            # Last: arq's close() stops the poll loop, which may be waiting on it.
            await self._close_wake()


def build_worker(
    jobs: Jobs,
    engine: Engine,
    *,
    burst: bool = False,
    handle_signals: bool = True,
    redis_pool: ArqRedis | None = None,
) -> Worker:
    """An arq Worker running jobs with these services and engine.

    Build it inside the event loop that will run it: arq binds the current loop.
    Without `redis_pool` arq opens its own from the settings' Redis URL.
    """
    settings = jobs.settings
    return WakingWorker(
        functions=WorkerSettings.functions,
        cron_jobs=WorkerSettings.cron_jobs,
        on_startup=WorkerSettings.on_startup,
        on_shutdown=WorkerSettings.on_shutdown,
        queue_name=WorkerSettings.queue_name,
        max_jobs=WorkerSettings.max_jobs,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        redis_pool=redis_pool,
        burst=burst,
        handle_signals=handle_signals,
        poll_delay=settings.worker_poll_delay_seconds,
        job_timeout=settings.job_timeout_seconds + ARQ_TIMEOUT_MARGIN_SECONDS,
        # On SIGTERM: claim nothing more, let the running job finish for this
        # long, then cancel it; `shutdown` hands it back (0: at once).
        job_completion_wait=math.ceil(settings.drain_seconds),
        ctx={"jobs": jobs, "engine": engine, "worker_id": worker_id("arq")},
    )


async def run_until_stopped(worker: Worker) -> None:
    """Run the worker until SIGTERM (or, in burst mode, an empty queue)."""
    try:
        # async_run, not main(): arq's SIGTERM handler cancels the task it makes.
        await worker.async_run()
    except asyncio.CancelledError:
        # That task's end is a normal stop; a cancel of this task itself goes on.
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    finally:
        await close_worker(worker)


async def close_worker(worker: Worker) -> None:
    """Run arq's shutdown, which still calls redis-py's deprecated close()."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Call to deprecated close", DeprecationWarning
        )
        await worker.close()
