"""A worker killed mid-job: after a restart the job completes exactly once."""

import asyncio
import os
import signal
import subprocess
import sys
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


def start_worker(jobs: Jobs, tmp_path: Path, log: str) -> subprocess.Popen[bytes]:
    settings = jobs.settings
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "DARKROOM_DATABASE_URL": settings.database_url,
        "DARKROOM_REDIS_URL": settings.redis_url,
        "DARKROOM_DATA_DIR": str(settings.data_dir),
        "DARKROOM_STORAGE_URL": str(jobs.storage.root),  # type: ignore[attr-defined]
        "DARKROOM_HEARTBEAT_SECONDS": "0.3",
        "DARKROOM_HEARTBEAT_STALE_SECONDS": "2",
        "DARKROOM_WORKER_POLL_DELAY_SECONDS": "0.05",
    }
    with open(tmp_path / log, "wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "darkroom"), "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


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
        async with asyncio.timeout(120):
            async for event in jobs.events.watch_job(job.id):
                if event.type is EventType.PROGRESS:
                    break
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
