"""Usage resolvers: the caller's jobs with their credits, newest first."""

from typing import Annotated, Any

from strawberry.types import Info

from core import usage
from core.errors import ErrorCode
from resolvers.context import Context
from resolvers.errors import refusals_in_graphql_terms
from resolvers.outputs.resolvers import core_where
from resolvers.usage.types import UsageEntry, UsageWhere
from schema.arguments import After, Before, First, Last, arg
from schema.ids import row_id
from schema.paging import Connection, connection, selects


def _core_where(where: UsageWhere | None) -> usage.UsageWhere | None:
    if where is None:
        return None
    token_id = None
    if where.token_id is not None:
        token_id = row_id(
            where.token_id,
            "ApiToken",
            field="where.token_id",
            code=ErrorCode.BAD_USER_INPUT,
        )
    return usage.UsageWhere(
        kind=where.kind,
        source=where.source,
        token_id=token_id,
        created_at=core_where(where.created_at, "where.created_at"),
    )


@refusals_in_graphql_terms
async def resolve_usage(
    info: Info[Context, Any],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    where: Annotated[
        UsageWhere | None, arg("Conditions; absent means every job.")
    ] = None,
) -> Connection[UsageEntry]:
    """Page through the caller's jobs, newest first, failed and cancelled included."""
    async with info.context.db.reading() as session:
        page = await usage.list_usage(
            session,
            user_id=info.context.user_caller.user.id,
            where=_core_where(where),
            first=first,
            after=after,
            last=last,
            before=before,
            with_total=selects(info, "totalCount"),
        )
    return connection(page, UsageEntry.from_entry)
