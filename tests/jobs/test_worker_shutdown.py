"""SIGTERM stops a worker process promptly, idle or mid-job, leaving nothing lost."""

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest

from core.enums import EventType, JobSource, JobStatus
from jobs.lifecycle import stale_before
from jobs.params import GenerationParams
from jobs.reads import wait_for_job
from jobs.services import Jobs
from jobs.submission import submit_generation

from .conftest import Accounts
from .test_worker_crash import start_worker, until_progress

pytestmark = pytest.mark.slow


async def exit_code(worker: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The process's exit code, or None if it is still running after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            return worker.returncode
        await asyncio.sleep(0.1)
    return worker.poll()


async def test_sigterm_after_a_job_stops_the_worker_promptly_and_cleanly(
    jobs: Jobs, accounts: Accounts, tmp_path: Path
):
    # given a worker process that has just run a tiny job
    alice = await accounts.caller("alice@example.com")
    params = GenerationParams(
        prompt="a red fox", width=64, height=64, inference_steps=2, num_outputs=1
    )
    job = (
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    ).job
    worker = start_worker(jobs, tmp_path, "worker.log")
    try:
        await wait_for_job(jobs, job_id=job.id, timeout=120)
        assert (await accounts.job(job.id)).status is JobStatus.SUCCEEDED
        # when it is sent SIGTERM
        worker.send_signal(signal.SIGTERM)
        # then it exits cleanly within seconds
        code = await exit_code(worker, 20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    log = (tmp_path / "worker.log").read_text()
    assert code == 0, log


async def test_sigterm_mid_job_finishes_the_job_and_claims_no_other(
    jobs: Jobs, accounts: Accounts, tmp_path: Path
):
    # given a worker process running a job, another job queued behind it
    alice = await accounts.caller("alice@example.com")
    bob = await accounts.caller("bob@example.com")
    params = GenerationParams(
        prompt="a red fox", width=256, height=256, inference_steps=20, num_outputs=1
    )
    running, waiting = [
        (
            await submit_generation(jobs, caller=c, params=params, source=JobSource.API)
        ).job
        for c in (alice, bob)
    ]
    worker = start_worker(
        jobs, tmp_path, "worker.log", liveness={"DARKROOM_BATCH_MAX_IMAGES": "1"}
    )
    try:
        await until_progress(jobs, running.id, 120)
        # when it is sent SIGTERM (the default drain: up to 25 s)
        worker.send_signal(signal.SIGTERM)
        # then the running job ends there, charged once, and the worker exits
        ends = [e async for e in jobs.events.watch_job(running.id)]
        code = await exit_code(worker, 60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    log = (tmp_path / "worker.log").read_text()
    assert code == 0, log
    assert ends[-1].type is EventType.SUCCEEDED
    done = await accounts.job(running.id)
    assert (done.status, done.attempts, done.refunded) == (JobStatus.SUCCEEDED, 1, 0)
    # and the one queued behind was left for other workers
    assert (await accounts.job(waiting.id)).status is JobStatus.QUEUED


async def test_sigterm_mid_job_past_the_drain_hands_the_job_back_at_once(
    jobs: Jobs, accounts: Accounts, tmp_path: Path
):
    # given a slow job running in a worker process that drains for 1 s at most
    alice = await accounts.caller("alice@example.com")
    params = GenerationParams(
        prompt="a red fox", width=256, height=256, inference_steps=40, num_outputs=1
    )
    job = (
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    ).job
    worker = start_worker(
        jobs, tmp_path, "worker.log", liveness={"DARKROOM_DRAIN_SECONDS": "1"}
    )
    second = None
    try:
        await until_progress(jobs, job.id, 120)
        # when it is sent SIGTERM
        worker.send_signal(signal.SIGTERM)
        code = await exit_code(worker, 20)
        log = (tmp_path / "worker.log").read_text()
        # then the worker exits cleanly, the job charged, unrefunded and already
        # claimable (not after the 10 s stale limit)
        assert code == 0, log
        assert "handed back 1 unfinished job(s)" in log
        left = await accounts.job(job.id)
        assert (left.status, left.attempts, left.refunded) == (JobStatus.RUNNING, 1, 0)
        assert left.heartbeat_at is not None
        assert left.heartbeat_at < stale_before(jobs.settings)
        # and another worker runs it to the end, charged once
        second = start_worker(jobs, tmp_path, "second.log", liveness={})
        await wait_for_job(jobs, job_id=job.id, timeout=120)
    finally:
        for process in (worker, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    done = await accounts.job(job.id)
    assert (done.status, done.attempts, done.refunded) == (JobStatus.SUCCEEDED, 2, 0)
    assert await accounts.balance(alice) == 49


async def test_closing_a_worker_whose_job_task_was_cancelled_still_shuts_down(
    jobs: Jobs,
):
    # given a worker with a job task that SIGTERM cancelled in arq's finishing tail
    from arq.connections import RedisSettings, create_pool

    from jobs.worker.arq_worker import build_worker, close_worker
    from jobs.worker.engine import Engine

    engine = Engine(jobs.catalog, cache_dir=jobs.settings.data_dir / "models")
    worker = build_worker(jobs, engine, burst=True, handle_signals=False)
    worker._pool = await create_pool(RedisSettings.from_dsn(jobs.settings.redis_url))
    tail = asyncio.create_task(asyncio.sleep(60))
    tail.cancel()
    worker.tasks["finished-job"] = tail
    # when the worker is closed
    await close_worker(worker)
    # then the close ran to its end: arq dropped its Redis pool
    assert worker._pool is None
