"""Job resolvers: submit, cancel, upload, read and page through jobs."""

from typing import Annotated, Any

import strawberry
from starlette.datastructures import UploadFile
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info

from core.enums import JobSource
from core.errors import ErrorCode, ServiceError
from core.uploads import MAX_UPLOAD_BYTES, save_upload
from core.webhooks.job_hooks import JobHook
from jobs.ending import cancel_job
from jobs.params import GenerationParams, UpscaleParams
from jobs.reads import get_job, list_jobs, wait_for_job
from jobs.submission import Submitted, submit_generation, submit_upscale
from resolvers.context import Context
from resolvers.errors import refusals_in_graphql_terms, user_errors
from resolvers.jobs.inputs import (
    GenerationCreateInput,
    JobHookInput,
    JobWhere,
    UpscaleCreateInput,
)
from resolvers.jobs.payloads import (
    GenerationCreatePayload,
    ImageUploadPayload,
    JobCancelPayload,
    UpscaleCreatePayload,
)
from resolvers.jobs.types import Job, UploadedImage
from schema.arguments import After, Before, First, Last, arg
from schema.ids import catalog_key, optional_row_id, row_id
from schema.paging import Connection, connection, selects

MAX_WAIT_SECONDS = 60
Wait = Annotated[
    int | None,
    strawberry.argument(
        description="Seconds (0 to 60) to wait for the job to finish before answering."
    ),
]
JobId = Annotated[relay.GlobalID, strawberry.argument(description="The job's id.")]


def source_of(info: Info[Context, Any]) -> JobSource:
    """Which client sent the request: WEB for a console session; with a token, CLI
    when the CLI says so in a header, else API.

    A header is the token holder's word, so it can only tell its own clients
    apart; WEB is for jobs of a signed-in browser session, which no header earns
    (any token could otherwise record its jobs as WEB).
    """
    caller = info.context.caller
    if caller is not None and caller.session_id is not None:
        return JobSource.WEB  # earned by signing in, never by a header
    claimed = (info.context.request.headers.get("x-darkroom-source") or "").upper()
    return JobSource.CLI if claimed == JobSource.CLI.value else JobSource.API


def check_wait(wait: int | None) -> None:
    """Refuse a wait outside 0..60 seconds before anything is submitted."""
    if wait is not None and not 0 <= wait <= MAX_WAIT_SECONDS:
        message = f"wait must be 0..{MAX_WAIT_SECONDS} seconds; got {wait}"
        raise ServiceError(ErrorCode.OUT_OF_RANGE, message, "wait")


def generation_params(input: GenerationCreateInput) -> GenerationParams:
    """The request under its own names; a null field takes its default."""
    given: dict[str, Any] = {
        k: v for k, v in strawberry.asdict(input).items() if v is not None
    }
    if input.model_id is not None:
        given["model_id"] = catalog_key(input.model_id, "Model")
    given["init_image_id"] = optional_row_id(
        input.init_image_id, "UploadedImage", field="init_image_id"
    )
    given["webhook"] = job_hook(input.webhook)
    return GenerationParams(**given)


def job_hook(input: JobHookInput | None) -> JobHook | None:
    """The job's own webhook as submitted."""
    if input is None:
        return None
    events = None if input.events is None else tuple(input.events)
    return JobHook(url=input.url, events=events)


async def settled(
    info: Info[Context, Any], submitted: Submitted, wait: int | None
) -> Job:
    """The job, after waiting up to `wait` seconds for it to finish."""
    job = submitted.job
    if not wait:
        return Job.from_row(job, place=submitted.place)
    jobs = info.context.jobs
    await wait_for_job(jobs, job_id=job.id, timeout=wait)
    return Job.from_row(await get_job(jobs, user_id=job.user_id, job_id=job.id))


async def resolve_generation_create(
    info: Info[Context, Any],
    input: Annotated[GenerationCreateInput, arg("What to generate.")],
    wait: Wait = None,
) -> GenerationCreatePayload:
    """Submit a generation for the caller; `wait` returns it finished if it is in time."""
    try:
        check_wait(wait)
        submitted = await submit_generation(
            info.context.jobs,
            caller=info.context.user_caller,
            params=generation_params(input),
            source=source_of(info),
        )
    except ServiceError as err:
        return GenerationCreatePayload(job=None, user_errors=user_errors(err, info))
    job = await settled(info, submitted, wait)
    return GenerationCreatePayload(job=job, user_errors=[])


async def resolve_upscale_create(
    info: Info[Context, Any],
    input: Annotated[UpscaleCreateInput, arg("What to upscale.")],
    wait: Wait = None,
) -> UpscaleCreatePayload:
    """Submit a 4x upscale; an output already upscaled comes back free."""
    try:
        check_wait(wait)
        params = UpscaleParams(
            image_id=optional_row_id(input.image_id, "UploadedImage", field="image_id"),
            output_id=optional_row_id(input.output_id, "Output", field="output_id"),
            model_id=None
            if input.model_id is None
            else catalog_key(input.model_id, "UpscaleModel"),
            idempotency_key=input.idempotency_key,
            webhook=job_hook(input.webhook),
        )
        submitted = await submit_upscale(
            info.context.jobs,
            caller=info.context.user_caller,
            params=params,
            source=source_of(info),
        )
    except ServiceError as err:
        errors = user_errors(err, info)
        return UpscaleCreatePayload(job=None, reused=False, user_errors=errors)
    job = await settled(info, submitted, wait)
    return UpscaleCreatePayload(job=job, reused=submitted.reused, user_errors=[])


async def resolve_job_cancel(info: Info[Context, Any], id: JobId) -> JobCancelPayload:
    """Cancel one of the caller's jobs, refunding what was not delivered."""
    try:
        row = await cancel_job(
            info.context.jobs, caller=info.context.user_caller, job_id=row_id(id, "Job")
        )
    except ServiceError as err:
        return JobCancelPayload(job=None, user_errors=user_errors(err, info))
    return JobCancelPayload(job=Job.from_row(row), user_errors=[])


async def resolve_image_upload(
    info: Info[Context, Any],
    file: Annotated[
        Upload, arg("The image file, sent as a GraphQL multipart request.")
    ],
) -> ImageUploadPayload:
    """Store an input image after decoding it (PNG, JPEG or WebP, at most 10 MB)."""
    ctx = info.context
    try:
        if not isinstance(file, UploadFile):
            # Strawberry's Upload scalar takes any value, a string literal included.
            message = "file must be a file part of a GraphQL multipart request"
            raise ServiceError(ErrorCode.REQUIRED, message, "file")
        try:
            # One byte past the limit is enough to refuse; never the whole file.
            data = await file.read(MAX_UPLOAD_BYTES + 1)
        finally:
            await file.close()  # frees its spooled temp file
        async with ctx.db.session() as session:
            upload = await save_upload(
                session,
                ctx.services.storage,
                user_id=ctx.user_caller.user.id,
                data=data,
            )
    except ServiceError as err:
        return ImageUploadPayload(upload=None, user_errors=user_errors(err, info))
    return ImageUploadPayload(upload=UploadedImage.from_row(upload), user_errors=[])


@refusals_in_graphql_terms
async def resolve_job(info: Info[Context, Any], id: JobId) -> Job:
    """One of the caller's jobs; another account's id is not found."""
    row = await get_job(
        info.context.jobs,
        user_id=info.context.user_caller.user.id,
        job_id=row_id(id, "Job"),
    )
    return Job.from_row(row)


@refusals_in_graphql_terms
async def resolve_jobs(
    info: Info[Context, Any],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    where: Annotated[JobWhere | None, arg("Which jobs; default all.")] = None,
) -> Connection[Job]:
    """The caller's jobs, newest first; counted only when totalCount is asked for."""
    page = await list_jobs(
        info.context.jobs,
        user_id=info.context.user_caller.user.id,
        status=None if where is None or where.status is None else list(where.status),
        kind=None if where is None or where.kind is None else list(where.kind),
        first=first,
        after=after,
        last=last,
        before=before,
        with_total=selects(info, "totalCount"),
    )
    return connection(page, Job.from_row)
