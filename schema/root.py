"""Build the Schema: attach resolvers with descriptions and permissions."""

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from resolvers import mutations, queries
from resolvers.errors import ErrorCodes
from resolvers.permissions import CanManage, CanRead, needs
from schema.payloads import ApiTokenCreatePayload, ApiTokenRevokePayload
from schema.types import ApiToken, Me


@strawberry.type(description="Read the caller's account, tokens and catalog.")
class Query:
    me: Me = strawberry.field(
        resolver=queries.resolve_me,
        description="The account behind the token in use, with its credits. Needs READ.",
        permission_classes=needs(CanRead),
    )
    api_tokens: list[ApiToken] = strawberry.field(
        resolver=queries.resolve_api_tokens,
        description="The account's API tokens, active and revoked, newest first. Needs READ.",
        permission_classes=needs(CanRead),
    )


@strawberry.type(description="Change things; refusals come back as userErrors.")
class Mutation:
    api_token_create: ApiTokenCreatePayload = strawberry.mutation(
        resolver=mutations.resolve_api_token_create,
        description=(
            "Create an API token. The secret is in the payload this once. At most 10 "
            "active tokens per account. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    api_token_revoke: ApiTokenRevokePayload = strawberry.mutation(
        resolver=mutations.resolve_api_token_revoke,
        description="Revoke an API token; it is refused from then on. Needs MANAGE.",
        permission_classes=needs(CanManage),
    )


def build_schema(*, debug: bool = False) -> strawberry.Schema:
    """The schema with its protective extensions; `debug` unmasks unexpected errors."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        # Factories, so each request gets fresh extension state.
        extensions=[
            lambda: QueryDepthLimiter(max_depth=12),
            lambda: MaxAliasesLimiter(max_alias_count=30),
            lambda: MaxTokensLimiter(max_token_count=2000),
            lambda: ErrorCodes(debug=debug),
        ],
    )


schema = build_schema()
