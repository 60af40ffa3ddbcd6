"""What every task shares: claim, run each claimed job under its own JobRun,
store its outputs, write and announce its end.

arq delivers at least once, so each step is safe to repeat: the claim is a
conditional update, storage keys are keyed by (job, index), and output rows are
written with the terminal state and its refund, in one transaction, only while
the job is still ours.
The arq worker and the in-process runner both run the tasks (generation.py,
upscale.py) that build on this.
"""

import asyncio
import io
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from opentelemetry.trace import Span, SpanKind
from PIL import Image

from core import logcontext, tracing
from core.db import retry_database
from core.enums import EventType, JobStatus, Tier
from core.errors import JobErrorCode
from core.models import Job, Output
from engine.catalog import UnknownModel
from jobs.claiming import Claimed, claim_companions, claim_job
from jobs.ending import announce_end
from jobs.lifecycle import Ending, Guard, finish_job, stale_before
from jobs.outage import PATIENCE_SECONDS, retry_redis
from jobs.services import Jobs
from jobs.worker.execution import JobRun, StopReason

log = logging.getLogger(__name__)
# How long a worker waits for a database that went away before giving up a write.
DATABASE_PATIENCE_SECONDS = 120
WorkerContext = dict[str, Any]  # arq's ctx: "jobs", "engine", "worker_id"
# One claimed job's work on the engine; it raises to end the job otherwise.
Body = Callable[[JobRun, Tier], Awaitable[None]]


def worker_id(kind: str) -> str:
    """A name for this worker that is unique across hosts and restarts."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def task_span(
    task: str, job_id: str, traceparent: str | None
) -> AbstractContextManager[Span]:
    """The span of one delivery of a task: the submission's trace continued,
    or a trace of its own when the job was sent without one (the sweeper, the
    overflow, an enqueue made while tracing was off)."""
    return tracing.span(
        task,
        kind=SpanKind.CONSUMER,
        parent=tracing.continued(traceparent),
        attributes={"darkroom.job.id": job_id},
    )


class StorageFailed(Exception):  # noqa: N818  # reads as the event it reports
    """Reading an input or writing an output failed.

    The exception's text (with keys and the storage's own error) is logged;
    `public` is what the job's owner reads in Job.error.
    """

    def __init__(self, detail: str, *, public: str) -> None:
        super().__init__(detail)
        self.public = public


async def claim(
    jobs: Jobs, job_id: uuid.UUID, worker_id: str, *, companions: bool = False
) -> list[Claimed]:
    """Claim the job and, with `companions`, the queued jobs that can share its
    engine call; empty when the job is finished, cancelled or held elsewhere.

    A database that is away waits here (its restart must not lose the delivery:
    arq would not run the task again)."""
    with tracing.span("job.claim") as span:
        claimed = await retry_database(
            lambda: _claim_group(jobs, job_id, worker_id, companions=companions),
            what=f"job {job_id}: claim",
            patience=DATABASE_PATIENCE_SECONDS,
        )
        span.set_attribute("darkroom.job.claimed", len(claimed))
    return claimed


async def _claim_group(
    jobs: Jobs, job_id: uuid.UUID, worker_id: str, *, companions: bool
) -> list[Claimed]:
    async with jobs.db.session() as session:
        leader = await claim_job(
            session,
            job_id=job_id,
            worker_id=worker_id,
            stale_before=stale_before(jobs.settings),
        )
        if leader is None:
            return []
        group = [leader]
        if companions:
            group += await claim_companions(
                session,
                leader=leader.job,
                worker_id=worker_id,
                max_images=jobs.settings.batch_max_images,
            )
    return group


async def run_claimed(
    jobs: Jobs, claimed: list[Claimed], worker_id: str, body: Body
) -> None:
    """Run the claimed jobs side by side, each under its own JobRun; each writes
    and announces its end as soon as it has one."""
    if any(c.job.attempts == 1 for c in claimed):
        # They left the queue: those behind move up.
        await retry_redis(jobs.events.queue_moved, what="queue moved", patience=0)
    # One job's failure must not cut the others short: collect, then raise.
    results = await asyncio.gather(
        *(_run_one(jobs, c, worker_id, body) for c in claimed),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _run_one(jobs: Jobs, claimed: Claimed, worker_id: str, body: Body) -> None:
    # Each job runs in a task of its own (gather), so this stays with its lines.
    logcontext.job_id.set(str(claimed.job.id))
    logcontext.account_id.set(str(claimed.job.user_id))
    attributes = {
        "darkroom.job.id": str(claimed.job.id),
        "darkroom.model": claimed.job.model_id,
    }
    # The JobRun's events and the engine's phases are this span's children.
    with tracing.span("job.run", attributes=attributes) as span:
        async with JobRun(jobs, claimed.job, worker_id=worker_id) as run:
            done = await _run_body(jobs, run, body, claimed.tier, worker_id)
            if done is not None:
                finished, dispatched = done
                span.set_attribute("darkroom.job.status", finished.status.value)
                # Subscribers wait on this event: wait out a Redis outage for it.
                # Inside the run, so it need not wait for the run's webhook rows.
                await announce_end(
                    jobs,
                    finished,
                    dispatched,
                    left_queue=False,
                    patience=PATIENCE_SECONDS,
                )


async def _run_body(
    jobs: Jobs, run: JobRun, body: Body, tier: Tier, worker_id: str
) -> tuple[Job, list[Job]] | None:
    """Run the body, then write the job's end with the outputs it keeps in one
    transaction; None when the job is no longer ours."""
    ending = await _outcome(jobs, run, body, tier)
    if ending is None:
        return None  # no longer ours: whoever owns it now writes the end
    # A failure is refunded in full, so it keeps nothing; a cancel keeps what was
    # stored before it and refunds the rest.
    kept = [] if ending.status is JobStatus.FAILED else run.outputs
    if ending.status is JobStatus.CANCELLED:
        ending = replace(ending, refund=run.job.cost - len(kept))

    async def write_end() -> tuple[Job, list[Job]] | None:
        async with jobs.db.session() as session:
            return await finish_job(
                session,
                job_id=run.job.id,
                ending=replace(ending, outputs=tuple(kept)),
                settings=jobs.settings,
                guard=Guard(only_from=(JobStatus.RUNNING,), worker_id=worker_id),
                user_id=run.job.user_id,
            )

    # The work is done and stored: wait out a database restart to record it.
    with tracing.span("job.finish"):
        done = await retry_database(
            write_end,
            what=f"job {run.job.id}: end",
            patience=DATABASE_PATIENCE_SECONDS,
        )
    if done is not None:
        # Announced once their rows are committed, so a subscriber can read them.
        for output in kept:
            run.emit(
                EventType.OUTPUT, output=output.model_dump(mode="json"), step=run.step
            )
        if jobs.indexer is not None:
            jobs.indexer.index(kept)
    await run.flush()
    return done


async def _outcome(jobs: Jobs, run: JobRun, body: Body, tier: Tier) -> Ending | None:
    """Run the body; how the job ends, or None when it is no longer ours."""
    from engine.progress import Cancelled

    job = run.job
    try:
        await body(run, tier)
    except Cancelled:
        if run.reason is StopReason.CANCEL:
            return Ending(JobStatus.CANCELLED, step=run.step)
        if run.reason is StopReason.TIMEOUT:
            limit = f"ran longer than {jobs.settings.job_timeout_seconds:g} s"
            return Ending.failure(job, JobErrorCode.TIMEOUT, limit, run.step)
        return None
    except UnknownModel as err:
        # The model left the catalog after the job was accepted.
        return Ending.failure(job, JobErrorCode.INVALID_REQUEST, str(err), run.step)
    except StorageFailed as err:
        log.exception("job %s failed: %s", job.id, err)
        return Ending.failure(job, JobErrorCode.STORAGE_ERROR, err.public, run.step)
    except Exception as err:
        # The details (paths, library messages) are for the log, not the client.
        log.exception("job %s failed", job.id)
        message = _engine_failure(err, job.model_id)
        return Ending.failure(job, JobErrorCode.ENGINE_ERROR, message, run.step)
    return Ending(JobStatus.SUCCEEDED, step=run.step)


def _engine_failure(err: Exception, model_id: str) -> str:
    """A stable Job.error message for a failure inside the engine."""
    from engine.esrgan import WeightsFormatError
    from engine.pipelines import ModelLoadError

    if isinstance(err, ModelLoadError | WeightsFormatError):
        return (
            f"model {model_id} could not be loaded on the worker; the job was"
            " refunded and the operators can see why in the worker's log"
        )
    return (
        "the engine failed unexpectedly; the job was refunded and the error was"
        " logged for the operators"
    )


async def read_input(jobs: Jobs, key: str) -> bytes:
    """An input image's bytes from storage."""
    try:
        return await jobs.storage.get(key)
    except Exception as err:
        raise StorageFailed(
            f"cannot read {key}: {err!r}",
            public="the input image could not be read from storage",
        ) from err


async def store_output(jobs: Jobs, run: JobRun, output: Output, data: bytes) -> None:
    """Store the file; its row is written, and announced, with the job's end."""
    try:
        with tracing.span(
            "output.store", attributes={"darkroom.output.index": output.index}
        ):
            await jobs.storage.put(output.storage_key, data, "image/png")
    except Exception as err:
        raise StorageFailed(
            f"cannot store {output.storage_key}: {err!r}",
            public="the finished image could not be stored",
        ) from err
    run.outputs.append(output)


def open_image(data: bytes) -> Image.Image:
    """Decode an image fully (engine thread: decoding is CPU work)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
