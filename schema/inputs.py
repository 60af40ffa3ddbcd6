"""GraphQL input types."""

import strawberry

from schema.enums import Scope


@strawberry.input(description="A new API token.")
class ApiTokenCreateInput:
    name: str | None = strawberry.field(
        default=None,
        description='Label, 1 to 50 characters after trimming; default "Secret key".',
    )
    scopes: list[Scope] | None = strawberry.field(
        default=None,
        description="What the token may do; default [GENERATE, READ]. Never more than the creating token has.",
    )
