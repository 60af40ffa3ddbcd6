"""Root fields of the accounts domain, merged into the schema's roots by api/schema.py."""

import strawberry

from resolvers.accounts import resolvers as accounts
from resolvers.accounts.types import (
    ApiToken,
    ApiTokenCreatePayload,
    ApiTokenRevokePayload,
    Me,
    RateLimit,
)
from resolvers.permissions import (
    CanManage,
    CanRead,
    needs,
)


@strawberry.type(name="AccountsQuery")
class Query:
    me: Me = strawberry.field(
        resolver=accounts.resolve_me,
        description="The account behind the token in use, with its credits. Needs READ.",
        permission_classes=needs(CanRead),
    )
    api_tokens: list[ApiToken] = strawberry.field(
        resolver=accounts.resolve_api_tokens,
        description="The account's API tokens, active and revoked, newest first. Needs READ.",
        permission_classes=needs(CanRead),
    )
    rate_limit: RateLimit | None = strawberry.field(
        resolver=accounts.resolve_rate_limit,
        description=(
            "Your points budget after this operation was charged: the token's, or "
            "your IP's when anonymous. Null when the server runs without limits. "
            "No token needed."
        ),
    )


@strawberry.type(name="AccountsMutation")
class Mutation:
    api_token_create: ApiTokenCreatePayload = strawberry.mutation(
        resolver=accounts.resolve_api_token_create,
        description=(
            "Create an API token. The secret is in the payload this once. At most "
            "me.tokenLimit active tokens per account. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    api_token_revoke: ApiTokenRevokePayload = strawberry.mutation(
        resolver=accounts.resolve_api_token_revoke,
        description=(
            "Revoke an API token: refused at once here, within a few seconds by every "
            "API process, and its open websockets close. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
