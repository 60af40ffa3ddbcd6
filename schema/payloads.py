"""Mutation payloads: the changed object, or userErrors saying why not."""

import strawberry

from schema.types import ApiToken
from schema.user_error import UserError


@strawberry.type(description="Result of apiTokenCreate.")
class ApiTokenCreatePayload:
    api_token: ApiToken | None = strawberry.field(
        description="The new token; null on failure."
    )
    secret: str | None = strawberry.field(
        description="The token's secret: shown this once, store it now. Null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was created."
    )


@strawberry.type(description="Result of apiTokenRevoke.")
class ApiTokenRevokePayload:
    api_token: ApiToken | None = strawberry.field(
        description="The revoked token; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was revoked."
    )
