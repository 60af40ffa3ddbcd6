"""Subscription resolvers: follow one job, or all of the caller's, as they change."""

from collections import OrderedDict
from collections.abc import AsyncGenerator
from typing import Any

from strawberry.types import Info

from jobs.events import JobEvent
from jobs.lifecycle import terminal_event
from jobs.reads import get_job
from resolvers.context import Context
from resolvers.errors import refusals_in_graphql_terms
from resolvers.jobs.resolvers import JobId
from resolvers.jobs.types import JobUpdate
from schema.ids import row_id


class _SharedUpdates:
    """One JobUpdate per event, whoever follows it.

    Every subscriber of a job gets the same event object from the bus; giving
    them the same update lets a compiled selection serialize it once for all of
    them (api/fanout.py), and converts an OUTPUT's row once.
    """

    # Far more than a burst's subscribers work through at once.
    SIZE = 1024

    def __init__(self) -> None:
        # Keyed by id(): holding the event keeps its id from being reused.
        self._recent: OrderedDict[int, tuple[JobEvent, JobUpdate]] = OrderedDict()

    def __call__(self, event: JobEvent) -> JobUpdate:
        key = id(event)
        hit = self._recent.get(key)
        if hit is not None and hit[0] is event:
            return hit[1]
        update = JobUpdate.from_event(event)
        self._recent[key] = (event, update)
        if len(self._recent) > self.SIZE:
            self._recent.popitem(last=False)
        return update


_update = _SharedUpdates()


@refusals_in_graphql_terms
async def _owned_job_row(info: Info[Context, Any], job_id: JobId) -> Any:
    return await get_job(
        info.context.jobs,
        user_id=info.context.user_caller.user.id,
        job_id=row_id(job_id, "Job", field="job_id"),
    )


async def resolve_job_updates(
    info: Info[Context, Any], job_id: JobId
) -> AsyncGenerator[JobUpdate, None]:
    """Follow one of the caller's jobs: its current state first, then every change."""
    row = await _owned_job_row(info=info, job_id=job_id)
    if row.status.is_terminal:
        # Snapshots expire; a finished job's last word is in its row.
        yield JobUpdate.from_event(terminal_event(row))
        return
    async for event in info.context.jobs.events.watch_job(row.id):
        yield _update(event)


async def resolve_my_job_updates(
    info: Info[Context, Any],
) -> AsyncGenerator[JobUpdate, None]:
    """Follow every job of the caller as it changes."""
    events = info.context.jobs.events.watch_user(info.context.user_caller.user.id)
    async for event in events:
        yield _update(event)
