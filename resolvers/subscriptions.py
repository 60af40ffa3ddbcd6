"""Subscription resolvers: follow one job, or all of the caller's, as they change."""

import base64
from collections.abc import AsyncGenerator
from typing import Any

from strawberry import relay
from strawberry.types import Info

from jobs.events import JobEvent
from jobs.lifecycle import terminal_event
from jobs.submission import get_job
from jobs.views import get_output
from resolvers.context import Context
from resolvers.jobs import JobId, jobs_of, to_job_output
from resolvers.mutations import node_uuid
from resolvers.queries import caller_of
from schema.jobs import JobError, JobUpdate


async def to_update(info: Info[Context, Any], event: JobEvent) -> JobUpdate:
    """The GraphQL view of one event."""
    output = None
    if event.output_id is not None:
        row = await get_output(
            jobs_of(info), user_id=event.user_id, output_id=event.output_id
        )
        output = await to_job_output(info, row) if row else None
    preview = None
    if event.preview_png:
        preview = (
            "data:image/png;base64," + base64.b64encode(event.preview_png).decode()
        )
    error = (
        JobError(code=event.error_code, message=event.error_message or "")
        if event.error_code
        else None
    )
    return JobUpdate(
        job_id=relay.to_base64("Job", str(event.job_id)),  # type: ignore[arg-type]  # ID is str
        type=event.type.value,
        status=event.status,
        at=event.at,
        queue_position=event.queue_position,
        eta_seconds=event.eta_seconds,
        step=event.step,
        total_steps=event.total_steps,
        percent=event.percent,
        preview=preview,
        output=output,
        error=error,
        charged=event.charged,
        refunded=event.refunded,
    )


async def resolve_job_updates(
    info: Info[Context, Any], job_id: JobId
) -> AsyncGenerator[JobUpdate, None]:
    """Follow one of the caller's jobs: its current state first, then every change."""
    jobs = jobs_of(info)
    row = await get_job(
        jobs, user_id=caller_of(info).user.id, job_id=node_uuid(job_id, "Job", "jobId")
    )
    if row.status.is_terminal:
        # Snapshots expire; a finished job's last word is in its row.
        yield await to_update(info, terminal_event(row))
        return
    async for event in jobs.events.watch_job(row.id):
        yield await to_update(info, event)


async def resolve_my_job_updates(
    info: Info[Context, Any],
) -> AsyncGenerator[JobUpdate, None]:
    """Follow every job of the caller as it changes."""
    async for event in jobs_of(info).events.watch_user(caller_of(info).user.id):
        yield await to_update(info, event)
