"""JobRun's helpers end with the run, and a cancel of the run is never swallowed."""

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from jobs.worker.execution import JobRun


class StuckBus:
    """An event bus whose publish never returns, like a Redis that stopped answering."""

    def __init__(self) -> None:
        self.publishing = asyncio.Event()

    async def publish(self, event: Any) -> None:
        self.publishing.set()
        await asyncio.Event().wait()


class NoCancel:
    async def cancel_requested(self, job_id: uuid.UUID) -> bool:
        return False


def fake_jobs(bus: StuckBus) -> Any:
    settings = SimpleNamespace(
        heartbeat_seconds=60, job_timeout_seconds=600, progress_interval_seconds=0
    )
    return SimpleNamespace(
        events=bus, queue=NoCancel(), settings=settings, db=None, deliveries=None
    )


def fake_job() -> Any:
    return SimpleNamespace(id=uuid.uuid4(), user_id=uuid.uuid4(), total_steps=2, cost=1)


async def test_a_run_cancelled_while_sending_its_last_events_ends_cancelled():
    # given a run that has finished its work and waits for its events to go out
    bus = StuckBus()
    runs: list[JobRun] = []

    async def job_task() -> str:
        async with JobRun(fake_jobs(bus), fake_job(), worker_id="w") as run:
            runs.append(run)
        return "carried on after the cancel"

    task = asyncio.create_task(job_task())
    await asyncio.wait_for(bus.publishing.wait(), 5)
    # when the task is cancelled (arq does this on SIGTERM)
    task.cancel()
    # then the cancellation reaches the task's caller, and no helper is left running
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert task.cancelled()
    assert all(helper.done() for helper in runs[0]._tasks)


async def test_a_run_left_on_a_cancel_does_not_wait_for_its_events():
    # given a run whose engine call is cancelled while an event is stuck
    bus = StuckBus()

    async def job_task() -> None:
        async with JobRun(fake_jobs(bus), fake_job(), worker_id="w"):
            await asyncio.Event().wait()  # the engine call

    task = asyncio.create_task(job_task())
    await asyncio.wait_for(bus.publishing.wait(), 5)
    # when the task is cancelled
    task.cancel()
    # then it ends at once, cancelled, without draining the stuck publisher
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


class InstantBus:
    async def publish(self, event: Any) -> None:
        pass


async def test_a_run_ends_even_when_redis_swallows_the_cancel_of_its_watch(redis_url):
    # given runs whose cancel watch polls a real Redis, as on a worker; redis-py
    # returns normally from about one in four commands cancelled midway
    from arq.connections import ArqRedis

    from jobs.arq_queue import ArqQueue

    queue = ArqQueue(ArqRedis.from_url(redis_url, socket_timeout=15))
    jobs = fake_jobs(InstantBus())
    jobs.queue = queue
    try:
        for n in range(200):
            # when each leaves within 2 ms, its watch often mid-command
            async def job_task(delay: float) -> None:
                async with JobRun(jobs, fake_job(), worker_id="w"):
                    await asyncio.sleep(delay)

            # then every one of them ends
            await asyncio.wait_for(job_task(n % 20 / 10_000), 5)
    finally:
        await queue.close()
