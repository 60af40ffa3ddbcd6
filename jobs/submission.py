"""Submit generations and upscales: validate, charge and queue them.

A submission is one transaction: validate, lock the account, honour the
idempotency key, check the account's parallel slots and overflow, debit, insert
the job. Only after commit is it handed to the queue, so a worker never sees a
job that could still roll back; a lost enqueue is repaired by the sweeper.
"""

import asyncio
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core import tracing
from core.credits import (
    FreeCreditPolicy,
    debit_credits,
    lock_account,
    top_up_free_credits,
)
from core.enums import GalleryStatus, JobKind, JobSource, JobStatus, Tier
from core.errors import ErrorCode, ServiceError, ValidationFailed
from core.metrics import JOBS_SUBMITTED
from core.models import Job, Output, Upload, User, utcnow
from core.settings import Settings
from core.tokens import Caller, record_token_spend
from core.uploads import UPSCALE_MAX_PIXELS, get_upload
from core.webhooks.job_hooks import (
    DEFAULT_HOOK_EVENTS,
    JobHook,
    check_job_hook,
    format_hook_events,
)
from jobs.lifecycle import (
    enqueue_all,
    is_dispatched,
    is_waiting,
)
from jobs.outage import retry_redis
from jobs.params import (
    GenerationParams,
    UpscaleParams,
    check_idempotency_key,
    request_hash,
    resolve_generation,
    stored_params,
)
from jobs.positions import QueuePlace, issue_tickets, queue_places_in, queued_event
from jobs.services import Jobs

UPSCALE_COST = 1


@dataclass(frozen=True)
class Submitted:
    """What a submission did: the job, and where it stands."""

    job: Job
    # Its place as the QUEUED event announced it; None when no event went out.
    place: QueuePlace | None = None
    # True when an earlier job was returned instead (idempotency key, or an output
    # already upscaled): nothing was charged.
    reused: bool = False


@tracing.traced("job.submit")
async def submit_generation(
    jobs: Jobs, *, caller: Caller, params: GenerationParams, source: JobSource
) -> Submitted:
    """Validate, charge num_outputs credits and queue a generation."""
    user = caller.user
    digest = request_hash(JobKind.GENERATE, params)
    async with jobs.db.session() as session:
        problems: list[ServiceError] = []
        upload = None
        if params.init_image_id is not None:
            try:
                upload = await get_upload(
                    session, user_id=user.id, upload_id=params.init_image_id
                )
            except ServiceError as err:
                problems.append(ServiceError(err.code, err.message, "init_image_id"))
        hook = await _checked_hook(jobs.settings, params.webhook, problems)
        resolved = resolve_generation(
            params, jobs.catalog, upload=upload, problems=problems
        )
        user = await lock_account(session, user_id=user.id)
        existing = await _idempotent(session, user.id, params.idempotency_key, digest)
        if existing is not None:
            return Submitted(existing, reused=True)
        dispatch = await _take_slot(session, jobs.settings, user.id, user.tier)
        is_public = _is_public(jobs.settings, user.tier, params.is_public)
        job = Job(
            user_id=user.id,
            token_id=caller.token_id,
            kind=JobKind.GENERATE,
            source=source,
            status=JobStatus.QUEUED,
            paid_lane=user.tier.is_paid,
            model_id=resolved.model.id,
            params=stored_params(resolved, params, is_public=is_public),
            cost=resolved.num_outputs,
            idempotency_key=params.idempotency_key,
            request_hash=digest,
            total_steps=resolved.total_steps,
            enqueued_at=utcnow() if dispatch else None,
            webhook_url=None if hook is None else hook.url,
            webhook_events=_hook_events(hook),
        )
        place = await _charge_and_insert(session, jobs, caller, user, job)
    return Submitted(job, place=await _after_submit(jobs, job, place))


@tracing.traced("job.submit")
async def submit_upscale(
    jobs: Jobs, *, caller: Caller, params: UpscaleParams, source: JobSource
) -> Submitted:
    """Queue a 4x upscale for 1 credit; an output already upscaled is reused free."""
    user = caller.user
    digest = request_hash(JobKind.UPSCALE, params)
    problems = check_idempotency_key(params.idempotency_key)
    if (params.image_id is None) == (params.output_id is None):
        message = "give exactly one of image_id and output_id"
        problems.append(ServiceError(ErrorCode.REQUIRED, message, "image_id"))
    model_id = params.model_id or jobs.catalog.default_upscaler().id
    if model_id not in jobs.catalog.upscalers:
        known = ", ".join(jobs.catalog.upscalers)
        message = f"model_id must be one of {known}; got {model_id!r}"
        problems.append(ServiceError(ErrorCode.UNKNOWN_MODEL, message, "model_id"))
    async with jobs.db.session() as session:
        source_image = await _upscale_input(session, user.id, params, problems)
        hook = await _checked_hook(jobs.settings, params.webhook, problems)
        if problems:
            raise ValidationFailed(problems)
        assert source_image is not None  # no problems means an input was found
        user = await lock_account(session, user_id=user.id)
        existing = await _idempotent(session, user.id, params.idempotency_key, digest)
        if existing is not None:
            return Submitted(existing, reused=True)
        if params.output_id is not None:
            earlier = await _earlier_upscale(session, user.id, params.output_id)
            if earlier is not None:
                return Submitted(earlier, reused=True)
        dispatch = await _take_slot(session, jobs.settings, user.id, user.tier)
        width, height, is_public = source_image
        job = Job(
            user_id=user.id,
            token_id=caller.token_id,
            kind=JobKind.UPSCALE,
            source=source,
            status=JobStatus.QUEUED,
            paid_lane=user.tier.is_paid,
            model_id=model_id,
            params={
                "image_id": None if params.image_id is None else str(params.image_id),
                "output_id": None
                if params.output_id is None
                else str(params.output_id),
                "width": width,
                "height": height,
                "is_public": is_public,
            },
            cost=UPSCALE_COST,
            idempotency_key=params.idempotency_key,
            request_hash=digest,
            enqueued_at=utcnow() if dispatch else None,
            webhook_url=None if hook is None else hook.url,
            webhook_events=_hook_events(hook),
        )
        place = await _charge_and_insert(session, jobs, caller, user, job)
    return Submitted(job, place=await _after_submit(jobs, job, place))


# --- helpers ----------------------------------------------------------------------


async def _checked_hook(
    settings: Settings, hook: JobHook | None, problems: list[ServiceError]
) -> JobHook | None:
    """The job's own webhook, checked (a refused URL joins `problems`)."""
    if hook is None:
        return None
    allow = settings.webhook_allow_private
    return await check_job_hook(hook, allow_private=allow, problems=problems)


def _hook_events(hook: JobHook | None) -> str | None:
    """The hook's events as stored; None without a hook."""
    if hook is None:
        return None
    return format_hook_events(hook.events or DEFAULT_HOOK_EVENTS)


async def _idempotent(
    session: AsyncSession, user_id: uuid.UUID, key: str | None, digest: str
) -> Job | None:
    """The job an earlier request with this key made, if the input is the same."""
    if key is None:
        return None
    job = await session.scalar(
        sa.select(Job).where(
            col(Job.user_id) == user_id, col(Job.idempotency_key) == key
        )
    )
    if job is None:
        return None
    if job.request_hash != digest:
        message = f"idempotency_key {key!r} was already used with different input"
        raise ServiceError(ErrorCode.IDEMPOTENCY_CONFLICT, message, "idempotency_key")
    return job


async def _take_slot(
    session: AsyncSession, settings: Settings, user_id: uuid.UUID, tier: Tier
) -> bool:
    """True to dispatch now; False to wait in the overflow; refuse past its limit."""
    counts = (
        await session.execute(
            sa.select(
                sa.func.count().filter(is_waiting()),
                sa.func.count().filter(is_dispatched()),
            ).where(col(Job.user_id) == user_id)
        )
    ).one()
    waiting, running = int(counts[0] or 0), int(counts[1] or 0)
    if waiting == 0 and running < settings.parallel_limit(tier):
        return True
    if waiting >= settings.max_overflow:
        message = (
            f"at most {settings.max_overflow} jobs may wait for a free slot;"
            f" {waiting} are waiting"
        )
        raise ServiceError(ErrorCode.QUEUE_LIMIT_REACHED, message)
    return False


async def _charge_and_insert(
    session: AsyncSession, jobs: Jobs, caller: Caller, user: User, job: Job
) -> QueuePlace | None:
    """Insert the job and charge for it, under the account lock the caller holds;
    return its place in the queue, read in the same transaction."""
    # The job row goes in first: ledger rows of a refund point at it later.
    session.add(job)
    await session.flush()
    if user.tier is Tier.FREE:
        # Top-ups are applied lazily: one that is due counts toward this charge.
        policy = FreeCreditPolicy.from_settings(jobs.settings)
        await top_up_free_credits(session, user=user, policy=policy)
    await debit_credits(session, user_id=job.user_id, amount=job.cost, locked=True)
    if caller.token is not None:  # a console session spends as no token
        await record_token_spend(session, token_id=caller.token.id, credits=job.cost)
    if job.enqueued_at is not None:
        await issue_tickets(session, [job])
    # Read here rather than after commit: one transaction less on the way back.
    return (await queue_places_in(session, [job.id])).get(job.id)


async def _after_submit(
    jobs: Jobs, job: Job, place: QueuePlace | None
) -> QueuePlace | None:
    """Enqueue the committed job and announce it at its place, side by side (a late
    QUEUED event never follows a later one); return the place."""
    # The job is committed and charged: Redis being away must not turn that into
    # an error, which a client would retry and pay for twice. The sweeper sends
    # the job once Redis is back; until then nothing else here can work either.
    event = queued_event(
        job_id=job.id,
        user_id=job.user_id,
        total_steps=job.total_steps,
        cost=job.cost,
        place=place,
        at=job.created_at,
    )

    tracing.annotate("darkroom.job.id", str(job.id))

    async def enqueue() -> bool:
        if job.enqueued_at is None:
            # It waits in its account's overflow; whichever job's end frees its
            # slot enqueues it, so its run starts a trace of its own.
            return True
        with tracing.span("job.enqueue", kind=SpanKind.PRODUCER):
            return await retry_redis(
                lambda: enqueue_all(
                    jobs.queue, [job], traceparent=tracing.traceparent()
                ),
                what=f"job {job.id}: enqueue",
                patience=0,
            )

    async def moved() -> None:
        # Queued jobs behind it (the free lane's behind a paid job, the waiting
        # ones behind any) moved back a place; its row is the news, committed.
        if job.enqueued_at is not None:
            await retry_redis(jobs.events.queue_moved, what="queue moved", patience=0)

    JOBS_SUBMITTED.labels(kind=job.kind.value).inc()
    enqueued, _announced, _moved = await asyncio.gather(
        enqueue(),
        retry_redis(
            lambda: jobs.events.publish(event),
            what=f"job {job.id}: QUEUED event",
            patience=0,
        ),
        moved(),
    )
    return place if enqueued else None


def _is_public(settings: Settings, tier: Tier, asked: bool | None) -> bool:
    """Free-tier outputs feed the gallery when configured; others are private by default."""
    if tier is Tier.FREE and settings.free_outputs_public:
        return True
    return bool(asked)


def gallery_status(is_public: bool, tier: Tier, settings: Settings) -> GalleryStatus:
    """Public free-tier outputs are submitted to the gallery; the rest are not."""
    if is_public and tier is Tier.FREE and settings.free_outputs_public:
        return GalleryStatus.SUBMITTED
    return GalleryStatus.NOT_SUBMITTED


async def _upscale_input(
    session: AsyncSession,
    user_id: uuid.UUID,
    params: UpscaleParams,
    problems: list[ServiceError],
) -> tuple[int, int, bool] | None:
    """Width, height and visibility of the image to upscale; problems if unusable."""
    found: Upload | Output | None = None
    field = "image_id"
    is_public = False
    if params.image_id is not None:
        try:
            found = await get_upload(
                session, user_id=user_id, upload_id=params.image_id
            )
        except ServiceError as err:
            problems.append(err)
    elif params.output_id is not None:
        field = "output_id"
        output = await session.get(Output, params.output_id)
        if output is None or output.user_id != user_id or output.deleted_at is not None:
            message = f"no output with id {params.output_id}"
            problems.append(ServiceError(ErrorCode.NOT_FOUND, message, field))
        else:
            found, is_public = output, output.is_public
    if found is None:
        return None
    if found.width * found.height > UPSCALE_MAX_PIXELS:
        message = (
            f"image must have at most {UPSCALE_MAX_PIXELS:,} pixels to upscale;"
            f" got {found.width}x{found.height} = {found.width * found.height:,}"
        )
        problems.append(ServiceError(ErrorCode.INVALID_IMAGE, message, field))
    return found.width, found.height, is_public


async def _earlier_upscale(
    session: AsyncSession, user_id: uuid.UUID, output_id: uuid.UUID
) -> Job | None:
    """A finished or live upscale job of this output, which a repeat request reuses."""
    earlier: Job | None = await session.scalar(
        sa.select(Job)
        .where(
            col(Job.user_id) == user_id,
            col(Job.kind) == JobKind.UPSCALE,
            col(Job.status).in_(
                [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
            ),
            col(Job.params)["output_id"].as_string() == str(output_id),
        )
        .order_by(col(Job.created_at))
        .limit(1)
    )
    return earlier
