"""Queue places are republished whenever the queue moves."""

import asyncio
import uuid

from core.enums import EventType, JobSource, JobStatus
from core.models import utcnow
from jobs.ending import cancel_job
from jobs.events import JobEvent
from jobs.params import GenerationParams
from jobs.positions import queue_position
from jobs.services import Jobs
from jobs.submission import submit_generation

from .conftest import Accounts, run_burst_worker, watch

ONE_STEP = GenerationParams(
    prompt="a red fox", width=64, height=64, inference_steps=1, num_outputs=1
)


def places(events: list[JobEvent]) -> list[int | None]:
    return [e.queue_position for e in events if e.type is EventType.QUEUED]


async def test_places_move_up_as_the_jobs_ahead_start(jobs: Jobs, accounts: Accounts):
    # given three queued jobs of three accounts, the last two followed, on a
    # worker that runs each job alone (together they would start at once)
    jobs.settings = jobs.settings.model_copy(update={"batch_max_images": 1})
    callers = [await accounts.caller(f"user{i}@example.com") for i in range(3)]
    submitted = [
        (
            await submit_generation(
                jobs, caller=c, params=ONE_STEP, source=JobSource.API
            )
        ).job
        for c in callers
    ]
    assert [(await queue_position(jobs, job=j)).position for j in submitted] == [
        1,
        2,
        3,
    ]
    watching = [await watch(jobs, j.id) for j in submitted[1:]]
    # when a worker takes them one by one
    await run_burst_worker(jobs)
    second, third = [await asyncio.wait_for(w, 10) for w in watching]
    # then each start moved the ones behind up by one, before their own start
    assert places(second) == [2, 1]
    assert places(third) == [3, 2, 1]
    for events in (second, third):
        types = [e.type for e in events]
        assert types.index(EventType.STARTED) == len(places(events))
        assert types[-1] is EventType.SUCCEEDED
    # and the update after a run had finished carries an ETA
    assert [e.eta_seconds is not None for e in third[:3]] == [False, False, True]


async def test_a_cancelled_queued_job_moves_the_ones_behind_it_up(
    jobs: Jobs, accounts: Accounts
):
    # given three queued jobs of three accounts, the last two followed
    callers = [await accounts.caller(f"user{i}@example.com") for i in range(3)]
    submitted = [
        (
            await submit_generation(
                jobs, caller=c, params=ONE_STEP, source=JobSource.API
            )
        ).job
        for c in callers
    ]
    watching = [await watch(jobs, j.id) for j in submitted[1:]]
    # when the first is cancelled, then the second, then the third
    for caller, job in zip(callers, submitted, strict=True):
        await cancel_job(jobs, caller=caller, job_id=job.id)
    second, third = [await asyncio.wait_for(w, 5) for w in watching]
    # then each cancel moved the ones behind it up by one
    assert places(second) == [2, 1]
    assert places(third) == [3, 2, 1]
    assert second[-1].type is third[-1].type is EventType.CANCELLED


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
