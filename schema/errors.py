"""The error a mutation payload carries for one problem with its input."""

import strawberry

from schema.enums import ErrorCode


@strawberry.type(
    description="One problem with a mutation's input, for the caller to fix."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the offending input, e.g. ["input", "width"]; null when it concerns the whole request.'
    )
    code: ErrorCode = strawberry.field(description="Stable machine-readable code.")
    message: str = strawberry.field(description="What is wrong and what is allowed.")
