"""Claims on PostgreSQL by two workers at once: each locks only what it takes."""

import asyncio
import dataclasses

import pytest

from core.enums import JobSource
from core.models import Job
from jobs.claiming import claim_companions, claim_job
from jobs.lifecycle import stale_before
from jobs.params import GenerationParams
from jobs.services import Jobs
from jobs.submission import submit_generation

from .conftest import Accounts

TINY = GenerationParams(
    prompt="a red fox", width=64, height=64, inference_steps=3, num_outputs=2
)


async def _queued(jobs: Jobs, accounts: Accounts, count: int) -> list[Job]:
    queued = []
    for i in range(count):
        caller = await accounts.caller(f"user{i}@example.com")
        submitted = await submit_generation(
            jobs,
            caller=caller,
            params=dataclasses.replace(TINY, seed=i),
            source=JobSource.API,
        )
        queued.append(submitted.job)
    return queued


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_a_second_worker_batches_the_next_jobs_while_the_first_still_claims(
    jobs: Jobs, accounts: Accounts
) -> None:
    # given eight compatible queued jobs of two images each, and room for eight
    # images per engine call (a leader and three companions)
    queued = await _queued(jobs, accounts, 8)
    ids = [job.id for job in queued]
    # when the first worker has claimed the first job and its companions, and
    # has not committed yet
    async with jobs.db.session() as first:
        lead = await claim_job(
            first,
            job_id=ids[0],
            worker_id="w1",
            stale_before=stale_before(jobs.settings),
        )
        assert lead is not None
        taken = await claim_companions(
            first, leader=lead.job, worker_id="w1", max_images=8
        )
        assert [c.job.id for c in taken] == ids[1:4]

        # then a second worker, led by the last job, takes the next three: the
        # rows the first looked at but did not take are not held from it
        async def second_worker() -> list[Job]:
            async with jobs.db.session() as second:
                other = await claim_job(
                    second,
                    job_id=ids[7],
                    worker_id="w2",
                    stale_before=stale_before(jobs.settings),
                )
                assert other is not None
                more = await claim_companions(
                    second, leader=other.job, worker_id="w2", max_images=8
                )
                return [c.job for c in more]

        companions = await asyncio.wait_for(second_worker(), 10)
    assert [job.id for job in companions] == ids[4:7]
