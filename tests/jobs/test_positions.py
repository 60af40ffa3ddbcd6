"""Followed queued jobs are told their new places as the queue moves."""

import asyncio
import time
import uuid

from core.enums import EventType, JobSource, JobStatus
from core.metrics import EVENTS_PUBLISHED
from core.models import Job, utcnow
from core.tokens import Caller
from jobs.ending import cancel_job
from jobs.events import JobEvent
from jobs.params import GenerationParams
from jobs.positions import PlaceUpdates, queue_position, updating_places
from jobs.services import Jobs
from jobs.submission import submit_generation

from .conftest import Accounts, run_burst_worker, watch

ONE_STEP = GenerationParams(
    prompt="a red fox", width=64, height=64, inference_steps=1, num_outputs=1
)


def places(events: list[JobEvent]) -> list[int | None]:
    return [e.queue_position for e in events if e.type is EventType.QUEUED]


async def submit_one_each(
    jobs: Jobs, accounts: Accounts, count: int
) -> list[tuple[Caller, Job]]:
    """`count` queued jobs, each of its own account (so none waits in an overflow)."""
    submitted = []
    for i in range(count):
        caller = await accounts.caller(f"user{i}@example.com")
        result = await submit_generation(
            jobs, caller=caller, params=ONE_STEP, source=JobSource.API
        )
        submitted.append((caller, result.job))
    return submitted


def queued_published() -> float:
    return EVENTS_PUBLISHED.labels(type=EventType.QUEUED.value)._value.get()


async def test_places_move_up_as_the_jobs_ahead_start(jobs: Jobs, accounts: Accounts):
    # given three queued jobs of three accounts, the last two followed, on a
    # worker that runs each job alone (together they would start at once)
    jobs.settings = jobs.settings.model_copy(update={"batch_max_images": 1})
    submitted = [job for _caller, job in await submit_one_each(jobs, accounts, 3)]
    assert [(await queue_position(jobs, job=j)).position for j in submitted] == [
        1,
        2,
        3,
    ]
    async with updating_places(jobs):
        watching = [await watch(jobs, j.id) for j in submitted[1:]]
        # when a worker takes them one by one
        await run_burst_worker(jobs)
        second, third = [await asyncio.wait_for(w, 10) for w in watching]
    # then their places only went up (a new follower's first update may repeat
    # the snapshot's), each told before the job's own start
    for events, first in ((second, 2), (third, 3)):
        told = places(events)
        assert told[0] == first
        assert told == sorted(told, reverse=True)
        types = [e.type for e in events]
        assert types.index(EventType.STARTED) == len(told)
        assert types[-1] is EventType.SUCCEEDED


async def test_a_followed_job_deep_in_the_queue_learns_each_move_within_a_second(
    jobs: Jobs, accounts: Accounts
):
    # given 250 queued jobs, the last one followed, and its place told
    submitted = await submit_one_each(jobs, accounts, 250)
    last_caller, last = submitted[-1]
    async with updating_places(jobs):
        following = await watch(jobs, last.id)
        await asyncio.sleep(1)
        before = queued_published()
        # when the first five are cancelled, one by one
        for caller, job in submitted[:5]:
            await cancel_job(jobs, caller=caller, job_id=job.id)
        cancelled = time.monotonic()
        # then the follower is told its new place within a second
        async with asyncio.timeout(5):
            while await queue_position_told(jobs, last) != 245:
                await asyncio.sleep(0.02)
        assert time.monotonic() - cancelled < 1.0
        # and nobody else's place went out: only the followed job's, once or so
        # per update (the cancels' own ends are not QUEUED events)
        assert 1 <= queued_published() - before <= 5
        await cancel_job(jobs, caller=last_caller, job_id=last.id)
        events = await asyncio.wait_for(following, 5)
    assert places(events)[0] == 250
    assert places(events)[-1] == 245


async def queue_position_told(jobs: Jobs, job: Job) -> int | None:
    """The place the job's latest event told its followers."""
    async for event in jobs.events.watch_job(job.id):
        return event.queue_position
    return None


async def test_a_place_is_told_only_when_it_changed(jobs: Jobs, accounts: Accounts):
    # given two queued jobs, the second followed and told its place
    (first_caller, first), (second_caller, second) = await submit_one_each(
        jobs, accounts, 2
    )
    updates = PlaceUpdates(jobs, interval=0)
    following = await watch(jobs, second.id)
    assert await updates.update() == 1
    # when the queue is read again without moving, then nothing goes out
    assert await updates.update() == 0
    # and when the job ahead leaves, the new place does
    await cancel_job(jobs, caller=first_caller, job_id=first.id)
    assert await updates.update() == 1
    await cancel_job(jobs, caller=second_caller, job_id=second.id)
    assert places(await asyncio.wait_for(following, 5)) == [2, 2, 1]


async def test_a_late_place_update_never_follows_a_jobs_start(jobs: Jobs):
    # given a job whose latest event says it started
    job_id, user_id = uuid.uuid4(), uuid.uuid4()
    started = JobEvent(job_id, user_id, EventType.STARTED, JobStatus.RUNNING, utcnow())
    await jobs.events.publish(started)
    # when a place update computed before the start arrives after it
    late = JobEvent(
        job_id, user_id, EventType.QUEUED, JobStatus.QUEUED, utcnow(), queue_position=1
    )
    await jobs.events.publish(late)
    # then it is dropped: the snapshot still says STARTED
    async for event in jobs.events.watch_job(job_id):
        assert event.type is EventType.STARTED
        break


async def test_events_published_together_arrive_as_if_published_one_by_one(jobs: Jobs):
    # given a queued job and a started one, both followed
    user_id = uuid.uuid4()
    queued, started = uuid.uuid4(), uuid.uuid4()

    def event(job_id: uuid.UUID, kind: EventType, status: JobStatus, **more):
        return JobEvent(job_id, user_id, kind, status, utcnow(), **more)

    await jobs.events.publish(
        event(queued, EventType.QUEUED, JobStatus.QUEUED, queue_position=3)
    )
    await jobs.events.publish(event(started, EventType.STARTED, JobStatus.RUNNING))
    following = [await watch(jobs, queued), await watch(jobs, started)]
    # when a batch moves one up, carries a late place for the other, and ends both
    await jobs.events.publish_many(
        [
            event(queued, EventType.QUEUED, JobStatus.QUEUED, queue_position=2),
            event(started, EventType.QUEUED, JobStatus.QUEUED, queue_position=1),
            event(queued, EventType.SUCCEEDED, JobStatus.SUCCEEDED),
            event(started, EventType.FAILED, JobStatus.FAILED),
        ]
    )
    seen = [await asyncio.wait_for(task, 5) for task in following]
    # then each follower got its job's events in order, the late place dropped
    assert [(e.type, e.queue_position) for e in seen[0]] == [
        (EventType.QUEUED, 3),
        (EventType.QUEUED, 2),
        (EventType.SUCCEEDED, None),
    ]
    assert [e.type for e in seen[1]] == [EventType.STARTED, EventType.FAILED]
