"""GraphQL inputs and payloads of the output mutations."""

import strawberry
from strawberry import relay

from resolvers.outputs.types import Output
from schema.errors import UserError


@strawberry.input(description="Which outputs to change, and how.")
class OutputsUpdateInput:
    is_favorite: bool | None = strawberry.field(
        default=None, description="Mark or unmark as favorites; needs READ."
    )
    is_public: bool | None = strawberry.field(
        default=None,
        description="Show in or hide from the public gallery; needs MANAGE. Free-tier outputs stay public.",
    )


@strawberry.type(description="Result of outputsUpdate: all ids changed, or none.")
class OutputsUpdatePayload:
    outputs: list[Output] | None = strawberry.field(
        description="The changed outputs, in the order asked; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(
    description="Result of outputsSubmitToGallery: all ids submitted, or none."
)
class OutputsSubmitToGalleryPayload:
    outputs: list[Output] | None = strawberry.field(
        description="The submitted outputs, now public; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was submitted."
    )


@strawberry.type(description="Result of outputsDelete: all ids deleted, or none.")
class OutputsDeletePayload:
    deleted_ids: list[relay.GlobalID] | None = strawberry.field(
        description="The ids given, now deleted with their upscales; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was deleted."
    )
