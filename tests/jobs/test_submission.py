"""Submission: validation, charging, idempotency, tier slots and overflow, ownership."""

import asyncio
import dataclasses
import uuid

import pytest
from arq.connections import ArqRedis

from core.enums import JobSource, JobStatus, Tier
from core.errors import ErrorCode, ServiceError, ValidationFailed
from jobs.ending import cancel_job
from jobs.params import GenerationParams
from jobs.positions import QueuePlace, queue_position
from jobs.queue import ARQ_QUEUE, PAID_BAND_MS
from jobs.reads import get_job, list_jobs
from jobs.services import Jobs
from jobs.submission import submit_generation

from .conftest import Accounts

TINY = GenerationParams(prompt="a red fox", width=64, height=64, inference_steps=2)


async def test_a_valid_submission_is_charged_queued_and_enqueued(
    jobs: Jobs, accounts: Accounts
):
    # given a pro account with 50 credits
    alice = await accounts.caller("alice@example.com")
    # when she asks for three images
    params = dataclasses.replace(TINY, num_outputs=3, seed=7)
    job = (
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    ).job
    # then three credits are gone, the job is queued with every default resolved
    assert await accounts.balance(alice) == 47
    assert await accounts.token_spend(alice) == 3
    assert (job.status, job.cost, job.total_steps, job.paid_lane) == (
        JobStatus.QUEUED,
        3,
        2,
        True,
    )
    assert job.params["seed"] == 7
    assert job.params["scheduler_id"] == "K_EULER"
    # and arq holds it in the paid band
    arq: ArqRedis = jobs.queue.redis  # type: ignore[attr-defined]
    score = await arq.zscore(ARQ_QUEUE, str(job.id))
    assert score is not None
    assert score < job.enqueued_at.timestamp() * 1000 - PAID_BAND_MS + 1000


async def test_every_problem_is_reported_at_once_with_python_field_names(
    jobs: Jobs, accounts: Accounts
):
    # given an account
    alice = await accounts.caller("alice@example.com")
    # when she sends a request wrong in five ways
    params = GenerationParams(
        prompt="x" * 501,
        width=1001,
        inference_steps=500,
        scheduler_id="NOPE",
        guidance_scale=50.0,
        idempotency_key="k" * 101,
    )
    with pytest.raises(ValidationFailed) as caught:
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    # then each is named by its GenerationParams field and nothing is charged
    found = {(p.field, p.code) for p in caught.value.problems}
    assert found == {
        ("prompt", ErrorCode.PROMPT_TOO_LONG),
        ("width", ErrorCode.INVALID_SIZE),
        ("inference_steps", ErrorCode.OUT_OF_RANGE),
        ("scheduler_id", ErrorCode.UNKNOWN_SCHEDULER),
        ("guidance_scale", ErrorCode.OUT_OF_RANGE),
        ("idempotency_key", ErrorCode.TOO_LONG),
    }
    assert await accounts.balance(alice) == 50
    assert await accounts.count_jobs() == 0


async def test_an_unknown_model_and_too_many_previews_are_refused(
    jobs: Jobs, accounts: Accounts
):
    alice = await accounts.caller("alice@example.com")
    with pytest.raises(ValidationFailed) as unknown:
        await submit_generation(
            jobs,
            caller=alice,
            params=dataclasses.replace(TINY, model_id="nope"),
            source=JobSource.API,
        )
    with pytest.raises(ValidationFailed) as previews:
        await submit_generation(
            jobs,
            caller=alice,
            params=dataclasses.replace(TINY, preview_every=3),
            source=JobSource.API,
        )
    assert [(p.field, p.code) for p in unknown.value.problems] == [
        ("model_id", ErrorCode.UNKNOWN_MODEL)
    ]
    assert [(p.field, p.code) for p in previews.value.problems] == [
        ("preview_every", ErrorCode.OUT_OF_RANGE)
    ]


async def test_the_same_idempotency_key_and_input_return_the_first_job_charged_once(
    jobs: Jobs, accounts: Accounts
):
    # given a job submitted with a key
    alice = await accounts.caller("alice@example.com")
    params = dataclasses.replace(TINY, idempotency_key="order-1")
    first = (
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    ).job
    # when the same request is sent again
    again = (
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    ).job
    # then it is the same job and only one charge was made
    assert again.id == first.id
    assert await accounts.balance(alice) == 48
    # and the same key with other input is a conflict that charges nothing
    other = dataclasses.replace(params, prompt="a blue fox")
    with pytest.raises(ServiceError) as caught:
        await submit_generation(jobs, caller=alice, params=other, source=JobSource.API)
    assert caught.value.code is ErrorCode.IDEMPOTENCY_CONFLICT
    assert await accounts.balance(alice) == 48


async def test_a_free_account_runs_one_job_and_queues_the_rest_up_to_the_overflow_limit(
    jobs: Jobs, accounts: Accounts
):
    # given a free account (one slot) with plenty of credits and a small overflow
    jobs.settings = jobs.settings.model_copy(update={"max_overflow": 3})
    bob = await accounts.caller("bob@example.com", tier=Tier.FREE)
    one = dataclasses.replace(TINY, num_outputs=1)
    # when he submits five single-image jobs
    submitted = [
        (
            await submit_generation(jobs, caller=bob, params=one, source=JobSource.API)
        ).job
        for _ in range(4)
    ]
    # then one is dispatched and three wait in his overflow
    assert [j.enqueued_at is not None for j in submitted] == [True, False, False, False]
    assert await queue_position(jobs, job=submitted[0]) == QueuePlace(1, None)
    assert (await queue_position(jobs, job=submitted[2])).position == 3
    # and the fifth is refused with nothing charged
    with pytest.raises(ServiceError) as caught:
        await submit_generation(jobs, caller=bob, params=one, source=JobSource.API)
    assert caught.value.code is ErrorCode.QUEUE_LIMIT_REACHED
    assert await accounts.balance(bob) == 50 - 4
    # and cancelling the running slot's job dispatches the oldest waiting one
    await cancel_job(jobs, caller=bob, job_id=submitted[0].id)
    assert (await accounts.job(submitted[1].id)).enqueued_at is not None
    assert (await accounts.job(submitted[2].id)).enqueued_at is None


async def test_cancelling_a_queued_job_refunds_it_in_full(
    jobs: Jobs, accounts: Accounts
):
    # given a queued two-image job
    alice = await accounts.caller("alice@example.com")
    job = (
        await submit_generation(jobs, caller=alice, params=TINY, source=JobSource.API)
    ).job
    # when she cancels it before any worker starts
    cancelled = await cancel_job(jobs, caller=alice, job_id=job.id)
    # then it is cancelled, refunded, and a second cancel says it is finished
    assert (cancelled.status, cancelled.refunded) == (JobStatus.CANCELLED, 2)
    assert await accounts.balance(alice) == 50
    assert await accounts.token_spend(alice) == 0
    with pytest.raises(ServiceError) as caught:
        await cancel_job(jobs, caller=alice, job_id=job.id)
    assert caught.value.code is ErrorCode.JOB_FINISHED


async def test_accounts_cannot_see_or_cancel_each_others_jobs(
    jobs: Jobs, accounts: Accounts
):
    # given a job of alice's
    alice = await accounts.caller("alice@example.com")
    mallory = await accounts.caller("mallory@example.com")
    job = (
        await submit_generation(jobs, caller=alice, params=TINY, source=JobSource.API)
    ).job
    # when mallory reads or cancels it, or lists jobs
    for attempt in (
        get_job(jobs, user_id=mallory.user.id, job_id=job.id),
        cancel_job(jobs, caller=mallory, job_id=job.id),
        get_job(jobs, user_id=mallory.user.id, job_id=uuid.uuid4()),
    ):
        with pytest.raises(ServiceError) as caught:
            await attempt
        # then it does not exist for her
        assert caught.value.code is ErrorCode.NOT_FOUND
    page = await list_jobs(jobs, user_id=mallory.user.id, with_total=True)
    assert (page.items, page.has_next_page, page.total_count) == ([], False, 0)
    assert (
        await get_job(jobs, user_id=alice.user.id, job_id=job.id)
    ).status is JobStatus.QUEUED


async def test_jobs_are_listed_newest_first_in_keyset_pages(
    jobs: Jobs, accounts: Accounts
):
    alice = await accounts.caller("alice@example.com", tier=Tier.ULTIMATE)
    made = [
        (
            await submit_generation(
                jobs,
                caller=alice,
                params=dataclasses.replace(TINY, num_outputs=1),
                source=JobSource.API,
            )
        ).job
        for _ in range(5)
    ]
    first = await list_jobs(jobs, user_id=alice.user.id, first=3)
    rest = await list_jobs(
        jobs,
        user_id=alice.user.id,
        status=[JobStatus.QUEUED],
        first=3,
        after=first.items[-1][0],
    )
    assert first.has_next_page
    assert not rest.has_next_page
    assert rest.has_previous_page
    assert [j.id for _, j in first.items + rest.items] == [j.id for j in reversed(made)]


async def test_racing_submissions_reach_arq_in_ticket_order(
    jobs: Jobs, accounts: Accounts
):
    # given twelve accounts of one lane, each submitting at once
    callers = [await accounts.caller(f"racer{i}@example.com") for i in range(12)]
    # when their submissions race for the lane's tickets
    made = await asyncio.gather(
        *(
            submit_generation(jobs, caller=c, params=TINY, source=JobSource.API)
            for c in callers
        )
    )
    # then arq's order (its scores) is the tickets' order, which the places show
    by_ticket = sorted(made, key=lambda m: m.job.queue_ticket or 0)
    redis: ArqRedis = jobs.queue.redis  # type: ignore[attr-defined]  # ArqQueue
    scores = dict(await redis.zrange(ARQ_QUEUE, 0, -1, withscores=True))
    arq_order = sorted(by_ticket, key=lambda m: scores[str(m.job.id).encode()])
    assert [m.job.id for m in arq_order] == [m.job.id for m in by_ticket]
    stamps = [m.job.enqueued_at for m in by_ticket]
    assert stamps == sorted(stamps)
