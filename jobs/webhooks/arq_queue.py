"""Webhook deliveries on Redis: each attempt an arq job on the webhook queue."""

import uuid
from datetime import datetime

from arq.connections import ArqRedis

from jobs.queue import ARQ_EXPIRES, TASK_WEBHOOK, WEBHOOK_QUEUE, webhook_job_id


class ArqDeliveryQueue:
    """The DeliveryQueue on Redis, served by the webhook worker beside each job
    worker; it shares the job queue's pool, which that queue closes."""

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def enqueue(
        self, delivery_id: uuid.UUID, *, attempt: int, at: datetime
    ) -> None:
        """Put the attempt on the webhook queue, due at `at`."""
        await self.redis.enqueue_job(
            TASK_WEBHOOK,
            str(delivery_id),
            attempt,
            _job_id=webhook_job_id(delivery_id, attempt),
            _queue_name=WEBHOOK_QUEUE,
            _defer_until=at,
            _expires=ARQ_EXPIRES,
        )

    async def close(self) -> None:
        """Nothing of its own to release."""
