"""The sweeper: expired and dead jobs are failed and refunded once; lost ones re-enqueued."""

import asyncio
import dataclasses
from datetime import timedelta

import sqlalchemy as sa
from arq.connections import ArqRedis
from sqlmodel import col

from core.enums import JobSource, JobStatus
from core.models import Job, utcnow
from jobs.params import GenerationParams
from jobs.queue import ARQ_QUEUE
from jobs.services import Jobs
from jobs.submission import submit_generation
from jobs.sweeper import sweep

from .conftest import Accounts

TINY = GenerationParams(prompt="a red fox", width=64, height=64, inference_steps=2)


async def _set(jobs: Jobs, job_id, **values) -> None:
    async with jobs.db.session() as session:
        await session.execute(
            sa.update(Job).where(col(Job.id) == job_id).values(**values)
        )


async def test_two_sweepers_fail_an_old_queued_job_once_and_refund_it_once(
    jobs: Jobs, accounts: Accounts
):
    # given a job queued for longer than the expiry
    alice = await accounts.caller("alice@example.com")
    job = (
        await submit_generation(jobs, caller=alice, params=TINY, source=JobSource.API)
    ).job
    await _set(jobs, job.id, created_at=utcnow() - timedelta(hours=1))
    # when two sweepers run at once
    reports = await asyncio.gather(sweep(jobs), sweep(jobs))
    # then it expired once, with one refund
    assert sum(r.expired for r in reports) == 1
    done = await accounts.job(job.id)
    assert (done.status, done.error_code, done.refunded) == (
        JobStatus.FAILED,
        "EXPIRED",
        2,
    )
    assert await accounts.balance(alice) == 50


async def test_a_job_whose_worker_keeps_dying_times_out_and_is_refunded(
    jobs: Jobs, accounts: Accounts
):
    # given a running job with a stale heartbeat that has had all its attempts
    alice = await accounts.caller("alice@example.com")
    job = (
        await submit_generation(jobs, caller=alice, params=TINY, source=JobSource.API)
    ).job
    stale = utcnow() - timedelta(minutes=5)
    await _set(jobs, job.id, status=JobStatus.RUNNING, heartbeat_at=stale, attempts=3)
    # when the sweeper runs
    report = await sweep(jobs)
    # then the job failed with TIMEOUT and its credits came back
    assert report.timed_out == 1
    done = await accounts.job(job.id)
    assert (done.status, done.error_code, done.refunded) == (
        JobStatus.FAILED,
        "TIMEOUT",
        2,
    )
    assert await accounts.balance(alice) == 50


async def test_a_dead_run_is_requeued_and_a_lost_enqueue_is_repaired(
    jobs: Jobs, accounts: Accounts
):
    # given one job whose worker died and one that never reached Redis
    alice = await accounts.caller("alice@example.com")
    dead = (
        await submit_generation(jobs, caller=alice, params=TINY, source=JobSource.API)
    ).job
    lost = (
        await submit_generation(
            jobs,
            caller=alice,
            params=dataclasses.replace(TINY, seed=1),
            source=JobSource.API,
        )
    ).job
    stale = utcnow() - timedelta(minutes=5)
    await _set(jobs, dead.id, status=JobStatus.RUNNING, heartbeat_at=stale, attempts=1)
    arq: ArqRedis = jobs.queue.redis  # type: ignore[attr-defined]
    await arq.zrem(ARQ_QUEUE, str(lost.id))
    await arq.delete(f"arq:job:{lost.id}")
    # when the sweeper runs
    report = await sweep(jobs)
    # then the dead run is offered again under a fresh delivery id, the lost one again
    assert report.requeued == 1
    assert await arq.zscore(ARQ_QUEUE, f"{dead.id}:1") is not None
    assert await arq.zscore(ARQ_QUEUE, str(lost.id)) is not None
    # and nothing was refunded
    assert await accounts.balance(alice) == 46
