"""Root fields of the gallery domain, merged into the schema's roots by api/schema.py."""

import strawberry

from resolvers.gallery import resolvers as gallery_views
from resolvers.gallery.payloads import GalleryReviewPayload
from resolvers.gallery.types import (
    GalleryImageConnection,
    GallerySubmission,
)
from resolvers.permissions import (
    IsAdmin,
    needs,
)
from schema.paging import Connection


@strawberry.type(name="GalleryQuery")
class Query:
    gallery: GalleryImageConnection = strawberry.field(
        resolver=gallery_views.resolve_gallery,
        description=(
            "The public gallery: approved public images of every account, newest "
            "first; deleted or private ones never appear. No token needed."
        ),
    )
    gallery_review_queue: Connection[GallerySubmission] = strawberry.field(
        resolver=gallery_views.resolve_gallery_review_queue,
        description=(
            "Public submissions awaiting a moderator (SUBMITTED or "
            "WAITING_FOR_APPROVAL), oldest first; `first` 1 to 100 (default 50). "
            "Needs ADMIN."
        ),
        permission_classes=needs(IsAdmin),
    )


@strawberry.type(name="GalleryMutation")
class Mutation:
    gallery_review: GalleryReviewPayload = strawberry.mutation(
        resolver=gallery_views.resolve_gallery_review,
        description=(
            "Approve or reject gallery submissions of any account. All ids or none; "
            "an unknown id is NOT_FOUND, a private or deleted output cannot be "
            "approved (NOT_PUBLIC). Needs ADMIN."
        ),
        permission_classes=needs(IsAdmin),
    )
