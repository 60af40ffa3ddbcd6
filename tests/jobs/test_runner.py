"""The in-process runner: the same tasks, without Redis."""

import asyncio
import dataclasses

from core.enums import EventType, JobSource, JobStatus
from core.settings import Settings
from darkroom.services import close_jobs, open_jobs, open_storage
from engine.catalog import Catalog
from jobs.events import MemoryEventBus
from jobs.params import GenerationParams
from jobs.reads import get_job, wait_for_job
from jobs.services import Jobs
from jobs.submission import submit_generation
from jobs.worker.engine import Engine
from jobs.worker.inprocess import InProcessQueue

from .conftest import Accounts, claimed_together

TINY = GenerationParams(prompt="a red fox", width=64, height=64, inference_steps=2)


async def test_the_in_process_runner_runs_a_job_end_to_end(
    job_settings: Settings, catalog: Catalog, accounts: Accounts
):
    # given the jobs facade opened without Redis, as `darkroom serve` does
    settings = job_settings.model_copy(update={"redis_url": ""})
    jobs = await open_jobs(
        settings,
        db=accounts.db,
        storage=open_storage(settings),
        catalog=catalog,
        in_process=True,
    )
    try:
        alice = await accounts.caller("alice@example.com")
        # when alice submits a job and waits for it
        params = dataclasses.replace(TINY, seed=5)
        job = (
            await submit_generation(
                jobs, caller=alice, params=params, source=JobSource.WEB
            )
        ).job
        await wait_for_job(jobs, job_id=job.id, timeout=60)
        # then it succeeded, its images are stored and a late watcher sees the end
        done = await get_job(jobs, user_id=alice.user.id, job_id=job.id)
        assert (done.status, done.cost, done.refunded) == (JobStatus.SUCCEEDED, 2, 0)
        for index in range(2):
            assert await jobs.storage.exists(f"outputs/{job.id}/{index}.png")
        late = [e async for e in jobs.events.watch_job(job.id)]
        assert [e.type for e in late] == [EventType.SUCCEEDED]
        assert await accounts.balance(alice) == 48
    finally:
        await close_jobs(jobs)


async def test_the_in_process_runner_runs_compatible_queued_jobs_in_one_engine_call(
    job_settings: Settings, catalog: Catalog, accounts: Accounts
):
    # given two compatible jobs queued in memory before the runner starts
    settings = job_settings.model_copy(update={"redis_url": ""})
    runner = InProcessQueue()
    jobs = Jobs(
        accounts.db, settings, catalog, runner, MemoryEventBus(), open_storage(settings)
    )
    runner.bind(jobs, Engine(catalog, cache_dir=settings.data_dir / "models"))
    alice = await accounts.caller("alice@example.com")
    queued = [
        (
            await submit_generation(
                jobs,
                caller=alice,
                params=dataclasses.replace(TINY, seed=seed),
                source=JobSource.WEB,
            )
        ).job
        for seed in (1, 2)
    ]
    try:
        # when the runner starts and they finish
        await runner.start()
        # every delivery run, so that closing cuts nothing short
        await asyncio.wait_for(runner.join(), 120)
        # then both succeeded, claimed together once each, with their own images
        rows = [await accounts.job(job.id) for job in queued]
        assert [(r.status, r.attempts) for r in rows] == [(JobStatus.SUCCEEDED, 1)] * 2
        assert claimed_together(rows)
        for job in queued:
            for index in range(2):
                assert await jobs.storage.exists(f"outputs/{job.id}/{index}.png")
        assert await accounts.balance(alice) == 46
    finally:
        await close_jobs(jobs)
