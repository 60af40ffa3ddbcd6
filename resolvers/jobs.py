"""Job resolvers: submit, cancel, upload, read and watch jobs."""

import uuid
from typing import Annotated, Any

import strawberry
from starlette.datastructures import UploadFile
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.file_uploads import Upload
from strawberry.types import Info

from core.enums import JobSource, JobStatus
from core.errors import ErrorCode, ServiceError
from core.models import Job as JobRow
from core.models import Output
from core.uploads import MAX_UPLOAD_BYTES, save_upload
from jobs.positions import queue_position
from jobs.services import Jobs
from jobs.submission import (
    GenerationParams,
    UpscaleParams,
    cancel_job,
    get_job,
    list_jobs,
    submit_generation,
    submit_upscale,
    wait_for_job,
)
from jobs.views import jobs_by_ids, outputs_of_jobs
from resolvers.context import Context
from resolvers.errors import user_errors
from resolvers.mutations import node_uuid
from resolvers.paging import page_info
from resolvers.queries import caller_of
from schema.jobs import (
    GenerationCreateInput,
    GenerationCreatePayload,
    ImageUploadPayload,
    Job,
    JobCancelPayload,
    JobConnection,
    JobEdge,
    JobError,
    JobOutput,
    JobWhere,
    UploadedImage,
    UpscaleCreateInput,
    UpscaleCreatePayload,
)

MAX_WAIT_SECONDS = 60
Wait = Annotated[
    int | None,
    strawberry.argument(
        description="Seconds (0 to 60) to wait for the job to finish before answering."
    ),
]
JobId = Annotated[relay.GlobalID, strawberry.argument(description="The job's id.")]


def arg(description: str) -> Any:
    """An argument's description."""
    return strawberry.argument(description=description)


def jobs_of(info: Info[Context, Any]) -> Jobs:
    """The jobs facade the composition root started."""
    jobs = info.context.services.jobs
    assert jobs is not None, "started by the app's lifespan"
    return jobs


def source_of(info: Info[Context, Any]) -> JobSource:
    """Which client sent the request: the web app and CLI say so in a header."""
    request = info.context.request
    claimed = (request.headers.get("x-darkroom-source") or "").upper()
    return JobSource(claimed) if claimed in JobSource.__members__ else JobSource.API


def optional_uuid(value: str | None, field: str) -> uuid.UUID | None:
    """An id argument as a UUID; a malformed one is simply not found."""
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        try:
            return uuid.UUID(relay.GlobalID.from_id(str(value)).node_id)
        except ValueError:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no such {field}", field) from None


async def to_job_output(info: Info[Context, Any], output: Output) -> JobOutput:
    """The GraphQL view of one stored image."""
    url = await info.context.services.storage.url(
        output.storage_key, public=output.is_public
    )
    return JobOutput(
        id=relay.to_base64("Output", str(output.id)),  # type: ignore[arg-type]  # ID is str
        index=output.index,
        image_url=url,
        width=output.width,
        height=output.height,
        seed=output.seed,
    )


def outputs_loader(info: Info[Context, Any]) -> DataLoader[uuid.UUID, list[Output]]:
    """Per-request loader of each job's outputs, so a page of jobs costs one query."""
    loaders = info.context.loaders
    if "job_outputs" not in loaders:
        user_id = caller_of(info).user.id
        jobs = jobs_of(info)

        async def load(ids: list[uuid.UUID]) -> list[list[Output]]:
            found = await outputs_of_jobs(jobs, user_id=user_id, job_ids=ids)
            return [found.get(i, []) for i in ids]

        loaders["job_outputs"] = DataLoader(load_fn=load)
    loader: DataLoader[uuid.UUID, list[Output]] = loaders["job_outputs"]
    return loader


async def load_job(info: Info[Context, Any], job_id: uuid.UUID) -> Job | None:
    """One of the caller's jobs through the request's DataLoader (for Output.job)."""
    loaders = info.context.loaders
    if "jobs" not in loaders:
        user_id = caller_of(info).user.id
        jobs = jobs_of(info)

        async def load(ids: list[uuid.UUID]) -> list[JobRow | None]:
            found = await jobs_by_ids(jobs, user_id=user_id, job_ids=ids)
            return [found.get(i) for i in ids]

        loaders["jobs"] = DataLoader(load_fn=load)
    row: JobRow | None = await loaders["jobs"].load(job_id)
    return None if row is None else await to_job(info, row)


async def to_job(info: Info[Context, Any], row: JobRow) -> Job:
    """The GraphQL view of a job row."""
    position, eta = await queue_position(jobs_of(info), job=row)
    outputs = await outputs_loader(info).load(row.id)
    params = row.params
    error = (
        JobError(code=row.error_code, message=row.error_message or "")
        if row.error_code
        else None
    )
    return Job(
        job_id=str(row.id),
        kind=row.kind,
        status=row.status,
        source=row.source,
        model_id=row.model_id,
        prompt=params.get("prompt"),
        num_outputs=int(params.get("num_outputs", 1)),
        seed=params.get("seed"),
        width=params.get("width"),
        height=params.get("height"),
        step=row.step,
        total_steps=row.total_steps,
        progress=1.0
        if row.status is JobStatus.SUCCEEDED
        else (row.step / row.total_steps if row.total_steps else 0.0),
        queue_position=position,
        eta_seconds=eta,
        cost=row.cost,
        refunded=row.refunded,
        error=error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outputs=[await to_job_output(info, o) for o in outputs],
    )


def check_wait(wait: int | None) -> None:
    """Refuse a wait outside 0..60 seconds before anything is submitted."""
    if wait is not None and not 0 <= wait <= MAX_WAIT_SECONDS:
        message = f"wait must be 0..{MAX_WAIT_SECONDS} seconds; got {wait}"
        raise ServiceError(ErrorCode.OUT_OF_RANGE, message, "wait")


async def _settled(info: Info[Context, Any], row: JobRow, wait: int | None) -> Job:
    """The job, after waiting up to `wait` seconds for it to finish."""
    if wait:
        await wait_for_job(jobs_of(info), job_id=row.id, timeout=wait)
        row = await get_job(jobs_of(info), user_id=row.user_id, job_id=row.id)
    return await to_job(info, row)


async def resolve_generation_create(
    info: Info[Context, Any],
    input: Annotated[GenerationCreateInput, arg("What to generate.")],
    wait: Wait = None,
) -> GenerationCreatePayload:
    """Submit a generation for the caller; `wait` returns it finished if it is in time."""
    caller = caller_of(info)
    try:
        check_wait(wait)
        params = GenerationParams(
            prompt=input.prompt,
            model_id=input.model_id,
            negative_prompt=input.negative_prompt,
            width=input.width,
            height=input.height,
            num_outputs=input.num_outputs,
            guidance_scale=input.guidance_scale,
            inference_steps=input.inference_steps,
            scheduler_id=input.scheduler_id,
            seed=input.seed,
            init_image_id=optional_uuid(input.init_image_id, "init_image_id"),
            prompt_strength=input.prompt_strength,
            is_public=input.is_public,
            idempotency_key=input.idempotency_key,
            previews=input.previews,
        )
        row = await submit_generation(
            jobs_of(info), caller=caller, params=params, source=source_of(info)
        )
    except ServiceError as err:
        return GenerationCreatePayload(job=None, user_errors=user_errors(err))
    return GenerationCreatePayload(job=await _settled(info, row, wait), user_errors=[])


async def resolve_upscale_create(
    info: Info[Context, Any],
    input: Annotated[UpscaleCreateInput, arg("What to upscale.")],
    wait: Wait = None,
) -> UpscaleCreatePayload:
    """Submit a 4x upscale; an output already upscaled comes back free."""
    caller = caller_of(info)
    try:
        check_wait(wait)
        params = UpscaleParams(
            image_id=optional_uuid(input.image_id, "image_id"),
            output_id=optional_uuid(input.output_id, "output_id"),
            model_id=input.model_id,
            idempotency_key=input.idempotency_key,
        )
        row, reused = await submit_upscale(
            jobs_of(info), caller=caller, params=params, source=source_of(info)
        )
    except ServiceError as err:
        return UpscaleCreatePayload(
            job=None, reused=False, user_errors=user_errors(err)
        )
    job = await _settled(info, row, wait)
    return UpscaleCreatePayload(job=job, reused=reused, user_errors=[])


async def resolve_job_cancel(info: Info[Context, Any], id: JobId) -> JobCancelPayload:
    """Cancel one of the caller's jobs, refunding what was not delivered."""
    try:
        job_id = node_uuid(id, "Job")
        row = await cancel_job(jobs_of(info), caller=caller_of(info), job_id=job_id)
    except ServiceError as err:
        return JobCancelPayload(job=None, user_errors=user_errors(err))
    return JobCancelPayload(job=await to_job(info, row), user_errors=[])


async def resolve_image_upload(
    info: Info[Context, Any],
    file: Annotated[
        Upload, arg("The image file, sent as a GraphQL multipart request.")
    ],
) -> ImageUploadPayload:
    """Store an input image after decoding it (PNG, JPEG or WebP, at most 10 MB)."""
    ctx = info.context
    if not isinstance(file, UploadFile):
        # Strawberry's Upload scalar takes any value, a string literal included.
        message = "file must be a file part of a GraphQL multipart request"
        refusal = ServiceError(ErrorCode.REQUIRED, message, "file")
        return ImageUploadPayload(upload=None, user_errors=user_errors(refusal))
    try:
        # One byte past the limit is enough to refuse; never the whole file.
        data = await file.read(MAX_UPLOAD_BYTES + 1)
    finally:
        await file.close()  # frees its spooled temp file
    try:
        async with ctx.db.session() as session:
            upload = await save_upload(
                session,
                ctx.services.storage,
                user_id=caller_of(info).user.id,
                data=data,
            )
    except ServiceError as err:
        return ImageUploadPayload(upload=None, user_errors=user_errors(err))
    return ImageUploadPayload(
        upload=UploadedImage(
            id=str(upload.id),  # type: ignore[arg-type]  # ID is str
            format=upload.format,
            width=upload.width,
            height=upload.height,
            size_bytes=upload.size_bytes,
        ),
        user_errors=[],
    )


async def resolve_job(info: Info[Context, Any], id: JobId) -> Job:
    """One of the caller's jobs; another account's id is not found."""
    row = await get_job(
        jobs_of(info), user_id=caller_of(info).user.id, job_id=node_uuid(id, "Job")
    )
    return await to_job(info, row)


async def resolve_jobs(
    info: Info[Context, Any],
    first: Annotated[int, arg("Page size, 1 to 100.")] = 50,
    after: Annotated[str | None, arg("Cursor of the last job already seen.")] = None,
    where: Annotated[JobWhere | None, arg("Which jobs; default all.")] = None,
) -> JobConnection:
    """The caller's jobs, newest first."""
    page, has_next = await list_jobs(
        jobs_of(info),
        user_id=caller_of(info).user.id,
        status=list(where.status) if where and where.status else None,
        first=first,
        after=after,
    )
    edges = [
        JobEdge(cursor=cursor, node=await to_job(info, row)) for cursor, row in page
    ]
    return JobConnection(
        edges=edges,
        page_info=page_info(edges, has_next_page=has_next),
    )
