"""Gallery resolvers: the public listing, and the moderators' queue and decisions."""

import uuid
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import ServiceError
from core.gallery import (
    PUBLIC_FILTERS,
    ReviewDecision,
    list_gallery,
    list_review_queue,
    review_outputs,
)
from core.history import filters
from core.search.queries import search_gallery
from resolvers.context import Context
from resolvers.errors import refusals_in_graphql_terms, user_errors
from resolvers.gallery.payloads import GalleryReviewInput, GalleryReviewPayload
from resolvers.gallery.types import (
    IMAGE_TYPE,
    GalleryImage,
    GalleryImageConnection,
    GalleryImageEdge,
    GallerySubmission,
    GalleryWhere,
)
from resolvers.outputs.resolvers import core_where
from resolvers.search import (
    ranking_for,
    refuse_other_paging,
    scored_connection,
    unscored,
)
from schema.arguments import After, Before, First, Last, arg
from schema.ids import row_id
from schema.paging import Connection, connection, selects

# Ids a moderator may name a submission by: the gallery's or the owner's.
_REVIEW_ID_TYPES = (IMAGE_TYPE, "Output")


def gallery_where(value: GalleryWhere | None) -> filters.OutputWhere | None:
    """A GalleryWhere as core's OutputWhere; its private fields stay unset."""
    if value is None:
        return None
    leaves = {name: core_where(getattr(value, name)) for name in PUBLIC_FILTERS}
    return filters.OutputWhere(
        **leaves,
        and_=None if value.and_ is None else [_required(w) for w in value.and_],
        or_=None if value.or_ is None else [_required(w) for w in value.or_],
        not_=gallery_where(value.not_),
    )


def _required(value: GalleryWhere) -> filters.OutputWhere:
    where = gallery_where(value)
    assert where is not None  # list items are non-null in the schema
    return where


@refusals_in_graphql_terms
async def resolve_gallery(
    info: Info[Context, Any],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    where: Annotated[
        GalleryWhere | None, arg("Conditions; absent means every gallery image.")
    ] = None,
    search: Annotated[
        str | None,
        arg(
            "Rank by relevance to this text, as outputs(search:) does; 1 to 500 "
            "characters. Pages forwards."
        ),
    ] = None,
    similar_to: Annotated[
        relay.GlobalID | None,
        arg("Rank by closeness to this gallery image (left out). Pages forwards."),
    ] = None,
) -> GalleryImageConnection:
    """Page through the public gallery, newest first; anyone may read it."""
    if search is not None or similar_to is not None:
        refuse_other_paging(last=last, before=before)
        ranking = await ranking_for(info, search, similar_to, user_id=None)
        async with info.context.db.reading() as session:
            found = await search_gallery(
                session,
                ranking=ranking,
                where=gallery_where(where),
                first=first,
                after=after,
                with_total=selects(info, "totalCount"),
            )
        return scored_connection(
            found, GalleryImage.from_row, GalleryImageEdge, GalleryImageConnection
        )
    async with info.context.db.reading() as session:
        page = await list_gallery(
            session,
            where=gallery_where(where),
            first=first,
            after=after,
            last=last,
            before=before,
            with_total=selects(info, "totalCount"),
        )
    return scored_connection(
        unscored(page), GalleryImage.from_row, GalleryImageEdge, GalleryImageConnection
    )


@refusals_in_graphql_terms
async def resolve_gallery_review_queue(
    info: Info[Context, Any], first: First = None, after: After = None
) -> Connection[GallerySubmission]:
    """Page through the submissions awaiting a moderator, oldest first."""
    async with info.context.db.reading() as session:
        page = await list_review_queue(
            session, first=first, after=after, with_total=selects(info, "totalCount")
        )
    return connection(page, GallerySubmission.from_row)


def _review_ids(ids: list[relay.GlobalID]) -> list[uuid.UUID]:
    # Any other type of id is as unknown as a missing one: NOT_FOUND.
    return [
        row_id(
            i,
            i.type_name if i.type_name in _REVIEW_ID_TYPES else IMAGE_TYPE,
            field="ids",
        )
        for i in ids
    ]


async def resolve_gallery_review(
    info: Info[Context, Any],
    input: Annotated[
        GalleryReviewInput, strawberry.argument(description="What to decide.")
    ],
) -> GalleryReviewPayload:
    """Approve or reject submissions, all or none."""
    try:
        async with info.context.db.session() as session:
            reviewed = await review_outputs(
                session,
                ids=_review_ids(input.ids),
                decision=ReviewDecision(input.decision),
            )
    except ServiceError as err:
        return GalleryReviewPayload(
            submissions=None, user_errors=user_errors(err, info)
        )
    submissions = [GallerySubmission.from_row(r.output) for r in reviewed]
    return GalleryReviewPayload(submissions=submissions, user_errors=[])
