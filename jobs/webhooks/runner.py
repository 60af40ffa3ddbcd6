"""Webhook deliveries in this process, when there is no Redis.

Each attempt waits on an asyncio timer until it is due, then sends with at most
`CONCURRENCY` others at once, beside the jobs on the same event loop; every
send is async, so a slow receiver holds a slot, never the loop. The in-process
sweeper (jobs/sweeper.py) sends what a restart or a failed enqueue left due.
"""

import asyncio
import logging
import uuid
from datetime import datetime

from core.db import Database
from core.models import utcnow
from core.settings import Settings
from jobs.webhooks.delivery import attempt_delivery

log = logging.getLogger(__name__)
CONCURRENCY = 10


class InProcessDeliveries:
    """A DeliveryQueue that sends from this process."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self._pending: dict[tuple[uuid.UUID, int], asyncio.TimerHandle] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._closed = False

    async def enqueue(
        self, delivery_id: uuid.UUID, *, attempt: int, at: datetime
    ) -> None:
        """Send the attempt at `at`; one already waiting or sending is not doubled."""
        key = (delivery_id, attempt)
        if key in self._pending or self._closed:
            return  # once closed, the row waits, due, for the next process's sweep
        delay = max(0.0, (at - utcnow()).total_seconds())
        loop = asyncio.get_running_loop()
        self._pending[key] = loop.call_later(delay, self._start_send, key)

    async def close(self) -> None:
        """Stop sending; claimed attempts are made again by a later sweep once
        their lease ends, the rest when due."""
        self._closed = True
        for handle in self._pending.values():
            handle.cancel()
        for task in self._sending:
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        self._pending.clear()

    def _start_send(self, key: tuple[uuid.UUID, int]) -> None:
        task = asyncio.create_task(self._send(key))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, key: tuple[uuid.UUID, int]) -> None:
        delivery_id, attempt = key
        try:
            async with self._slots:
                await attempt_delivery(
                    self.db,
                    self.settings,
                    self,
                    delivery_id=delivery_id,
                    attempt=attempt,
                )
        except Exception:
            log.exception("webhook %s: attempt %d failed to run", delivery_id, attempt)
        finally:
            # Forgotten once made: a repeat is then refused by the claim.
            self._pending.pop(key, None)
