"""One Relay connection for every list: edges with cursors, PageInfo, totalCount."""

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from core.history.paging import Page

T = TypeVar("T")
Row = TypeVar("Row")


@strawberry.type(
    description="One item of a page, with the cursor that marks its place."
)
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque cursor for `after` or `before`.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(
    description="A page of items in a stable keyset order: rows never skip or repeat."
)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items on this page.")
    page_info: relay.PageInfo = strawberry.field(
        description="Cursors at both ends and whether more items follow either way."
    )
    count: strawberry.Private[int | None]

    @strawberry.field(
        description="How many items match in all, on every page; counted only when asked for."
    )
    def total_count(self) -> int:
        """The count made because this field was selected."""
        assert self.count is not None, "counted whenever totalCount is selected"
        return self.count


def connection(page: Page[Row], node: Callable[[Row], T]) -> Connection[T]:
    """A connection over one page of rows, each turned into its node."""
    edges = [Edge(cursor=cursor, node=node(row)) for cursor, row in page.items]
    return Connection(
        edges=edges,
        page_info=page_info(
            edges,
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
        ),
        count=page.total_count,
    )


def page_info(
    edges: Sequence[Edge[T]], *, has_next_page: bool, has_previous_page: bool
) -> relay.PageInfo:
    """Relay's PageInfo for a page of edges."""
    return relay.PageInfo(
        has_next_page=has_next_page,
        has_previous_page=has_previous_page,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


def selects(info: Info[Any, Any], name: str) -> bool:
    """True when the current field's selection asks for `name`, fragments included."""

    def found(selections: list[Any]) -> bool:
        for selection in selections:
            if isinstance(selection, SelectedField) and selection.name == name:
                return True
            if isinstance(selection, FragmentSpread | InlineFragment) and found(
                selection.selections
            ):
                return True
        return False

    return any(found(field.selections) for field in info.selected_fields)
