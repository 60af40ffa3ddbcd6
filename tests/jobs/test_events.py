"""Event buses: what a subscriber that falls behind gets, and what a process skips."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from core.enums import EventType, JobStatus
from jobs.events import JobEvent, MemoryEventBus
from jobs.queue import JOB_EVENTS
from jobs.redis_bus import RedisEventBus

USER = uuid.uuid4()
Bus = MemoryEventBus | RedisEventBus


def event(
    job_id: uuid.UUID, type_: EventType, step: int | None = None, **fields: object
) -> JobEvent:
    status = {
        EventType.QUEUED: JobStatus.QUEUED,
        EventType.SUCCEEDED: JobStatus.SUCCEEDED,
    }.get(type_, JobStatus.RUNNING)
    return JobEvent(
        job_id=job_id,
        user_id=USER,
        type=type_,
        status=status,
        at=datetime.now(UTC),
        step=step,
        **fields,  # type: ignore[arg-type]  # JobEvent's optional fields
    )


def progress(job_id: uuid.UUID, step: int) -> JobEvent:
    return event(job_id, EventType.PROGRESS, step)


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Bus]:
    if request.param == "memory":
        yield MemoryEventBus()
        return
    redis = Redis.from_url(redis_url)
    redis_bus = RedisEventBus(redis)
    yield redis_bus
    await redis_bus.close()
    await redis.aclose()


async def settle(bus: Bus) -> None:
    """Let published events reach the subscribers' inboxes."""
    if isinstance(bus, RedisEventBus):
        marker = uuid.uuid4()
        seen = bus.watch_job(marker)
        waiter = asyncio.ensure_future(anext(seen))
        await asyncio.sleep(0)
        await bus.publish(event(marker, EventType.QUEUED))
        await asyncio.wait_for(waiter, 5)  # after everything published before it
        await seen.aclose()  # type: ignore[attr-defined]  # an async generator
    else:
        await asyncio.sleep(0)


async def take(events: AsyncIterator[JobEvent], count: int) -> list[JobEvent]:
    return [await asyncio.wait_for(anext(events), 5) for _ in range(count)]


def described(events: list[JobEvent]) -> list[tuple[str, int | None]]:
    return [(e.type.value, e.step) for e in events]


async def test_a_subscriber_behind_gets_the_latest_progress_and_every_other_event(
    bus: Bus,
) -> None:
    # given a subscriber to a queued job that has stopped reading
    job = uuid.uuid4()
    await bus.publish(event(job, EventType.QUEUED))
    events = bus.watch_job(job)
    assert described(await take(events, 1)) == [("QUEUED", None)]
    # when the job starts, makes progress and stores an image meanwhile
    await bus.publish(event(job, EventType.STARTED))
    for step in (1, 2, 3):
        await bus.publish(progress(job, step))
    await bus.publish(event(job, EventType.OUTPUT, 3))
    for step in (4, 5):
        await bus.publish(progress(job, step))
    await bus.publish(event(job, EventType.SUCCEEDED))
    await settle(bus)
    # then it reads each event but the stale steps, in publishing order
    assert described([e async for e in events]) == [
        ("STARTED", None),
        ("OUTPUT", 3),
        ("PROGRESS", 5),
        ("SUCCEEDED", None),
    ]


async def test_a_subscriber_keeping_up_gets_every_step(bus: Bus) -> None:
    # given a subscriber reading as fast as events come
    job = uuid.uuid4()
    await bus.publish(event(job, EventType.QUEUED))
    events = bus.watch_job(job)
    await take(events, 1)
    # when steps are published one at a time
    seen = []
    for step in (1, 2, 3):
        await bus.publish(progress(job, step))
        seen += await take(events, 1)
    # then none is skipped
    assert described(seen) == [("PROGRESS", 1), ("PROGRESS", 2), ("PROGRESS", 3)]
    await events.aclose()  # type: ignore[attr-defined]  # an async generator


async def test_progress_is_conflated_per_job_for_an_account_subscriber(
    bus: Bus,
) -> None:
    # given a subscriber to an account with two running jobs and a queued one
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    events = bus.watch_user(USER)
    waiter = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.1)  # subscribed
    await bus.publish(progress(first, 1))
    await asyncio.wait_for(waiter, 5)
    # when steps and queue places pile up while it is behind
    await bus.publish(progress(first, 2))
    await bus.publish(progress(second, 1))
    await bus.publish(event(third, EventType.QUEUED, queue_position=2))
    await bus.publish(event(third, EventType.QUEUED, queue_position=1))
    await bus.publish(progress(first, 3))
    await bus.publish(progress(second, 2))
    await settle(bus)
    # then each job's latest step comes, and every non-PROGRESS event
    got = await take(events, 4)
    assert [(e.job_id, e.type.value, e.step, e.queue_position) for e in got] == [
        (third, "QUEUED", None, 2),
        (third, "QUEUED", None, 1),
        (first, "PROGRESS", 3, None),
        (second, "PROGRESS", 2, None),
    ]
    await events.aclose()  # type: ignore[attr-defined]  # an async generator


async def test_a_message_for_a_job_nobody_here_follows_is_not_decoded(
    redis_url: str,
) -> None:
    # given a process following one job on Redis
    redis = Redis.from_url(redis_url)
    bus = RedisEventBus(redis)
    watched = uuid.uuid4()
    await bus.publish(event(watched, EventType.QUEUED))
    events = bus.watch_job(watched)
    await take(events, 1)
    try:
        # when another job's channel carries something no decoder would accept
        channel = JOB_EVENTS.format(job_id=uuid.uuid4())
        await redis.publish(channel, "1|not json")
        await bus.publish(event(watched, EventType.STARTED))
        # then the reader skipped it unread and still delivers the followed job
        assert described(await take(events, 1)) == [("STARTED", None)]
    finally:
        await events.aclose()  # type: ignore[attr-defined]  # an async generator
        await bus.close()
        await redis.aclose()
