"""Webhook deliveries from the job side: a real arq worker beside the job worker,
the in-process runner, retries, refusals at send time, and a queue that is away."""

import asyncio
import dataclasses
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from arq.connections import ArqRedis
from sqlmodel import col
from standardwebhooks.webhooks import WebhookVerificationError

from core.db import Database
from core.enums import (
    EventType,
    JobSource,
    JobStatus,
    WebhookDeliveryStatus,
    WebhookEvent,
)
from core.models import Job, WebhookDelivery, WebhookEndpoint, utcnow
from core.webhooks.endpoints import create_endpoint, delete_endpoint, rotate_secret
from jobs.events import JobEvent
from jobs.params import GenerationParams
from jobs.services import Jobs
from jobs.submission import submit_generation
from jobs.sweeper import sweep
from jobs.webhooks.arq_queue import ArqDeliveryQueue
from jobs.webhooks.delivery import resend_due
from jobs.webhooks.hook import record_job_event
from jobs.webhooks.payload import global_id
from jobs.webhooks.runner import InProcessDeliveries
from jobs.worker.arq_worker import close_worker
from jobs.worker.webhook_worker import build_webhook_worker
from schema import ids
from tests.receiver import receiver

from .conftest import Accounts, run_burst_worker

TINY = GenerationParams(
    prompt="a red fox", width=64, height=64, inference_steps=2, num_outputs=1
)


async def endpoint(
    jobs: Jobs, user_id: uuid.UUID, url: str, events: list[WebhookEvent] | None = None
) -> str:
    """Register an endpoint (private addresses allowed); return its secret."""
    async with jobs.db.session() as session:
        _row, secret = await create_endpoint(
            session, user_id=user_id, url=url, events=events, allow_private=True
        )
    return secret


async def deliveries_of(db: Database, job_id: uuid.UUID) -> list[WebhookDelivery]:
    async with db.session() as session:
        rows = await session.scalars(
            sa.select(WebhookDelivery)
            .where(col(WebhookDelivery.job_id) == job_id)
            .order_by(col(WebhookDelivery.created_at), col(WebhookDelivery.event))
            .execution_options(populate_existing=True)
        )
        return list(rows)


async def settled(db: Database, job_id: uuid.UUID) -> list[WebhookDelivery]:
    """The job's deliveries once none is pending."""
    for _ in range(200):
        rows = await deliveries_of(db, job_id)
        if rows and all(r.status is not WebhookDeliveryStatus.PENDING for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"still pending: {rows}")


async def a_job(
    jobs: Jobs, accounts: Accounts, email: str
) -> tuple[uuid.UUID, uuid.UUID]:
    """(user id, job id) of a queued one-image job."""
    caller = await accounts.caller(email)
    submitted = await submit_generation(
        jobs, caller=caller, params=TINY, source=JobSource.API
    )
    return caller.user.id, submitted.job.id


def end_of(user_id: uuid.UUID, job_id: uuid.UUID, type_: EventType) -> JobEvent:
    status = JobStatus.RUNNING if type_ is EventType.STARTED else JobStatus.FAILED
    return JobEvent(
        job_id=job_id,
        user_id=user_id,
        type=type_,
        status=status,
        at=utcnow(),
        error_code="ENGINE_ERROR" if status is JobStatus.FAILED else None,
        error_message="the engine failed" if status is JobStatus.FAILED else None,
        charged=0,
        refunded=1,
    )


async def test_on_arq_a_jobs_events_arrive_and_a_failed_end_is_retried(
    arq_jobs: Jobs, accounts: Accounts
) -> None:
    # given two endpoints: one for every event, one for ends whose receiver
    # fails once and then recovers
    user_id, job_id = await a_job(arq_jobs, accounts, "ada@example.com")
    with receiver() as all_events, receiver(500) as ends:
        secret = await endpoint(arq_jobs, user_id, all_events.url)
        ends_secret = await endpoint(
            arq_jobs, user_id, ends.url, [WebhookEvent.JOB_SUCCEEDED]
        )
        # when a job worker runs the job, then the webhook worker drains its queue
        await run_burst_worker(arq_jobs)
        webhooks = build_webhook_worker(arq_jobs, burst=True)
        try:
            await webhooks.main()
        finally:
            await close_worker(webhooks)
        # then every event reached the first, signed
        types = sorted(r.verified(secret)["type"] for r in all_events.wait_for(3))
        assert types == ["job.output", "job.started", "job.succeeded"]
        # and the end reached the second on its second attempt
        first, second = ends.wait_for(2)
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert second.verified(ends_secret)["type"] == "job.succeeded"
    rows = await deliveries_of(arq_jobs.db, job_id)
    retried = [r for r in rows if r.attempts == 2]
    assert len(rows) == 4
    assert [(r.status, r.response_code, r.last_error) for r in retried] == [
        (WebhookDeliveryStatus.DELIVERED, 200, None)
    ]


async def test_an_address_refused_at_send_time_fails_at_once_and_hears_nothing(
    local_jobs: Jobs, accounts: Accounts
) -> None:
    # given an endpoint on loopback, registered while private addresses were
    # allowed, and a sender that no longer allows them
    user_id, job_id = await a_job(local_jobs, accounts, "bo@example.com")
    strict = local_jobs.settings.model_copy(update={"webhook_allow_private": False})
    deliveries = InProcessDeliveries(local_jobs.db, strict)
    jobs = dataclasses.replace(local_jobs, settings=strict, deliveries=deliveries)
    try:
        with receiver() as hook:
            await endpoint(jobs, user_id, hook.url)
            # when the job's end is announced
            await record_job_event(jobs, end_of(user_id, job_id, EventType.FAILED))
            [row] = await settled(jobs.db, job_id)
            # then the delivery failed at once, without retries, and nothing was sent
            assert hook.requests == []
    finally:
        await deliveries.close()
    assert (row.status, row.attempts, row.response_code) == (
        WebhookDeliveryStatus.FAILED,
        1,
        None,
    )
    assert row.last_error == "address refused: 127.0.0.1 is a loopback address"


async def test_an_end_gives_up_after_its_attempts_and_other_events_are_sent_once(
    local_jobs: Jobs, accounts: Accounts
) -> None:
    # given an endpoint whose receiver always fails, and three attempts for ends
    jobs = dataclasses.replace(
        local_jobs,
        settings=local_jobs.settings.model_copy(update={"webhook_max_attempts": 3}),
    )
    user_id, job_id = await a_job(jobs, accounts, "cy@example.com")
    counted = {result: delivery_count(result) for result in ("failed", "retrying")}
    with receiver(default=500) as hook:
        await endpoint(jobs, user_id, hook.url)
        # when the job's start and its failure are announced
        await record_job_event(jobs, end_of(user_id, job_id, EventType.STARTED))
        await record_job_event(jobs, end_of(user_id, job_id, EventType.FAILED))
        rows = await settled(jobs.db, job_id)
    # then the start was tried once, the end three times, and both failed
    attempts = {r.event: (r.status, r.attempts, r.response_code) for r in rows}
    assert attempts == {
        WebhookEvent.JOB_STARTED: (WebhookDeliveryStatus.FAILED, 1, 500),
        WebhookEvent.JOB_FAILED: (WebhookDeliveryStatus.FAILED, 3, 500),
    }
    assert {r.last_error for r in rows} == {"HTTP 500"}
    assert len(hook.requests) == 4
    # and the metric counted each attempt by its result
    assert delivery_count("failed") - counted["failed"] == 2
    assert delivery_count("retrying") - counted["retrying"] == 2


def delivery_count(result: str) -> float:
    """darkroom_webhook_deliveries_total{result} in this process."""
    from prometheus_client import REGISTRY

    found = REGISTRY.get_sample_value(
        "darkroom_webhook_deliveries_total", {"result": result}
    )
    return found or 0.0


@pytest.fixture
async def away(local_jobs: Jobs) -> AsyncIterator[Jobs]:
    """The jobs facade with a delivery queue whose Redis is not there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = ArqRedis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    yield dataclasses.replace(local_jobs, deliveries=ArqDeliveryQueue(redis))
    await redis.aclose()


async def test_with_the_queue_away_the_job_goes_on_and_the_sweep_sends_later(
    away: Jobs, local_jobs: Jobs, accounts: Accounts
) -> None:
    # given a delivery queue that is away, and an endpoint
    user_id, job_id = await a_job(away, accounts, "di@example.com")
    with receiver() as hook:
        secret = await endpoint(away, user_id, hook.url)
        # when the job's end is announced (twice, as a retried publish may)
        event = end_of(user_id, job_id, EventType.FAILED)
        await record_job_event(away, event)
        await record_job_event(away, event)
        # then it did not raise, and one delivery waits, due
        [row] = await deliveries_of(away.db, job_id)
        assert (row.status, row.attempts) == (WebhookDeliveryStatus.PENDING, 0)
        # and the sweep sends it once a queue works again
        assert local_jobs.deliveries is not None
        assert await resend_due(away.db, local_jobs.deliveries) == 1
        [got] = await hook.arrived(1)
        assert got.verified(secret)["data"]["error"]["code"] == "ENGINE_ERROR"
        [row] = await settled(away.db, job_id)
    assert row.status is WebhookDeliveryStatus.DELIVERED


async def test_deleting_an_endpoint_fails_its_pending_deliveries(
    away: Jobs, local_jobs: Jobs, accounts: Accounts
) -> None:
    # given a pending delivery (its queue was away)
    user_id, job_id = await a_job(away, accounts, "ed@example.com")
    await endpoint(away, user_id, "http://127.0.0.1:9/never")
    await record_job_event(away, end_of(user_id, job_id, EventType.FAILED))
    [row] = await deliveries_of(away.db, job_id)
    # when its endpoint is deleted
    async with away.db.session() as session:
        await delete_endpoint(session, user_id=user_id, endpoint_id=row.endpoint_id)
    # then it failed, saying why, and no sweep sends it
    [row] = await deliveries_of(away.db, job_id)
    assert (row.status, row.last_error) == (
        WebhookDeliveryStatus.FAILED,
        "the endpoint was deleted",
    )
    assert local_jobs.deliveries is not None
    assert await resend_due(away.db, local_jobs.deliveries) == 0


async def test_the_sweep_announces_an_end_whose_webhooks_were_never_recorded(
    local_jobs: Jobs, accounts: Accounts
) -> None:
    # given an endpoint, and a job that failed two minutes ago whose announcer
    # died before recording its webhooks
    user_id, job_id = await a_job(local_jobs, accounts, "fay@example.com")
    now = utcnow()
    with receiver() as hook:
        secret = await endpoint(local_jobs, user_id, hook.url)
        async with local_jobs.db.session() as session:
            await session.execute(
                sa.update(WebhookEndpoint).values(created_at=now - timedelta(hours=1))
            )
            await session.execute(
                sa.update(Job)
                .where(col(Job.id) == job_id)
                .values(
                    status=JobStatus.FAILED,
                    finished_at=now - timedelta(minutes=2),
                    error_code="ENGINE_ERROR",
                    error_message="the engine failed",
                )
            )
        # when the sweeper runs
        report = await sweep(local_jobs)
        # then the end is recorded and sent, signed, once
        assert report.webhooks == 1
        [got] = await hook.arrived(1)
        payload = got.verified(secret)
        assert payload["type"] == "job.failed"
        assert payload["data"]["error"]["code"] == "ENGINE_ERROR"
        await settled(local_jobs.db, job_id)
        await sweep(local_jobs)
        assert len(await deliveries_of(local_jobs.db, job_id)) == 1


def test_payload_ids_are_the_schemas_global_ids() -> None:
    key = uuid.uuid4()
    for type_name in ("Job", "Output"):
        assert global_id(type_name, key) == str(ids.global_id(type_name, key))


async def test_a_rotated_secret_signs_beside_the_new_one_until_its_grace_ends(
    local_jobs: Jobs, accounts: Accounts
) -> None:
    # given an endpoint whose secret was just rotated
    user_id, job_id = await a_job(local_jobs, accounts, "rio@example.com")
    with receiver() as hook:
        old = await endpoint(local_jobs, user_id, hook.url)
        async with local_jobs.db.session() as session:
            [row] = (
                await session.scalars(
                    sa.select(WebhookEndpoint).where(
                        col(WebhookEndpoint.user_id) == user_id
                    )
                )
            ).all()
            _row, new = await rotate_secret(
                session, user_id=user_id, endpoint_id=row.id
            )
        # when a delivery goes out within the grace
        await record_job_event(local_jobs, end_of(user_id, job_id, EventType.FAILED))
        await settled(local_jobs.db, job_id)
        [during] = hook.wait_for(1)
        # then a receiver on either secret verifies it
        assert during.verified(old)["type"] == "job.failed"
        assert during.verified(new)["type"] == "job.failed"
        # when the grace is over, the next delivery is signed by the new one alone
        async with local_jobs.db.session() as session:
            await session.execute(
                sa.update(WebhookEndpoint)
                .where(col(WebhookEndpoint.id) == row.id)
                .values(previous_secret_until=utcnow() - timedelta(seconds=1))
            )
        await record_job_event(local_jobs, end_of(user_id, job_id, EventType.STARTED))
        await settled(local_jobs.db, job_id)
        _during, after = hook.wait_for(2)
    assert after.verified(new)["type"] == "job.started"
    with pytest.raises(WebhookVerificationError):
        after.verified(old)
