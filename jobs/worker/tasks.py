"""The tasks: run one generation or upscale, given only the job's id.

arq delivers at least once, so each step is safe to repeat: the claim is a
conditional update, storage keys and output rows are keyed by (job, index), and
the terminal state is written with its refund only while the job is still ours.
The arq worker and the in-process runner both call these.
"""

import asyncio
import io
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from PIL import Image
from sqlmodel import col

from core.enums import EventType, JobStatus, Tier
from core.errors import JobErrorCode
from core.files import output_key
from core.models import Job, Output, User
from core.uploads import get_upload
from engine.catalog import UnknownModel
from engine.requests import ResolvedRequest
from jobs.ending import announce_end
from jobs.lifecycle import Ending, Guard, claim_job, finish_job, stale_before
from jobs.outage import PATIENCE_SECONDS, retry_redis
from jobs.params import resolved_from_params
from jobs.positions import publish_positions
from jobs.services import Jobs
from jobs.submission import gallery_status
from jobs.worker.engine import Engine
from jobs.worker.execution import JobRun, StopReason

log = logging.getLogger(__name__)
WorkerContext = dict[str, Any]  # arq's ctx: "jobs", "engine", "worker_id"


def worker_id(kind: str) -> str:
    """A name for this worker that is unique across hosts and restarts."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class StorageFailed(Exception):  # noqa: N818  # reads as the event it reports
    """Reading an input or writing an output failed.

    The exception's text (with keys and the storage's own error) is logged;
    `public` is what the job's owner reads in Job.error.
    """

    def __init__(self, detail: str, *, public: str) -> None:
        super().__init__(detail)
        self.public = public


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


async def run_generation(ctx: WorkerContext, job_id: str) -> None:
    """Run one generation job; a repeated delivery is harmless."""
    await _execute(ctx, uuid.UUID(job_id), _generate)


async def run_upscale(ctx: WorkerContext, job_id: str) -> None:
    """Run one upscale job; a repeated delivery is harmless."""
    await _execute(ctx, uuid.UUID(job_id), _upscale)


Body = Callable[[Jobs, Engine, JobRun, Tier], Awaitable[None]]


async def _execute(ctx: WorkerContext, job_id: uuid.UUID, body: Body) -> None:
    jobs: Jobs = ctx["jobs"]
    engine: Engine = ctx["engine"]
    worker_id: str = ctx["worker_id"]
    async with jobs.db.session() as session:
        job = await claim_job(
            session,
            job_id=job_id,
            worker_id=worker_id,
            stale_before=stale_before(jobs.settings),
        )
        user = None if job is None else await session.get(User, job.user_id)
    if job is None or user is None:
        return  # finished, cancelled, or held by a live worker
    positions: asyncio.Task[bool] | None = None
    try:
        async with JobRun(jobs, job, worker_id=worker_id) as run:
            if job.attempts == 1:
                # It left the queue: those behind move up. Off the job's own
                # path, beside the engine; awaited before the task ends.
                positions = asyncio.create_task(
                    retry_redis(
                        lambda: publish_positions(jobs),
                        what="queue places",
                        patience=0,
                    ),
                    name="positions",
                )
            done = await _run_body(jobs, engine, run, body, user.tier, worker_id)
    finally:
        if positions is not None:
            await _settle(positions)
    if done is not None:
        finished, dispatched = done
        # Subscribers wait on this event: wait out a Redis outage for it.
        await announce_end(
            jobs, finished, dispatched, left_queue=False, patience=PATIENCE_SECONDS
        )


async def _settle(task: "asyncio.Task[Any]") -> None:
    """Wait for a side task; log its failure rather than fail the job."""
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", task.get_name(), exc_info=task.exception())


async def _run_body(
    jobs: Jobs, engine: Engine, run: JobRun, body: Body, tier: Tier, worker_id: str
) -> tuple[Job, list[Job]] | None:
    """Run the body and write the job's end; None when the job is no longer ours."""
    ending = await _outcome(jobs, engine, run, body, tier)
    if ending is None:
        return None  # no longer ours: whoever owns it now writes the end
    await run.flush()
    if ending.status is JobStatus.CANCELLED:
        # A cancel refunds the images not delivered.
        delivered = await _delivered(jobs, run.job.id)
        ending = replace(ending, refund=run.job.cost - delivered)
    async with jobs.db.session() as session:
        return await finish_job(
            session,
            job_id=run.job.id,
            ending=ending,
            settings=jobs.settings,
            guard=Guard(only_from=(JobStatus.RUNNING,), worker_id=worker_id),
            user_id=run.job.user_id,
        )


async def _outcome(
    jobs: Jobs, engine: Engine, run: JobRun, body: Body, tier: Tier
) -> Ending | None:
    """Run the body; how the job ends, or None when it is no longer ours."""
    from engine.progress import Cancelled

    job = run.job
    try:
        await body(jobs, engine, run, tier)
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


async def _generate(jobs: Jobs, engine: Engine, run: JobRun, tier: Tier) -> None:
    job = run.job
    stored = job.params
    init_image = None
    init_image_id = stored.get("init_image_id")
    upload_id = None if init_image_id is None else uuid.UUID(init_image_id)
    if upload_id is not None:
        async with jobs.db.session() as session:
            upload = await get_upload(session, user_id=job.user_id, upload_id=upload_id)
        init_image = await engine.call(
            _open_image, await _read(jobs, upload.storage_key)
        )
    request = resolved_from_params(
        stored, jobs.catalog, model_id=job.model_id, init_image=init_image
    )
    result = await engine.call(engine.generate, request, run)
    is_public = bool(stored.get("is_public"))
    for generated in result.images:
        data = await engine.call(
            _encode_generated, generated.image, request, generated.seed
        )
        output = Output(
            job_id=job.id,
            user_id=job.user_id,
            index=generated.index,
            storage_key=output_key(job.id, generated.index),
            format="PNG",
            width=generated.image.width,
            height=generated.image.height,
            seed=generated.seed,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            model_id=job.model_id,
            scheduler_id=request.scheduler_id,
            inference_steps=request.inference_steps,
            guidance_scale=request.guidance_scale,
            prompt_strength=request.prompt_strength,
            init_image_id=upload_id,
            source=job.source,
            is_public=is_public,
            gallery_status=gallery_status(is_public, tier, jobs.settings),
        )
        await _deliver(jobs, run, output, data)


async def _upscale(jobs: Jobs, engine: Engine, run: JobRun, tier: Tier) -> None:
    job = run.job
    source: Output | None = None
    async with jobs.db.session() as session:
        if job.params.get("output_id"):
            source = await session.get(Output, uuid.UUID(job.params["output_id"]))
            if source is None or source.deleted_at is not None:
                # Deleting an output removes its file: nothing is left to enlarge.
                raise StorageFailed(
                    f"output {job.params['output_id']} was deleted",
                    public="the output to upscale was deleted before the job ran",
                )
            key = source.storage_key
        else:
            upload = await get_upload(
                session,
                user_id=job.user_id,
                upload_id=uuid.UUID(job.params["image_id"]),
            )
            key = upload.storage_key
    image = await engine.call(_open_image, await _read(jobs, key))
    result = await engine.call(engine.upscale, image, job.model_id, run)
    data = await engine.call(_encode_upscaled, result.image, job.model_id)
    output = Output(
        job_id=job.id,
        user_id=job.user_id,
        index=0,
        storage_key=output_key(job.id, 0),
        format="PNG",
        width=result.image.width,
        height=result.image.height,
        seed=None if source is None else source.seed,
        prompt="" if source is None else source.prompt,
        negative_prompt="" if source is None else source.negative_prompt,
        model_id=job.model_id,
        scheduler_id=None if source is None else source.scheduler_id,
        source=job.source,
        upscaled_from_id=None if source is None else source.id,
        is_upscaled=True,  # an upscale, whether of an output or of an upload
        is_public=bool(job.params.get("is_public")),
        gallery_status=gallery_status(False, tier, jobs.settings),
    )
    await _deliver(jobs, run, output, data)


async def _read(jobs: Jobs, key: str) -> bytes:
    try:
        return await jobs.storage.get(key)
    except Exception as err:
        raise StorageFailed(
            f"cannot read {key}: {err!r}",
            public="the input image could not be read from storage",
        ) from err


async def _deliver(jobs: Jobs, run: JobRun, output: Output, data: bytes) -> None:
    """Store the file, then its row (once per job and index), then announce it."""
    try:
        await jobs.storage.put(output.storage_key, data, "image/png")
    except Exception as err:
        raise StorageFailed(
            f"cannot store {output.storage_key}: {err!r}",
            public="the finished image could not be stored",
        ) from err
    async with jobs.db.session() as session:
        # A first attempt cannot have stored this index before: skip the read.
        existing = None
        if run.job.attempts > 1:
            existing = await session.scalar(
                sa.select(Output).where(
                    col(Output.job_id) == output.job_id,
                    col(Output.index) == output.index,
                )
            )
        if existing is None:
            session.add(output)
            await session.flush()
        else:
            output = existing
    run.emit(EventType.OUTPUT, output=output.model_dump(mode="json"), step=run.step)


async def _delivered(jobs: Jobs, job_id: uuid.UUID) -> int:
    async with jobs.db.session() as session:
        found = await session.scalar(
            sa.select(sa.func.count()).where(col(Output.job_id) == job_id)
        )
    return int(found or 0)


def _open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _encode_generated(
    image: Image.Image, resolved: ResolvedRequest, seed: int
) -> bytes:
    from engine.outputs import encode_image, generation_metadata

    return encode_image(
        image, format="PNG", metadata=generation_metadata(resolved, seed)
    )


def _encode_upscaled(image: Image.Image, model_id: str) -> bytes:
    from engine.outputs import encode_image

    return encode_image(image, format="PNG", metadata={"upscaler": model_id})
