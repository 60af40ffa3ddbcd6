"""The upscale task: enlarge one output or upload, given only the job's id."""

import functools
import uuid

from PIL import Image

from core import tracing
from core.enums import Tier
from core.files import output_key
from core.models import Output
from core.uploads import get_upload
from jobs.services import Jobs
from jobs.submission import gallery_status
from jobs.worker.engine import Engine
from jobs.worker.execution import JobRun
from jobs.worker.tasks import (
    StorageFailed,
    WorkerContext,
    claim,
    open_image,
    read_input,
    run_claimed,
    store_output,
    task_span,
)


async def run_upscale(
    ctx: WorkerContext, job_id: str, traceparent: str | None = None
) -> None:
    """Run one upscale job; a repeated delivery is harmless. `traceparent`
    continues the trace of its submission."""
    jobs: Jobs = ctx["jobs"]
    with task_span("run_upscale", job_id, traceparent):
        claimed = await claim(jobs, uuid.UUID(job_id), ctx["worker_id"])
        if claimed:
            body = functools.partial(_upscale, jobs, ctx["engine"])
            await run_claimed(jobs, claimed, ctx["worker_id"], body)


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
    image = await engine.call(open_image, await read_input(jobs, key))
    with tracing.span("engine.upscale"):
        result = await engine.call(engine.upscale, image, job.model_id, run)
    with tracing.span("engine.save"):
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
    await store_output(jobs, run, output, data)


def _encode_upscaled(image: Image.Image, model_id: str) -> bytes:
    from engine.outputs import encode_image

    return encode_image(image, format="PNG", metadata={"upscaler": model_id})
