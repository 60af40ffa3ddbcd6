"""What outputs and gallery searches share: the ranking a request asks for, and
a page of ranked rows as a connection with scores."""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from strawberry import relay
from strawberry.types import Info

from core.errors import ErrorCode, ServiceError
from core.history.paging import Page
from core.models import Output
from core.search.queries import vector_of
from core.search.ranking import Ranking, check_search_text
from resolvers.context import Context
from schema.ids import row_id
from schema.paging import page_info

BAD_USER_INPUT = ErrorCode.BAD_USER_INPUT
Node = TypeVar("Node")
Edge = TypeVar("Edge")
Conn = TypeVar("Conn")


def refuse_other_paging(
    *, order_by: Any = None, last: Any = None, before: Any = None
) -> None:
    """A search is ranked and read forwards: orderBy and backward paging are refused."""
    if order_by:
        raise ServiceError(
            BAD_USER_INPUT,
            "a search is ranked by relevance: leave out orderBy",
            "order_by",
        )
    if last is not None or before is not None:
        raise ServiceError(
            BAD_USER_INPUT, "a search pages forwards only: use first and after", "last"
        )


async def ranking_for(
    info: Info[Context, Any],
    search: str | None,
    similar_to: relay.GlobalID | None,
    *,
    user_id: uuid.UUID | None,
) -> Ranking:
    """The text's vector and words, or an output's vector: one the caller
    (`user_id`, None for anyone) may see, yours or the gallery's."""
    if search is not None and similar_to is not None:
        raise ServiceError(
            BAD_USER_INPUT, "give search or similarTo, not both", "similar_to"
        )
    vectors = info.context.services.search
    if vectors is None:
        raise ServiceError(
            ErrorCode.UNAVAILABLE, "search is turned off on this server", "search"
        )
    if search is not None:
        text = check_search_text(search)
        return Ranking(vector=await vectors.vector(text), words=text, key=text)
    assert similar_to is not None
    kind = "GalleryImage" if similar_to.type_name == "GalleryImage" else "Output"
    output_id = row_id(similar_to, kind, field="similar_to")
    async with info.context.db.reading() as session:
        vector = await vector_of(session, output_id=output_id, user_id=user_id)
    return Ranking(
        vector=vector, words=None, exclude=output_id, key=f"like {output_id}"
    )


def unscored(page: Page[Output]) -> Page[tuple[Output, float | None]]:
    """A keyset page as ranked rows without scores, for the same connection types."""
    return Page(
        items=[(cursor, (row, None)) for cursor, row in page.items],
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        total_count=page.total_count,
    )


def scored_connection(
    found: Page[tuple[Output, float]] | Page[tuple[Output, float | None]],
    node: Callable[[Output], Node],
    edge: Callable[..., Edge],
    connection: Callable[..., Conn],
) -> Conn:
    """A connection over ranked rows, each edge with its score (None unranked)."""
    edges = [
        edge(cursor=cursor, node=node(row), score=score)
        for cursor, (row, score) in found.items
    ]
    return connection(
        edges=edges,
        page_info=page_info(
            edges,  # type: ignore[arg-type]  # any edge with a cursor
            has_next_page=found.has_next_page,
            has_previous_page=found.has_previous_page,
        ),
        count=found.total_count,
    )
