"""The event bus on Redis: one pattern subscription per process, shared by every
API process and worker; see `jobs.events` for the numbering and snapshots."""

import asyncio
import contextlib
import uuid
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from jobs.events import BusBase, EventType, JobEvent, Numbered
from jobs.queue import (
    JOB_EVENTS,
    JOB_EVENTS_PATTERN,
    JOB_LAST,
    JOB_SEQ,
    KEY_TTL_SECONDS,
)

# Number, keep and publish in one step, so the snapshot and the stream agree.
# With ARGV[3] set (a QUEUED event) nothing happens once the snapshot has moved
# on from QUEUED; the JSON is compact, so the status appears exactly like this.
_PUBLISH = """
if ARGV[3] == '1' then
  local last = redis.call('GET', KEYS[2])
  if last and not string.find(last, '"status":"QUEUED"', 1, true) then
    return 0
  end
end
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
local message = seq .. '|' .. ARGV[1]
redis.call('SET', KEYS[2], message, 'EX', ARGV[2])
redis.call('PUBLISH', KEYS[3], message)
return seq
"""


def _parse(message: bytes | str) -> Numbered:
    raw = message.decode() if isinstance(message, bytes) else message
    seq, _, body = raw.partition("|")
    return int(seq), JobEvent.from_json(body)


class RedisEventBus(BusBase):
    """Events on Redis pub/sub, shared by every API process and worker.

    Each process holds one pattern subscription to all job channels and fans
    messages out locally, so 500 subscribers cost one connection, not 500.
    """

    def __init__(self, redis: "Redis") -> None:
        super().__init__()
        self.redis = redis
        self._script = redis.register_script(_PUBLISH)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    async def publish(self, event: JobEvent) -> None:
        """Number, store and publish the event atomically."""
        job_id = event.job_id
        await self._script(
            keys=[
                JOB_SEQ.format(job_id=job_id),
                JOB_LAST.format(job_id=job_id),
                JOB_EVENTS.format(job_id=job_id),
            ],
            args=[
                event.to_json(),
                KEY_TTL_SECONDS,
                "1" if event.type is EventType.QUEUED else "0",
            ],
        )

    async def _snapshot(self, job_id: uuid.UUID) -> Numbered | None:
        raw = await self.redis.get(JOB_LAST.format(job_id=job_id))
        return None if raw is None else _parse(cast("bytes | str", raw))

    async def _listen(self) -> None:
        if self._reader is not None and not self._reader.done():
            return
        async with self._starting:
            if self._reader is not None and not self._reader.done():
                return
            self._pubsub = await self._subscribe()
            self._reader = asyncio.create_task(self._read(self._pubsub))

    async def _subscribe(self) -> PubSub:
        pubsub = self.redis.pubsub()
        await pubsub.psubscribe(JOB_EVENTS_PATTERN)
        # Wait for the confirmation: from then on every publish reaches us.
        while True:
            message = await pubsub.get_message(timeout=5.0)
            if message is not None and message["type"] == "psubscribe":
                return pubsub

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            try:
                # listen() rather than get_message(timeout=...): a read cut short
                # by a timeout can lose messages that had already arrived.
                async for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        self._fanout.deliver(*_parse(message["data"]))
            except (RedisConnectionError, OSError):
                pass
            # Resubscribe, then replay snapshots: sequence numbers drop repeats.
            await asyncio.sleep(0.5)
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
            pubsub = self._pubsub = await self._subscribe()
            for job_id in list(self._fanout.by_job):
                snapshot = await self._snapshot(job_id)
                if snapshot is not None:
                    self._fanout.deliver(*snapshot)

    async def close(self) -> None:
        """Stop the reader and close the subscription (the client is the caller's)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
