"""Usage resolvers: the caller's jobs with their credits, and totals per source and kind."""

import uuid
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core import usage
from core.errors import ErrorCode, ServiceError
from resolvers.context import Context
from resolvers.history import core_where, selects
from resolvers.mutations import row_uuid
from resolvers.paging import page_info
from schema.usage import UsageConnection, UsageEntry, UsageWhere


def _token_id(global_id: relay.GlobalID) -> uuid.UUID:
    token_id = row_uuid(global_id, "ApiToken")
    if token_id is None:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT,
            "where.tokenId must be an ApiToken id",
            "where.token_id",
        )
    return token_id


def _core_usage_where(where: UsageWhere | None) -> usage.UsageWhere | None:
    if where is None:
        return None
    return usage.UsageWhere(
        kind=where.kind,
        source=where.source,
        token_id=_token_id(where.token_id) if where.token_id else None,
        created_at=core_where(where.created_at),
    )


def _entry(entry: usage.UsageEntry) -> UsageEntry:
    job = entry.job
    return UsageEntry(
        kind=job.kind,
        job_id=strawberry.ID(str(job.id)),
        status=job.status,
        source=job.source,
        token_id=relay.GlobalID("ApiToken", str(job.token_id))
        if job.token_id
        else None,
        token_preview=entry.token_preview,
        charged=entry.charged,
        refunded=entry.refunded,
        net=entry.net,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


async def resolve_usage(
    info: Info[Context, Any],
    first: Annotated[
        int | None,
        strawberry.argument(description="How many, 1 to 100 (default 50)."),
    ] = None,
    after: Annotated[
        str | None, strawberry.argument(description="Start after this cursor.")
    ] = None,
    where: Annotated[
        UsageWhere | None,
        strawberry.argument(description="Conditions; absent means every job."),
    ] = None,
) -> UsageConnection:
    """Page through the caller's jobs, newest first, failed and cancelled included."""
    caller = info.context.caller
    assert caller is not None, "guarded by IsAuthenticated"
    async with info.context.db.session() as session:
        page = await usage.list_usage(
            session,
            user_id=caller.user.id,
            where=_core_usage_where(where),
            first=first,
            after=after,
            with_total=selects(info, "totalCount"),
        )
    edges = [relay.Edge(cursor=c, node=_entry(e)) for c, e in page.items]
    return UsageConnection(
        edges=edges,
        page_info=page_info(
            edges,
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
        ),
        count=page.total_count,
    )
