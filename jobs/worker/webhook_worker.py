"""The webhook worker: sends webhook deliveries from Redis, beside the job worker.

`darkroom worker` runs one next to its job worker. Deliveries have their own arq
queue (jobs/queue.py says why) and many are sent at once, since each only waits
on a receiver, for at most the webhook timeout.
"""

import asyncio
import contextlib
import logging
import uuid

from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker, func

from jobs.queue import TASK_WEBHOOK, WEBHOOK_QUEUE, DeliveryQueue
from jobs.services import Jobs
from jobs.webhooks.delivery import (
    LEASE_MARGIN_SECONDS,
    attempt_delivery,
    sweep_webhooks,
)
from jobs.worker.arq_worker import WakingWorker, close_worker, run_until_stopped
from jobs.worker.tasks import WorkerContext, worker_id

log = logging.getLogger(__name__)
# Sends at once per worker process: each is mostly waiting on a receiver.
MAX_SENDS = 20


def _deliveries(jobs: Jobs) -> DeliveryQueue:
    assert jobs.deliveries is not None, "open_jobs gives Redis setups one"
    return jobs.deliveries


async def send_webhook(ctx: WorkerContext, delivery_id: str, attempt: int) -> None:
    """Make one attempt of one delivery; a repeated delivery of the task is harmless."""
    jobs: Jobs = ctx["jobs"]
    await attempt_delivery(
        jobs.db,
        jobs.settings,
        _deliveries(jobs),
        delivery_id=uuid.UUID(delivery_id),
        attempt=attempt,
    )


class WebhookWorker(WakingWorker):
    """The job worker's Redis-outage handling, with the webhook sweep after one
    (the job sweeper's cron does it each minute otherwise)."""

    async def _sweep_after_outage(self) -> None:
        try:
            queued = await sweep_webhooks(self.ctx["jobs"])
        except Exception:
            log.warning("webhook sweep after the Redis outage failed", exc_info=True)
        else:
            log.info("webhook sweep after the Redis outage: %d queued", queued)


def build_webhook_worker(
    jobs: Jobs, *, burst: bool = False, redis_pool: ArqRedis | None = None
) -> WakingWorker:
    """An arq worker for the webhook queue, on its own Redis pool (arq opens one
    without `redis_pool`), leaving signals to the job worker beside it."""
    settings = jobs.settings
    return WebhookWorker(
        functions=[func(send_webhook, name=TASK_WEBHOOK)],
        queue_name=WEBHOOK_QUEUE,
        max_jobs=MAX_SENDS,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        redis_pool=redis_pool,
        burst=burst,
        handle_signals=False,
        poll_delay=settings.worker_poll_delay_seconds,
        job_timeout=settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS,
        ctx={"jobs": jobs, "worker_id": worker_id("webhooks")},
    )


async def run_beside(
    job_worker: Worker, webhooks: WakingWorker, *, burst: bool
) -> None:
    """Run the webhook worker as long as the job worker runs (in burst mode,
    after it, until the deliveries its jobs made are settled)."""
    if burst:
        try:
            await run_until_stopped(job_worker)
        finally:
            await run_until_stopped(webhooks)
        return
    beside = asyncio.create_task(webhooks.async_run(), name="webhook worker")
    beside.add_done_callback(_report_end)
    try:
        await run_until_stopped(job_worker)
    finally:
        webhooks.stop()
        beside.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beside
        await close_worker(webhooks)


def _report_end(task: "asyncio.Task[None]") -> None:
    # Only a stop ends it; a crash would silently stop webhooks while jobs go on.
    if not task.cancelled() and task.exception() is not None:
        log.error("the webhook worker stopped", exc_info=task.exception())
