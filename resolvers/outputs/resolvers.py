"""History resolvers: the caller's outputs, filtered, sorted and paged."""

import dataclasses
from typing import Annotated, Any

from strawberry import relay
from strawberry.types import Info

from core.errors import ErrorCode
from core.history import filters, paging
from core.history.queries import OutputOrder, list_outputs
from core.search.queries import search_outputs
from resolvers.context import Context
from resolvers.errors import refusals_in_graphql_terms
from resolvers.outputs import types as t
from resolvers.search import (
    ranking_for,
    refuse_other_paging,
    scored_connection,
    unscored,
)
from schema import filters as f
from schema.arguments import After, Before, First, Last, arg
from schema.ids import row_id
from schema.paging import selects

BAD_USER_INPUT = ErrorCode.BAD_USER_INPUT
# Each GraphQL filter input and the core filter it becomes (same field names).
_CORE_FILTERS: dict[type, type] = {
    f.IntFilter: filters.IntFilter,
    f.FloatFilter: filters.FloatFilter,
    f.DateTimeFilter: filters.DateTimeFilter,
    f.StringFilter: filters.StrFilter,
    f.GalleryStatusFilter: filters.EnumFilter,
    f.JobSourceFilter: filters.EnumFilter,
    f.AspectRatioFilter: filters.EnumFilter,
    f.BooleanFilter: filters.BoolFilter,
    f.PromptFilter: filters.TextFilter,
    t.OutputWhere: filters.OutputWhere,
}


def core_where(value: Any, path: str = "where") -> Any:
    """A GraphQL filter input (or any part of it) as core's filter dataclasses."""
    if isinstance(value, list):
        return [core_where(item, f"{path}[{i}]") for i, item in enumerate(value)]
    target = _CORE_FILTERS.get(type(value))
    if target is None:
        return value
    fields = {
        name.name: core_where(getattr(value, name.name), f"{path}.{name.name}")
        for name in dataclasses.fields(target)
    }
    if target is filters.OutputWhere and fields["job_id"] is not None:
        # Another account's job matches nothing; another type of id is a mistake.
        fields["job_id"] = row_id(
            fields["job_id"], "Job", field=f"{path}.job_id", code=BAD_USER_INPUT
        )
    return target(**fields)


@refusals_in_graphql_terms
async def resolve_outputs(
    info: Info[Context, Any],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    where: Annotated[
        t.OutputWhere | None, arg("Conditions; absent means every output.")
    ] = None,
    order_by: Annotated[
        list[t.OutputOrderBy] | None,
        arg("Sort terms in order (default createdAt DESC); a cursor fits one order."),
    ] = None,
    search: Annotated[
        str | None,
        arg(
            "Rank by relevance to this text, 1 to 500 characters: meaning and exact "
            "words both count (each edge's score). Pages forwards; no orderBy."
        ),
    ] = None,
    similar_to: Annotated[
        relay.GlobalID | None,
        arg(
            "Rank by closeness to this output's prompt (yours, or a gallery image); "
            "it is left out of the results. Pages forwards; no orderBy."
        ),
    ] = None,
) -> t.OutputConnection:
    """Page through the caller's outputs; count them only when totalCount is asked for."""
    if search is not None or similar_to is not None:
        refuse_other_paging(order_by=order_by, last=last, before=before)
        user_id = info.context.user_caller.user.id
        ranking = await ranking_for(info, search, similar_to, user_id=user_id)
        async with info.context.db.reading() as session:
            found = await search_outputs(
                session,
                user_id=user_id,
                ranking=ranking,
                where=core_where(where),
                first=first,
                after=after,
                with_total=selects(info, "totalCount"),
            )
        return scored_connection(
            found, t.Output.from_row, t.OutputEdge, t.OutputConnection
        )
    order = [
        OutputOrder(o.field, o.direction or paging.Direction.DESC)
        for o in order_by or []
    ]
    async with info.context.db.reading() as session:
        page = await list_outputs(
            session,
            user_id=info.context.user_caller.user.id,
            where=core_where(where),
            order=order,
            first=first,
            after=after,
            last=last,
            before=before,
            with_total=selects(info, "totalCount"),
        )
    return scored_connection(
        unscored(page), t.Output.from_row, t.OutputEdge, t.OutputConnection
    )
