"""Job events: what workers publish and subscribers follow, and the in-memory bus.

Each event gets a per-job sequence number when published, and the latest one is
kept as the job's snapshot. A subscriber registers for live events first, then
reads the snapshot and drops live events numbered at or below it, so it neither
misses the end nor sees an event twice, however late it arrives. The bus that
API processes and workers share is `jobs.redis_bus.RedisEventBus`.
"""

import asyncio
import base64
import json
import uuid
from abc import ABC, abstractmethod
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from opentelemetry.trace import Span, SpanKind

from core import tracing
from core.enums import EventType, JobStatus
from core.metrics import EVENTS_PUBLISHED


@dataclass(frozen=True)
class JobEvent:
    """One change to a job, as subscribers see it."""

    job_id: uuid.UUID
    user_id: uuid.UUID
    type: EventType
    status: JobStatus
    at: datetime
    queue_position: int | None = None
    eta_seconds: float | None = None
    step: int | None = None
    total_steps: int | None = None
    percent: float | None = None
    preview_png: bytes | None = None
    # OUTPUT: the stored image's row, as JSON, so subscribers need not read it.
    output: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    charged: int | None = None
    refunded: int | None = None

    def to_json(self) -> str:
        """Encode as JSON (ids as strings, preview as base64)."""
        data: dict[str, Any] = asdict(self)
        for key, value in data.items():
            if isinstance(value, uuid.UUID | StrEnum):
                data[key] = str(value)
            elif isinstance(value, datetime):
                data[key] = value.isoformat()
            elif isinstance(value, bytes):
                data[key] = base64.b64encode(value).decode()
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> "JobEvent":
        """Decode what `to_json` wrote."""
        data: dict[str, Any] = json.loads(text)
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data["job_id"] = uuid.UUID(data["job_id"])
        data["user_id"] = uuid.UUID(data["user_id"])
        data["type"] = EventType(data["type"])
        data["status"] = JobStatus(data["status"])
        data["at"] = datetime.fromisoformat(data["at"])
        if data.get("preview_png") is not None:
            data["preview_png"] = base64.b64decode(data["preview_png"])
        return cls(**data)


class EventBus(Protocol):
    """Publishes job events and lets subscribers follow one job or one account."""

    async def publish(self, event: JobEvent) -> None:
        """Send an event and keep it as the job's snapshot.

        A QUEUED event arriving after the job moved on (a late place update) is
        dropped, so a snapshot never goes back to QUEUED.
        """
        ...

    async def publish_many(self, events: Sequence[JobEvent]) -> None:
        """Publish each event as `publish` does, in as few round trips as the bus
        allows."""
        ...

    def watch_job(self, job_id: uuid.UUID) -> AsyncIterator[JobEvent]:
        """The snapshot, then live events, ending after the terminal one."""
        ...

    def watch_user(self, user_id: uuid.UUID) -> AsyncIterator[JobEvent]:
        """Live events of every job of one account."""
        ...

    async def queue_moved(self) -> None:
        """Tell every process that queued jobs' places may have changed (a job
        was dispatched, started or left the queue)."""
        ...

    async def next_queue_move(self) -> None:
        """Wait until the queue moved, or somebody here began following a job or
        an account, since the last call returned."""
        ...

    def followed(self) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        """The jobs and the accounts that subscribers in this process follow."""
        ...

    async def close(self) -> None:
        """Stop listening and release connections."""
        ...


Numbered = tuple[int, JobEvent]


class _Entry:
    __slots__ = ("event", "seq")

    def __init__(self, seq: int, event: JobEvent | None) -> None:
        self.seq, self.event = seq, event


class Inbox:
    """One subscriber's unsent events, in order, with PROGRESS conflated.

    A subscriber that falls behind (a slow socket, a burst) would otherwise work
    through every step it missed; a newer PROGRESS of a job replaces the older
    one still waiting, at the newer one's place, so the order of what is sent
    stays the order of publishing. Every other event is kept.
    """

    def __init__(self) -> None:
        self._entries: deque[_Entry] = deque()
        # The waiting PROGRESS of each job, to be dropped when a newer one comes.
        self._progress: dict[uuid.UUID, _Entry] = {}
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Numbered) -> None:
        """Queue an event; a waiting PROGRESS of the same job is dropped for it."""
        seq, event = item
        entry = _Entry(seq, event)
        if event.type is EventType.PROGRESS:
            older = self._progress.get(event.job_id)
            if older is not None:
                older.event = None  # skipped when its turn comes
            self._progress[event.job_id] = entry
        self._entries.append(entry)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Numbered:
        """The oldest event still waiting; waits for one if there is none."""
        while True:
            while self._entries:
                entry = self._entries.popleft()
                event = entry.event
                if event is None:
                    continue
                if self._progress.get(event.job_id) is entry:
                    del self._progress[event.job_id]
                return entry.seq, event
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None


class _Fanout:
    """Local subscriber inboxes keyed by job and by account; shared by both buses."""

    def __init__(self) -> None:
        self.by_job: dict[uuid.UUID, set[Inbox]] = {}
        self.by_user: dict[uuid.UUID, set[Inbox]] = {}

    def deliver(self, seq: int, event: JobEvent) -> None:
        for inbox in self.by_job.get(event.job_id, ()):
            inbox.put_nowait((seq, event))
        for inbox in self.by_user.get(event.user_id, ()):
            inbox.put_nowait((seq, event))

    @staticmethod
    def add(table: dict[uuid.UUID, set[Inbox]], key: uuid.UUID) -> Inbox:
        inbox = Inbox()
        table.setdefault(key, set()).add(inbox)
        return inbox

    @staticmethod
    def remove(
        table: dict[uuid.UUID, set[Inbox]], key: uuid.UUID, inbox: Inbox
    ) -> None:
        inboxes = table.get(key)
        if inboxes is not None:
            inboxes.discard(inbox)
            if not inboxes:
                del table[key]


def publish_span(event: JobEvent) -> AbstractContextManager[Span]:
    """The span of one event's publication, in the trace of whatever sent it;
    none for PROGRESS, which comes once a step or preview: a long job's trace
    would be mostly those, and each span costs the job's run some 30 µs."""
    if event.type is EventType.PROGRESS:
        return tracing.span_off()
    return tracing.span(
        "event.publish",
        kind=SpanKind.PRODUCER,
        attributes={
            "darkroom.event.type": event.type.value,
            "darkroom.job.id": str(event.job_id),
        },
    )


class BusBase(ABC):
    """watch_job and watch_user over a fan-out; subclasses supply the snapshot."""

    def __init__(self) -> None:
        self._fanout = _Fanout()
        self._moved = asyncio.Event()

    @abstractmethod
    async def publish(self, event: JobEvent) -> None:
        """See EventBus.publish."""

    async def publish_many(self, events: Sequence[JobEvent]) -> None:
        """One by one; a bus with a network between overrides it."""
        for event in events:
            await self.publish(event)

    @abstractmethod
    async def queue_moved(self) -> None:
        """See EventBus.queue_moved."""

    async def next_queue_move(self) -> None:
        """See EventBus.next_queue_move."""
        await self._moved.wait()
        self._moved.clear()

    def followed(self) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        """See EventBus.followed."""
        return list(self._fanout.by_job), list(self._fanout.by_user)

    async def _listen(self) -> None:  # noqa: B027  # a hook; the memory bus needs none
        """Make sure live events reach the fan-out before a snapshot is read."""

    @abstractmethod
    async def _snapshot(self, job_id: uuid.UUID) -> Numbered | None:
        """The job's latest event with its sequence number, if any was kept."""

    async def watch_job(self, job_id: uuid.UUID) -> AsyncIterator[JobEvent]:
        """The snapshot, then live events, ending after the terminal one."""
        await self._listen()
        inbox = self._fanout.add(self._fanout.by_job, job_id)
        self._moved.set()  # a new follower learns the job's place now
        outputs = _SeenOutputs()
        try:
            last_seq = 0
            # Registered before reading: whatever follows the snapshot is queued.
            snapshot = await self._snapshot(job_id)
            if snapshot is not None:
                last_seq, event = snapshot
                outputs.first_time(event)
                yield event
                if event.type.is_terminal:
                    return
            while True:
                seq, event = await inbox.get()
                if seq == 0 and event.type is EventType.OUTPUT:
                    # Replayed from its row after an outage: new unless seen.
                    if outputs.first_time(event):
                        yield event
                    continue
                # An end always goes through: after Redis restarted empty the
                # numbers start again from 1, and an end read from a row has none.
                if seq <= last_seq and not event.type.is_terminal:
                    continue  # already covered by the snapshot
                last_seq = seq
                if not outputs.first_time(event):
                    continue
                yield event
                if event.type.is_terminal:
                    return
        finally:
            self._fanout.remove(self._fanout.by_job, job_id, inbox)

    async def watch_user(self, user_id: uuid.UUID) -> AsyncIterator[JobEvent]:
        """Live events of every job of one account, until the subscriber stops."""
        await self._listen()
        inbox = self._fanout.add(self._fanout.by_user, user_id)
        self._moved.set()  # as in watch_job, for the account's queued jobs
        outputs = _SeenOutputs()
        try:
            while True:
                _seq, event = await inbox.get()
                if outputs.first_time(event):
                    yield event
        finally:
            self._fanout.remove(self._fanout.by_user, user_id, inbox)


class _SeenOutputs:
    """The OUTPUT events one subscriber was given, by output id, so one replayed
    from its row after an outage is not given twice; the latest ids are kept."""

    LIMIT = 1000

    def __init__(self) -> None:
        self._ids: OrderedDict[object, None] = OrderedDict()

    def first_time(self, event: JobEvent) -> bool:
        """False for an OUTPUT event whose output was given already; True otherwise."""
        if event.type is not EventType.OUTPUT or event.output is None:
            return True
        key = event.output.get("id")
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self.LIMIT:
            self._ids.popitem(last=False)
        return True


class MemoryEventBus(BusBase):
    """The in-process bus: one event loop, no Redis (the embedded setup)."""

    # Snapshots kept for late subscribers; the oldest are forgotten first.
    MAX_SNAPSHOTS = 10_000

    def __init__(self) -> None:
        super().__init__()
        self._last: OrderedDict[uuid.UUID, Numbered] = OrderedDict()

    async def publish(self, event: JobEvent) -> None:
        """Number the event, keep it as the snapshot and hand it to subscribers."""
        with publish_span(event):
            previous = self._last.get(event.job_id)
            if _stale_queued(event, None if previous is None else previous[1].status):
                return
            self._last.pop(event.job_id, None)
            seq = 1 if previous is None else previous[0] + 1
            self._last[event.job_id] = (seq, event)
            while len(self._last) > self.MAX_SNAPSHOTS:
                self._last.popitem(last=False)
            self._fanout.deliver(seq, event)
        EVENTS_PUBLISHED.labels(type=event.type.value).inc()

    async def _snapshot(self, job_id: uuid.UUID) -> Numbered | None:
        return self._last.get(job_id)

    async def queue_moved(self) -> None:
        """Wake this process's place updates: there is no other process."""
        self._moved.set()

    async def close(self) -> None:
        """Nothing to release."""


def _stale_queued(event: JobEvent, last: JobStatus | None) -> bool:
    """A queue-place update that lost a race with the job's start: drop it."""
    return event.type is EventType.QUEUED and last not in (None, JobStatus.QUEUED)
