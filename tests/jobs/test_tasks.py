"""Tasks on a real arq worker: events, outputs, charges, cancel, failure, lanes."""

import asyncio
import dataclasses
import io
from pathlib import Path
from types import MappingProxyType

import sqlalchemy as sa
from PIL import Image
from sqlmodel import col

from core.enums import EventType, JobSource, JobStatus, Tier
from core.models import Output
from core.outputs import delete_outputs, remove_files
from core.storage import LocalStorage
from engine.catalog import Catalog
from jobs.ending import cancel_job
from jobs.params import GenerationParams, UpscaleParams
from jobs.services import Jobs
from jobs.submission import submit_generation, submit_upscale

from .conftest import Accounts, run_burst_worker, watch

TINY = GenerationParams(prompt="a red fox", width=64, height=64, inference_steps=3)


async def outputs_of(jobs: Jobs, job_id) -> list[Output]:
    async with jobs.db.session() as session:
        rows = await session.scalars(
            sa.select(Output)
            .where(col(Output.job_id) == job_id)
            .order_by(col(Output.index))
        )
        return list(rows)


async def test_a_generation_publishes_every_step_stores_its_outputs_and_charges_once(
    jobs: Jobs, accounts: Accounts
):
    # given a queued two-image job with a fixed seed, and a subscriber
    alice = await accounts.caller("alice@example.com")
    params = dataclasses.replace(TINY, num_outputs=2, seed=100)
    job = (
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    ).job
    watching = await watch(jobs, job.id)
    # when a worker runs it
    await run_burst_worker(jobs)
    events = await asyncio.wait_for(watching, 10)
    # then the subscriber saw every state and step, in order
    assert [(e.type, e.step) for e in events] == [
        (EventType.QUEUED, 0),
        (EventType.STARTED, 0),
        (EventType.PROGRESS, 1),
        (EventType.PROGRESS, 2),
        (EventType.PROGRESS, 3),
        (EventType.OUTPUT, 3),
        (EventType.OUTPUT, 3),
        (EventType.SUCCEEDED, 3),
    ]
    assert events[-1].percent == 1.0
    assert (events[-1].charged, events[-1].refunded) == (
        2,
        0,
    )
    # and both images are stored at 64 px with seeds seed+i
    outputs = await outputs_of(jobs, job.id)
    assert [(o.index, o.seed, o.width, o.height) for o in outputs] == [
        (0, 100, 64, 64),
        (1, 101, 64, 64),
    ]
    # each OUTPUT event carries its output's row, as stored
    carried = [e.output for e in events if e.type is EventType.OUTPUT]
    assert carried == [o.model_dump(mode="json") for o in outputs]
    for output in outputs:
        assert output.storage_key == f"outputs/{job.id}/{output.index}.png"
        image = Image.open(io.BytesIO(await jobs.storage.get(output.storage_key)))
        assert (image.format, image.size) == ("PNG", (64, 64))
        assert (output.prompt, output.inference_steps, output.scheduler_id) == (
            "a red fox",
            3,
            "K_EULER",
        )
        assert not output.is_public  # a paid account's outputs start private
    # and exactly two credits were spent
    assert (await accounts.job(job.id)).status is JobStatus.SUCCEEDED
    assert await accounts.balance(alice) == 48
    assert await accounts.token_spend(alice) == 2
    # and a late subscriber gets the end at once
    late = [e async for e in jobs.events.watch_job(job.id)]
    assert [e.type for e in late] == [EventType.SUCCEEDED]


async def test_cancelling_a_running_job_stops_it_within_a_step_and_refunds_it(
    jobs: Jobs, accounts: Accounts
):
    # given a long job running on a worker
    alice = await accounts.caller("alice@example.com")
    params = dataclasses.replace(
        TINY, width=256, height=256, inference_steps=40, num_outputs=1
    )
    job = (
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    ).job
    watching = await watch(jobs, job.id)
    worker = asyncio.create_task(run_burst_worker(jobs))
    # when alice cancels after the second step
    async for event in jobs.events.watch_job(job.id):
        if event.type is EventType.PROGRESS and event.step and event.step >= 2:
            cancelled_at = event.step
            await cancel_job(jobs, caller=alice, job_id=job.id)
            break
    await asyncio.wait_for(worker, 30)
    events = await asyncio.wait_for(watching, 5)
    # then it ends cancelled a few steps later, well short of 40, refunded in full
    last_step = max(e.step or 0 for e in events if e.type is EventType.PROGRESS)
    assert events[-1].type is EventType.CANCELLED
    assert last_step <= cancelled_at + 5
    assert (events[-1].charged, events[-1].refunded) == (0, 1)
    assert (await accounts.job(job.id)).status is JobStatus.CANCELLED
    assert await accounts.balance(alice) == 50
    assert await outputs_of(jobs, job.id) == []


async def test_an_engine_failure_fails_the_job_and_refunds_it(
    jobs: Jobs, accounts: Accounts, tmp_path: Path
):
    # given a catalog model whose folder does not exist
    tiny = jobs.catalog.default_model()
    broken = dataclasses.replace(
        tiny,
        id="missing",
        source=str(tmp_path / "nowhere"),
        builder=None,
        is_default=False,
    )
    jobs.catalog = Catalog(
        models=MappingProxyType({tiny.id: tiny, broken.id: broken}),
        upscalers=jobs.catalog.upscalers,
    )
    alice = await accounts.caller("alice@example.com")
    params = dataclasses.replace(TINY, model_id="missing")
    job = (
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    ).job
    assert await accounts.balance(alice) == 48
    watching = await watch(jobs, job.id)
    # when a worker runs it
    await run_burst_worker(jobs)
    events = await asyncio.wait_for(watching, 5)
    # then it failed with an engine error and the credits came back
    done = await accounts.job(job.id)
    assert (done.status, done.error_code, done.refunded) == (
        JobStatus.FAILED,
        "ENGINE_ERROR",
        2,
    )
    assert events[-1].type is EventType.FAILED
    assert events[-1].error_code == "ENGINE_ERROR"
    assert await accounts.balance(alice) == 50
    assert await accounts.token_spend(alice) == 0
    # and the message names the model, never the server's path or the library's text
    assert done.error_message == events[-1].error_message
    assert done.error_message is not None
    assert done.error_message.startswith("model missing could not be loaded")
    assert str(tmp_path) not in done.error_message
    assert "Error" not in done.error_message


async def test_a_storage_failure_fails_the_job_with_a_message_free_of_internals(
    jobs: Jobs, accounts: Accounts, tmp_path: Path
):
    # given storage whose folder is really a file, so every write fails
    blocked = tmp_path / "blocked"
    blocked.write_bytes(b"")
    jobs.storage = LocalStorage(blocked, base_url="http://test", signing_key=b"k" * 32)
    alice = await accounts.caller("alice@example.com")
    job = (
        await submit_generation(jobs, caller=alice, params=TINY, source=JobSource.API)
    ).job
    # when a worker runs the job
    await run_burst_worker(jobs)
    # then it failed with STORAGE_ERROR, a plain message, and a refund
    done = await accounts.job(job.id)
    assert (done.status, done.error_code, done.refunded) == (
        JobStatus.FAILED,
        "STORAGE_ERROR",
        2,
    )
    assert done.error_message == "the finished image could not be stored"


async def test_a_free_accounts_second_job_waits_and_runs_after_the_first(
    jobs: Jobs, accounts: Accounts
):
    # given a free account that submitted two jobs (one slot)
    bob = await accounts.caller("bob@example.com", tier=Tier.FREE)
    one = dataclasses.replace(TINY, num_outputs=1)
    first = (
        await submit_generation(jobs, caller=bob, params=one, source=JobSource.API)
    ).job
    second = (
        await submit_generation(jobs, caller=bob, params=one, source=JobSource.API)
    ).job
    assert second.enqueued_at is None
    # when a worker drains the queue
    await run_burst_worker(jobs)
    # then both ran, the second only after the first had finished
    a, b = await accounts.job(first.id), await accounts.job(second.id)
    assert (a.status, b.status) == (JobStatus.SUCCEEDED, JobStatus.SUCCEEDED)
    assert a.finished_at is not None
    assert b.started_at is not None
    assert a.finished_at <= b.started_at
    # and free-tier outputs went to the gallery
    (output,) = await outputs_of(jobs, first.id)
    assert output.is_public
    assert output.gallery_status == "SUBMITTED"


async def test_paid_jobs_are_served_before_free_jobs_queued_earlier(
    jobs: Jobs, accounts: Accounts
):
    # given two free jobs queued before a paid one, on a worker that runs each
    # job alone (together they would share one engine call)
    jobs.settings = jobs.settings.model_copy(update={"batch_max_images": 1})
    free = [
        await accounts.caller(f"free{i}@example.com", tier=Tier.FREE) for i in range(2)
    ]
    paid = await accounts.caller("paid@example.com", tier=Tier.PRO)
    one = dataclasses.replace(TINY, num_outputs=1, inference_steps=1)
    early = [
        (await submit_generation(jobs, caller=c, params=one, source=JobSource.API)).job
        for c in free
    ]
    late = (
        await submit_generation(jobs, caller=paid, params=one, source=JobSource.API)
    ).job
    # when one worker serves the queue
    await run_burst_worker(jobs)
    # then the paid job started first, and the free ones in their order
    started = [(await accounts.job(j.id)).started_at for j in (late, *early)]
    assert started == sorted(started)


async def test_an_upscale_whose_source_was_deleted_meanwhile_fails_saying_so(
    jobs: Jobs, accounts: Accounts
):
    # given an upscale queued for an output that is then deleted, file and all
    alice = await accounts.caller("alice@example.com")
    one = dataclasses.replace(TINY, num_outputs=1)
    job = (
        await submit_generation(jobs, caller=alice, params=one, source=JobSource.API)
    ).job
    await run_burst_worker(jobs)
    (output,) = await outputs_of(jobs, job.id)
    upscale = (
        await submit_upscale(
            jobs,
            caller=alice,
            params=UpscaleParams(output_id=output.id),
            source=JobSource.API,
        )
    ).job
    async with jobs.db.session() as session:
        deleted = await delete_outputs(session, user_id=alice.user.id, ids=[output.id])
    assert await remove_files(jobs.storage, keys=deleted.storage_keys) == []
    # when a worker takes the upscale
    await run_burst_worker(jobs)
    # then it fails, refunded, with a message that says why
    done = await accounts.job(upscale.id)
    assert (done.status, done.error_code, done.refunded) == (
        JobStatus.FAILED,
        "STORAGE_ERROR",
        1,
    )
    assert done.error_message == "the output to upscale was deleted before the job ran"
