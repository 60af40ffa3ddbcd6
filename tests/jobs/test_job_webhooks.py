"""A job's own webhook from the job side: its events at a real receiver, signed
with the account's per-job secret, on arq's webhook worker and from this process;
the throttle, the event filter, the refusal of private URLs, and rotation."""

import dataclasses
import itertools
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col
from standardwebhooks.webhooks import WebhookVerificationError

from core.db import Database
from core.enums import (
    EventType,
    JobHookEvent,
    JobSource,
    JobStatus,
    WebhookDeliveryStatus,
    WebhookEvent,
)
from core.errors import ServiceError
from core.models import Job, JobHookSecret, WebhookDelivery, utcnow
from core.tokens import Caller
from core.webhooks.job_hooks import JobHook, hook_secret, rotate_hook_secret
from jobs.params import GenerationParams
from jobs.services import Jobs
from jobs.submission import submit_generation
from jobs.sweeper import sweep
from jobs.webhooks.job_hook import THROTTLE_SECONDS, Throttle, record_hook_event
from jobs.worker.arq_worker import close_worker
from jobs.worker.webhook_worker import build_webhook_worker
from tests.receiver import receiver

from .conftest import Accounts, run_burst_worker
from .test_webhooks import end_of, settled

TINY = GenerationParams(
    prompt="a red fox", width=64, height=64, inference_steps=2, num_outputs=1
)


async def submit(
    jobs: Jobs,
    caller: Caller,
    hook: JobHook,
    params: GenerationParams = TINY,
) -> Job:
    params = dataclasses.replace(params, webhook=hook)
    submitted = await submit_generation(
        jobs, caller=caller, params=params, source=JobSource.API
    )
    return submitted.job


async def secret_of(db: Database, user_id: uuid.UUID) -> str:
    async with db.session() as session:
        return (await hook_secret(session, user_id=user_id)).secret


async def rows_of(db: Database, job_id: uuid.UUID) -> list[WebhookDelivery]:
    async with db.session() as session:
        rows = await session.scalars(
            sa.select(WebhookDelivery)
            .where(col(WebhookDelivery.job_id) == job_id)
            .order_by(col(WebhookDelivery.created_at))
        )
        return list(rows)


async def test_on_arq_a_jobs_own_webhook_gets_start_output_and_end_signed(
    arq_jobs: Jobs, accounts: Accounts
) -> None:
    # given a job submitted with a webhook and no events named
    with receiver() as hook:
        job = await submit(
            arq_jobs, await accounts.caller("ada@example.com"), JobHook(hook.url)
        )
        assert (job.webhook_url, job.webhook_events) == (
            hook.url,
            "STARTED,OUTPUT,COMPLETED",
        )
        # when a job worker runs it, then the webhook worker drains its queue
        await run_burst_worker(arq_jobs)
        webhooks = build_webhook_worker(arq_jobs, burst=True)
        try:
            await webhooks.main()
        finally:
            await close_worker(webhooks)
        # then the default events arrived (no progress), signed with the account's
        # per-job secret
        secret = await secret_of(arq_jobs.db, job.user_id)
        payloads = [r.verified(secret) for r in hook.wait_for(3)]
    assert sorted(str(p["type"]) for p in payloads) == [
        "job.output",
        "job.started",
        "job.succeeded",
    ]
    [end] = [p for p in payloads if p["type"] == "job.succeeded"]
    assert len(end["data"]["outputs"]) == 1  # type: ignore[index]  # JSON
    # and each is a delivery without an endpoint, delivered once
    rows = await rows_of(arq_jobs.db, job.id)
    assert [(r.endpoint_id, r.status, r.attempts) for r in rows] == [
        (None, WebhookDeliveryStatus.DELIVERED, 1)
    ] * 3


async def test_progress_and_outputs_are_throttled_and_the_end_is_never_dropped(
    local_jobs: Jobs, accounts: Accounts
) -> None:
    # given a many-step, two-image job asking for every event
    every = tuple(JobHookEvent)
    params = dataclasses.replace(TINY, inference_steps=12, num_outputs=2)
    with receiver() as hook:
        job = await submit(
            local_jobs,
            await accounts.caller("bo@example.com"),
            JobHook(hook.url, every),
            params,
        )
        # when it runs (every step publishes PROGRESS: the interval is 0 here)
        await run_burst_worker(local_jobs)
        rows = await settled(local_jobs.db, job.id)
        secret = await secret_of(local_jobs.db, job.user_id)
        for request in hook.wait_for(len(rows)):
            request.verified(secret)
    # then progress and outputs came at most once per 500 ms, far fewer than the
    # 12 steps and 2 images, and the start and the end both came
    bursty = [
        r
        for r in rows
        if r.event in (WebhookEvent.JOB_PROGRESS, WebhookEvent.JOB_OUTPUT)
    ]
    gaps = [b.created_at - a.created_at for a, b in itertools.pairwise(bursty)]
    assert 1 <= len(bursty) < 14
    # Rows are stamped after the throttle let them through, so a slow write of
    # one can shorten the gap to the next: half the window still tells them
    # from the steps' few milliseconds apart.
    assert all(g >= timedelta(seconds=THROTTLE_SECONDS / 2) for g in gaps)
    events = [r.event for r in rows]
    assert events.count(WebhookEvent.JOB_STARTED) == 1
    assert events[-1] is WebhookEvent.JOB_SUCCEEDED
    [end] = [r for r in rows if r.event is WebhookEvent.JOB_SUCCEEDED]
    assert end.max_attempts == local_jobs.settings.webhook_max_attempts
    assert '"index":1' in end.payload  # the end carries both images


def test_the_throttle_lets_one_through_per_window() -> None:
    # given a throttle on a clock we move by hand
    now = [100.0]
    throttle = Throttle(0.5, clock=lambda: now[0])
    # when events come at 0, 0.2, 0.49, 0.5, 0.9 and 1.01 seconds
    let_through = []
    for at in (0, 0.2, 0.49, 0.5, 0.9, 1.01):
        now[0] = 100.0 + at
        let_through.append(throttle.allow())
    # then the first of each 500 ms window passes
    assert let_through == [True, False, False, True, False, True]


async def test_only_the_chosen_events_are_sent(
    local_jobs: Jobs, accounts: Accounts
) -> None:
    # given a job whose webhook asks only for its end
    with receiver() as hook:
        only_end = JobHook(hook.url, (JobHookEvent.COMPLETED,))
        job = await submit(
            local_jobs, await accounts.caller("cy@example.com"), only_end
        )
        # when it runs
        await run_burst_worker(local_jobs)
        rows = await settled(local_jobs.db, job.id)
        [request] = hook.wait_for(1)
    # then the end alone was recorded and sent
    assert [r.event for r in rows] == [WebhookEvent.JOB_SUCCEEDED]
    assert request.verified(await secret_of(local_jobs.db, job.user_id))["type"] == (
        "job.succeeded"
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("https://localhost/hook", "localhost is a loopback name"),
        ("https://[::ffff:192.168.0.1]/hook", "192.168.0.1 is a private address"),
    ],
)
async def test_a_private_url_is_refused_at_submission_and_nothing_is_charged(
    jobs: Jobs, accounts: Accounts, url: str, why: str
) -> None:
    # given an account, and private addresses not allowed (the default)
    caller = await accounts.caller("dee@example.com")
    params = dataclasses.replace(TINY, webhook=JobHook(url))
    # when it submits a job whose webhook names a private address
    with pytest.raises(ServiceError) as refused:
        await submit_generation(
            jobs, caller=caller, params=params, source=JobSource.API
        )
    # then the webhook's URL is refused, and no job was made
    assert refused.value.field == "webhook.url"
    assert refused.value.code == "URL_NOT_ALLOWED"
    assert why in refused.value.message
    async with jobs.db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    assert await accounts.balance(caller) == 50


async def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(
    local_jobs: Jobs, accounts: Accounts
) -> None:
    # given a job with a webhook, and the account's secret rotated
    with receiver() as hook:
        only_end = JobHook(hook.url, (JobHookEvent.COMPLETED,))
        eve = await accounts.caller("eve@example.com")
        job = await submit(local_jobs, eve, only_end)
        old = await secret_of(local_jobs.db, job.user_id)
        async with local_jobs.db.session() as session:
            rotated = await rotate_hook_secret(session, user_id=job.user_id)
        new = rotated.secret
        # when its end is announced
        assert rotated.previous_secret_until is not None
        grace = rotated.previous_secret_until - utcnow()
        assert timedelta(hours=23, minutes=59) < grace <= timedelta(hours=24)
        await record_hook_event(
            local_jobs, job, end_of(job.user_id, job.id, EventType.FAILED)
        )
        [during] = await hook.arrived(1)
        # and, once the grace is over, a second job's end
        async with local_jobs.db.session() as session:
            row = await session.get(JobHookSecret, job.user_id)
            assert row is not None
            row.previous_secret_until = utcnow() - timedelta(seconds=1)
        second = await submit(local_jobs, eve, only_end)
        await record_hook_event(
            local_jobs, second, end_of(job.user_id, second.id, EventType.FAILED)
        )
        _, after = await hook.arrived(2)
    # then the first verifies with either secret, the second with the new one only
    assert new != old
    assert during.verified(new)["type"] == during.verified(old)["type"] == "job.failed"
    assert after.verified(new)["type"] == "job.failed"
    with pytest.raises(WebhookVerificationError):
        after.verified(old)


async def test_the_sweep_announces_an_own_webhook_end_that_was_never_recorded(
    local_jobs: Jobs, accounts: Accounts
) -> None:
    # given a job with its own webhook that failed two minutes ago, its
    # announcer dead before recording the webhook
    with receiver() as hook:
        job = await submit(
            local_jobs, await accounts.caller("fay@example.com"), JobHook(hook.url)
        )
        async with local_jobs.db.session() as session:
            await session.execute(
                sa.update(Job)
                .where(col(Job.id) == job.id)
                .values(
                    status=JobStatus.FAILED,
                    finished_at=utcnow() - timedelta(minutes=2),
                    error_code="ENGINE_ERROR",
                    error_message="the engine failed",
                )
            )
        # when the sweeper runs, twice
        report = await sweep(local_jobs)
        [got] = await hook.arrived(1)
        await settled(local_jobs.db, job.id)
        await sweep(local_jobs)
        # then the end was recorded and sent, signed, once
        payload = got.verified(await secret_of(local_jobs.db, job.user_id))
    assert report.webhooks == 1
    assert payload["type"] == "job.failed"
    assert len(await rows_of(local_jobs.db, job.id)) == 1
