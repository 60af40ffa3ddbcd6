"""Batching on a real arq worker: compatible queued jobs share one engine call,
each with its own events, outputs, cancel and charges."""

import asyncio
import dataclasses
import itertools

import pytest

from core.enums import EventType, JobSource, JobStatus
from core.models import Job
from core.tokens import Caller
from jobs.ending import cancel_job
from jobs.events import JobEvent
from jobs.params import GenerationParams
from jobs.services import Jobs
from jobs.submission import submit_generation

from .conftest import Accounts, claimed_together, run_burst_worker, watch
from .test_tasks import outputs_of

TINY = GenerationParams(prompt="a red fox", width=64, height=64, inference_steps=3)


async def submit(jobs: Jobs, caller: Caller, **changes: object) -> Job:
    params = dataclasses.replace(TINY, **changes)
    submitted = await submit_generation(
        jobs, caller=caller, params=params, source=JobSource.API
    )
    return submitted.job


def timeline(events: list[JobEvent]) -> list[tuple[EventType, int | None]]:
    return [(e.type, e.step) for e in events]


def first(events: list[JobEvent], kind: EventType) -> JobEvent:
    return next(e for e in events if e.type is kind)


async def test_compatible_queued_jobs_share_one_engine_call_and_keep_their_own_events(
    jobs: Jobs, accounts: Accounts
):
    # given three compatible jobs from two accounts, queued, each watched
    alice = await accounts.caller("alice@example.com")
    bob = await accounts.caller("bob@example.com")
    queued = [
        await submit(jobs, alice, num_outputs=2, seed=10),
        await submit(jobs, alice, num_outputs=1, seed=20, prompt="a grey wolf"),
        await submit(jobs, bob, num_outputs=1, seed=30),
    ]
    watching = [await watch(jobs, job.id) for job in queued]
    # when one worker drains the queue
    await run_burst_worker(jobs)
    seen = [await asyncio.wait_for(w, 10) for w in watching]
    # then each job got its own complete, ordered events
    steps = [(EventType.PROGRESS, s) for s in (1, 2, 3)]
    for job, events in zip(queued, seen, strict=True):
        assert timeline(events) == [
            (EventType.QUEUED, 0),
            (EventType.STARTED, 0),
            *steps,
            *[(EventType.OUTPUT, 3)] * job.cost,
            (EventType.SUCCEEDED, 3),
        ]
    # and they ran in one engine call: claimed together, and every job's steps
    # began before any job's images came out; the later arq deliveries of the
    # two taken along found them claimed and did nothing (one attempt each)
    rows = [await accounts.job(job.id) for job in queued]
    assert claimed_together(rows)
    assert [(r.status, r.attempts) for r in rows] == [(JobStatus.SUCCEEDED, 1)] * 3
    last_start = max(first(events, EventType.PROGRESS).at for events in seen)
    assert last_start < min(first(events, EventType.OUTPUT).at for events in seen)
    # and each job has its own images with its own seeds and prompt
    stored = [await outputs_of(jobs, job.id) for job in queued]
    assert [[(o.index, o.seed, o.prompt) for o in out] for out in stored] == [
        [(0, 10, "a red fox"), (1, 11, "a red fox")],
        [(0, 20, "a grey wolf")],
        [(0, 30, "a red fox")],
    ]
    # and each account paid for its own images, exactly once
    assert (await accounts.balance(alice), await accounts.balance(bob)) == (47, 49)


async def test_jobs_that_differ_in_size_or_steps_do_not_share_an_engine_call(
    jobs: Jobs, accounts: Accounts
):
    # given a job and two that each differ from it in one setting the call shares
    alice = await accounts.caller("alice@example.com")
    queued = [
        await submit(jobs, alice, num_outputs=1),
        await submit(jobs, alice, num_outputs=1, width=128),
        await submit(jobs, alice, num_outputs=1, inference_steps=2),
    ]
    # when one worker drains the queue
    await run_burst_worker(jobs)
    # then all succeeded, each claimed on its own, one after another
    rows = sorted(
        [await accounts.job(job.id) for job in queued], key=lambda r: r.started_at
    )
    assert [r.status for r in rows] == [JobStatus.SUCCEEDED] * 3
    for earlier, later in itertools.pairwise(rows):
        assert earlier.finished_at is not None
        assert later.started_at is not None
        assert earlier.finished_at <= later.started_at


async def test_a_batch_takes_jobs_only_while_their_images_fit_the_cap(
    jobs: Jobs, accounts: Accounts
):
    # given a cap of four images and three compatible two-image jobs
    jobs.settings = jobs.settings.model_copy(update={"batch_max_images": 4})
    alice = await accounts.caller("alice@example.com")
    queued = [await submit(jobs, alice, num_outputs=2, seed=i) for i in range(3)]
    # when one worker drains the queue
    await run_burst_worker(jobs)
    # then the first two ran together and the third after them
    one, two, three = [await accounts.job(job.id) for job in queued]
    assert claimed_together([one, two])
    assert one.finished_at is not None
    assert three.started_at is not None
    assert one.finished_at <= three.started_at
    assert [len(await outputs_of(jobs, job.id)) for job in queued] == [2, 2, 2]


async def test_a_cap_of_one_image_runs_every_job_alone(jobs: Jobs, accounts: Accounts):
    # given batching turned off and two compatible one-image jobs
    jobs.settings = jobs.settings.model_copy(update={"batch_max_images": 1})
    alice = await accounts.caller("alice@example.com")
    queued = [await submit(jobs, alice, num_outputs=1, seed=i) for i in range(2)]
    # when one worker drains the queue
    await run_burst_worker(jobs)
    # then the second started only once the first had finished
    one, two = [await accounts.job(job.id) for job in queued]
    assert (one.status, two.status) == (JobStatus.SUCCEEDED, JobStatus.SUCCEEDED)
    assert one.finished_at is not None
    assert two.started_at is not None
    assert one.finished_at <= two.started_at


async def test_cancelling_one_job_of_a_batch_refunds_it_alone_while_the_rest_finish(
    jobs: Jobs, accounts: Accounts
):
    # given three compatible long jobs queued by alice and bob, each watched
    alice = await accounts.caller("alice@example.com")
    bob = await accounts.caller("bob@example.com")
    long = {"width": 256, "height": 256, "inference_steps": 30}
    keep = await submit(jobs, alice, num_outputs=1, seed=1, **long)
    drop = await submit(jobs, alice, num_outputs=2, seed=2, **long)
    other = await submit(jobs, bob, num_outputs=1, seed=3, **long)
    watching = {job.id: await watch(jobs, job.id) for job in (keep, drop, other)}
    worker = asyncio.create_task(run_burst_worker(jobs))
    # when alice cancels one of them after its second step
    async for event in jobs.events.watch_job(drop.id):
        if event.type is EventType.PROGRESS and (event.step or 0) >= 2:
            await cancel_job(jobs, caller=alice, job_id=drop.id)
            break
    # A guard against a hang, not a timing: a loaded machine runs far slower.
    await asyncio.wait_for(worker, 240)
    seen = {job_id: await asyncio.wait_for(w, 5) for job_id, w in watching.items()}
    # then it ended cancelled, short of its last step, refunded in full, no images
    dropped = seen[drop.id]
    progress = [e.step for e in dropped if e.type is EventType.PROGRESS]
    assert progress == sorted(set(progress))
    assert max(progress) < 30
    assert [e.type for e in dropped[-1:]] == [EventType.CANCELLED]
    assert (dropped[-1].charged, dropped[-1].refunded) == (0, 2)
    assert await outputs_of(jobs, drop.id) == []
    # and the other two, claimed with it, ran every step and delivered their images
    rows = {j.id: await accounts.job(j.id) for j in (keep, drop, other)}
    assert claimed_together(list(rows.values()))
    for job_id in (keep.id, other.id):
        assert rows[job_id].status is JobStatus.SUCCEEDED
        steps = [e.step for e in seen[job_id] if e.type is EventType.PROGRESS]
        assert steps == list(range(1, 31))
        assert len(await outputs_of(jobs, job_id)) == 1
    # and only the cancelled job's credits came back
    assert rows[drop.id].status is JobStatus.CANCELLED
    assert (await accounts.balance(alice), await accounts.balance(bob)) == (49, 49)


# close_worker silences this warning with catch_warnings, which two workers
# closing at once in one thread undo for each other.
@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")
async def test_two_workers_taking_batches_at_once_run_every_job_exactly_once(
    jobs: Jobs, accounts: Accounts
):
    # given eight compatible one-image jobs and batches of at most two images
    jobs.settings = jobs.settings.model_copy(
        update={"batch_max_images": 2, "parallel_pro": 8}
    )
    alice = await accounts.caller("alice@example.com")
    queued = [
        await submit(jobs, alice, num_outputs=1, inference_steps=1, seed=i)
        for i in range(8)
    ]
    # when two workers drain the queue side by side
    await asyncio.gather(run_burst_worker(jobs), run_burst_worker(jobs))
    # then every job ran once, in some batch, and was charged once
    rows = [await accounts.job(job.id) for job in queued]
    assert [(r.status, r.attempts) for r in rows] == [(JobStatus.SUCCEEDED, 1)] * 8
    assert [len(await outputs_of(jobs, job.id)) for job in queued] == [1] * 8
    assert await accounts.balance(alice) == 42
