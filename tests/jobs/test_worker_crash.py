"""A worker killed mid-job: after a restart the job completes exactly once."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col

from core.enums import EventType, JobSource, JobStatus
from core.models import Output
from jobs.params import GenerationParams
from jobs.reads import wait_for_job
from jobs.services import Jobs
from jobs.submission import submit_generation

from .conftest import Accounts

pytestmark = pytest.mark.slow


SHORT_LIVENESS = {
    "DARKROOM_HEARTBEAT_SECONDS": "0.3",
    "DARKROOM_HEARTBEAT_STALE_SECONDS": "2",
    "DARKROOM_WORKER_POLL_DELAY_SECONDS": "0.05",
}


def start_worker(
    jobs: Jobs, tmp_path: Path, log: str, liveness: dict[str, str] = SHORT_LIVENESS
) -> subprocess.Popen[bytes]:
    settings = jobs.settings
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "DARKROOM_DATABASE_URL": settings.database_url,
        "DARKROOM_REDIS_URL": settings.redis_url,
        "DARKROOM_DATA_DIR": str(settings.data_dir),
        "DARKROOM_STORAGE_URL": str(jobs.storage.root),  # type: ignore[attr-defined]
        **liveness,
    }
    with open(tmp_path / log, "wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "darkroom"), "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def until_progress(jobs: Jobs, job_id: uuid.UUID, timeout: float) -> None:
    """Wait until the job reports its first step: it is running on a worker."""
    async with asyncio.timeout(timeout):
        async for event in jobs.events.watch_job(job_id):
            if event.type is EventType.PROGRESS:
                return


async def test_a_job_whose_worker_is_killed_completes_once_after_a_restart(
    jobs: Jobs, accounts: Accounts, tmp_path: Path
):
    # given a slow job (256 px, 16 steps) running in a worker process
    alice = await accounts.caller("alice@example.com")
    params = GenerationParams(
        prompt="a red fox",
        width=256,
        height=256,
        inference_steps=16,
        num_outputs=1,
        seed=3,
    )
    job = (
        await submit_generation(jobs, caller=alice, params=params, source=JobSource.API)
    ).job
    first = start_worker(jobs, tmp_path, "first.log")
    second = None
    try:
        await until_progress(jobs, job.id, 120)
        # when the worker is killed outright mid-job
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert (await accounts.job(job.id)).status is JobStatus.RUNNING
        # and, once its heartbeat is stale, a new worker starts
        await asyncio.sleep(2.5)
        second = start_worker(jobs, tmp_path, "second.log")
        await wait_for_job(jobs, job_id=job.id, timeout=120)
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.kill()
                worker.wait()
    # then the job succeeded on its second attempt, charged once, one output stored
    done = await accounts.job(job.id)
    assert (done.status, done.attempts, done.refunded) == (JobStatus.SUCCEEDED, 2, 0)
    assert await accounts.balance(alice) == 49
    async with jobs.db.session() as session:
        outputs = list(
            await session.scalars(sa.select(Output).where(col(Output.job_id) == job.id))
        )
    assert [(o.index, o.seed, o.width) for o in outputs] == [(0, 3, 256)]
    assert await jobs.storage.exists(f"outputs/{job.id}/0.png")


async def test_a_killed_workers_job_moves_to_a_live_worker_within_15_s_by_default(
    jobs: Jobs, accounts: Accounts, tmp_path: Path
):
    # given two workers on the default liveness settings, one running a long job
    alice = await accounts.caller("alice@example.com")
    params = GenerationParams(
        prompt="a red fox",
        width=256,
        height=256,
        inference_steps=40,
        num_outputs=1,
        seed=5,
    )
    workers = [start_worker(jobs, tmp_path, f"w{i}.log", liveness={}) for i in (1, 2)]
    try:
        await asyncio.sleep(8)  # both loaded and polling
        job = (
            await submit_generation(
                jobs, caller=alice, params=params, source=JobSource.API
            )
        ).job
        await until_progress(jobs, job.id, 60)
        running = await accounts.job(job.id)
        pid = int(str(running.worker_id).split(":")[2])
        victim = next(w for w in workers if w.pid == pid)
        # when the worker running it is killed outright
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed_at = time.monotonic()
        # then the other worker starts it again within 15 s
        while (await accounts.job(job.id)).attempts < 2:
            assert time.monotonic() - killed_at < 15, "not taken over in 15 s"
            await asyncio.sleep(0.2)
        took = time.monotonic() - killed_at
        await wait_for_job(jobs, job_id=job.id, timeout=120)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    # and it succeeded there, charged once
    done = await accounts.job(job.id)
    assert (done.status, done.attempts, done.refunded) == (JobStatus.SUCCEEDED, 2, 0)
    assert str(done.worker_id).split(":")[2] != str(pid)
    assert await accounts.balance(alice) == 49
    print(f"taken over {took:.1f} s after the kill")
