"""GraphQL input and payload of the moderators' galleryReview mutation."""

import strawberry
from strawberry import relay

from resolvers.gallery.types import GallerySubmission
from schema.enums import GalleryReviewDecision
from schema.errors import UserError


@strawberry.input(description="Which submissions to decide on, and how.")
class GalleryReviewInput:
    ids: list[relay.GlobalID] = strawberry.field(
        description="GalleryImage (or Output) ids, 1 to 100; repeats count once."
    )
    decision: GalleryReviewDecision = strawberry.field(
        description="APPROVE to show them in the gallery, REJECT to keep them out."
    )


@strawberry.type(description="Result of galleryReview: all ids decided, or none.")
class GalleryReviewPayload:
    submissions: list[GallerySubmission] | None = strawberry.field(
        description="The outputs decided on, with their new status; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing changed.")
