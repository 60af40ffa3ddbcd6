"""Relay page info, built the same way for every connection."""

from collections.abc import Sequence
from typing import Protocol

from strawberry import relay


class HasCursor(Protocol):
    """An edge: anything with a cursor."""

    cursor: str


def page_info(
    edges: Sequence[HasCursor], *, has_next_page: bool, has_previous_page: bool = False
) -> relay.PageInfo:
    """Relay's PageInfo for a page of edges."""
    return relay.PageInfo(
        has_next_page=has_next_page,
        has_previous_page=has_previous_page,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
