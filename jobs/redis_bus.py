"""The event bus on Redis: one pattern subscription per process, shared by every
API process and worker; see `jobs.events` for the numbering and snapshots."""

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.enums import EventType
from core.metrics import EVENTS_PUBLISHED
from core.models import utcnow
from jobs.events import BusBase, JobEvent, Numbered, publish_span
from jobs.outage import REDIS_DOWN, Outage
from jobs.queue import (
    JOB_EVENTS,
    JOB_EVENTS_PATTERN,
    JOB_LAST,
    JOB_SEQ,
    KEY_TTL_SECONDS,
    QUEUE_MOVED,
)

log = logging.getLogger(__name__)

# A subscription is confirmed at once; a server that stays silent is as good as down.
SUBSCRIBE_TIMEOUT_SECONDS = 10.0
# The subscription's connection is PINGed this often, so its reads always have an
# answer coming; with a client whose reads time out later (READ_TIMEOUT_SECONDS
# for the composition root's), a connection gone silent is found and replaced.
PING_SECONDS = 5.0
# Jobs' finished_at comes from other machines' clocks: look back a little further.
CLOCK_SKEW = timedelta(seconds=5)
# What ends the subscription until a reconnect: Redis going away, or any other
# failure of its socket; the reader must outlive them all.
_LOST = (*REDIS_DOWN, OSError)

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


def _keys(event: JobEvent) -> list[str]:
    """The publish script's keys: the job's sequence, snapshot and channel."""
    job_id = event.job_id
    return [
        JOB_SEQ.format(job_id=job_id),
        JOB_LAST.format(job_id=job_id),
        JOB_EVENTS.format(job_id=job_id),
    ]


def _args(event: JobEvent) -> list[str | int]:
    """The publish script's arguments: the event, the keys' lifetime, and whether
    it is a QUEUED event (dropped once the job moved on)."""
    queued = "1" if event.type is EventType.QUEUED else "0"
    return [event.to_json(), KEY_TTL_SECONDS, queued]


_CHANNEL_HEAD, _, _CHANNEL_TAIL = JOB_EVENTS.encode().partition(b"{job_id}")
# to_json writes the ids first, so the account is found without decoding.
_USER_KEY = b'"user_id":"'
_UUID_LENGTH = 36


def _ids(channel: bytes | str, data: bytes | str) -> tuple[str, str | None]:
    """The job id from a message's channel and the account id from its body."""
    raw_channel = channel.encode() if isinstance(channel, str) else channel
    job = raw_channel[len(_CHANNEL_HEAD) : len(raw_channel) - len(_CHANNEL_TAIL)]
    raw = data.encode() if isinstance(data, str) else data
    at = raw.find(_USER_KEY)
    if at < 0:
        return job.decode(), None
    start = at + len(_USER_KEY)
    return job.decode(), raw[start : start + _UUID_LENGTH].decode()


def _parse(message: bytes | str) -> Numbered:
    raw = message.decode() if isinstance(message, bytes) else message
    seq, _, body = raw.partition("|")
    return int(seq), JobEvent.from_json(body)


class RowEvents(Protocol):
    """Reads the events that jobs' rows record: stored outputs and ends."""

    async def __call__(
        self, *, job_ids: list[uuid.UUID], user_ids: list[uuid.UUID], since: datetime
    ) -> list[JobEvent]:
        """OUTPUT events then ends, of these jobs and of these accounts' jobs that
        changed since then."""
        ...


class RedisEventBus(BusBase):
    """Events on Redis pub/sub, shared by every API process and worker.

    Each process holds one pattern subscription to all job channels and fans
    messages out locally, so 500 subscribers cost one connection, not 500.
    Pub/sub keeps nothing for a dropped connection, so after reconnecting the
    reader catches up from the rows, given `row_events` (each stored output and
    each end: a subscriber always gets its job's OUTPUT events and its end), and
    from the snapshots.
    """

    # Ends delivered lately, so that a catch-up never delivers one twice.
    MAX_ENDED = 10_000

    def __init__(
        self,
        redis: "Redis",
        *,
        row_events: RowEvents | None = None,
        ping_seconds: float = PING_SECONDS,
    ) -> None:
        super().__init__()
        self.redis = redis
        self._ping_seconds = ping_seconds
        self._pinger: asyncio.Task[None] | None = None
        self._script = redis.register_script(_PUBLISH)
        self._row_events = row_events
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._ended: OrderedDict[uuid.UUID, None] = OrderedDict()

    async def publish(self, event: JobEvent) -> None:
        """Number, store and publish the event atomically."""
        with publish_span(event):
            await self._script(keys=_keys(event), args=_args(event))
        EVENTS_PUBLISHED.labels(type=event.type.value).inc()

    async def publish_many(self, events: Sequence[JobEvent]) -> None:
        """As `publish`, each event atomically, all of them in one pipeline."""
        if len(events) <= 1:
            # A pipeline checks its scripts are loaded first: a round trip more.
            for event in events:
                await self.publish(event)
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                await self._script(keys=_keys(event), args=_args(event), client=pipe)
            await pipe.execute()
        for event in events:
            EVENTS_PUBLISHED.labels(type=event.type.value).inc()

    async def queue_moved(self) -> None:
        """Tell every process's reader; those following jobs update their places."""
        await self.redis.publish(QUEUE_MOVED, b"")

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
            if self._pinger is None:
                self._pinger = asyncio.create_task(self._ping())

    async def _subscribe(self) -> PubSub:
        pubsub = self.redis.pubsub()
        try:
            # The queue's moves first: a move missed here is made up for, as
            # each new follower triggers an update anyway; a job event is not.
            await pubsub.subscribe(QUEUE_MOVED)
            await pubsub.psubscribe(JOB_EVENTS_PATTERN)
            # Wait for the confirmation: from then on every publish reaches us.
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_SECONDS):
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "psubscribe":
                        return pubsub
        except TimeoutError as err:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
            raise RedisTimeoutError("no reply to PSUBSCRIBE") from err
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
            raise

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            lost: BaseException = RedisConnectionError("subscription ended")
            try:
                # listen() rather than get_message(timeout=...): a read cut short
                # by a timeout can lose messages that had already arrived.
                async for message in pubsub.listen():
                    if message["type"] == "pmessage" and self._followed(
                        message["channel"], message["data"]
                    ):
                        self._deliver(*_parse(message["data"]))
                    elif message["type"] == "message":  # QUEUE_MOVED, the only one
                        self._moved.set()
            except _LOST as err:
                lost = err
            since = utcnow() - CLOCK_SKEW
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
            pubsub = await self._reconnect(lost, since)

    async def _ping(self) -> None:
        """PING the subscription's connection now and then; the reader sees the
        answer, or its read times out and it reconnects (see PING_SECONDS)."""
        while True:
            await asyncio.sleep(self._ping_seconds)
            pubsub = self._pubsub
            if pubsub is not None and pubsub.connection is not None:
                # A failed write is the reader's to notice, as any lost connection.
                with contextlib.suppress(Exception):
                    await pubsub.ping()

    async def _reconnect(self, lost: BaseException, since: datetime) -> PubSub:
        """Subscribe again, waiting out an outage, then catch up."""
        outage = Outage("job event reader")
        while True:
            await outage.failed(lost)
            try:
                pubsub = self._pubsub = await self._subscribe()
            except _LOST as err:
                lost = err
                continue
            try:
                await self._catch_up(since)
            except _LOST as err:
                lost = err
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
                continue
            outage.ok()
            self._moved.set()  # the queue may have moved meanwhile
            return pubsub

    async def _catch_up(self, since: datetime) -> None:
        """Deliver what the dropped connection missed, in order: the outputs rows
        record (pub/sub does not replay them), each followed job's snapshot, then
        the ends rows record, for Redis may have restarted empty or a worker given
        up publishing. Sequence numbers, output ids and `_ended` drop repeats."""
        job_ids = list(self._fanout.by_job)
        user_ids = list(self._fanout.by_user)
        rows: list[JobEvent] = []
        if self._row_events is not None and (job_ids or user_ids):
            try:
                rows = await self._row_events(
                    job_ids=job_ids, user_ids=user_ids, since=since
                )
            except Exception:
                log.exception("could not read jobs' rows after a Redis outage")
        for event in rows:
            if event.type is EventType.OUTPUT:
                self._deliver(0, event)  # no number: watch_job checks its id
        for job_id in job_ids:
            snapshot = await self._snapshot(job_id)
            if snapshot is not None:
                self._deliver(*snapshot)
        for event in rows:
            if event.type.is_terminal:
                self._deliver(0, event)  # no number: watch_job lets an end through

    def _followed(self, channel: bytes | str, data: bytes | str) -> bool:
        """Whether anyone here follows the message's job or account: every
        process hears every job, and decoding those nobody watches is wasted."""
        fanout = self._fanout
        try:
            job_id, user_id = _ids(channel, data)
            if uuid.UUID(job_id) in fanout.by_job:
                return True
            if not fanout.by_user:
                return False
            # Without an account id in it, decode the message to be sure.
            return user_id is None or uuid.UUID(user_id) in fanout.by_user
        except ValueError:  # not our format: let the decoder have its say
            return True

    def _deliver(self, seq: int, event: JobEvent) -> None:
        if event.type.is_terminal:
            if event.job_id in self._ended:
                return
            self._ended[event.job_id] = None
            if len(self._ended) > self.MAX_ENDED:
                self._ended.popitem(last=False)
        self._fanout.deliver(seq, event)

    async def close(self) -> None:
        """Stop the reader and close the subscription (the client is the caller's)."""
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
