"""Mutation resolvers: thin calls into core, refusals returned as userErrors."""

import uuid
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import ErrorCode, ServiceError
from core.tokens import create_token, revoke_token
from resolvers.context import Context
from resolvers.errors import user_errors
from resolvers.queries import caller_of
from schema.inputs import ApiTokenCreateInput
from schema.payloads import ApiTokenCreatePayload, ApiTokenRevokePayload
from schema.types import ApiToken


def row_uuid(global_id: relay.GlobalID, type_name: str) -> uuid.UUID | None:
    """The row id inside a global id of the expected type; None for anything else."""
    if global_id.type_name != type_name:
        return None
    try:
        return uuid.UUID(global_id.node_id)
    except ValueError:
        return None


def node_uuid(
    global_id: relay.GlobalID, type_name: str, field: str = "id"
) -> uuid.UUID:
    """The row id inside a global id of the expected type; otherwise not found."""
    row_id = row_uuid(global_id, type_name)
    if row_id is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no such {type_name}", field)
    return row_id


async def resolve_api_token_create(
    info: Info[Context, Any],
    input: Annotated[
        ApiTokenCreateInput, strawberry.argument(description="The new token.")
    ],
) -> ApiTokenCreatePayload:
    """Create a token for the caller; never stronger than the token in use."""
    ctx, caller = info.context, caller_of(info)
    try:
        async with ctx.db.session() as session:
            token, secret = await create_token(
                session,
                user_id=caller.user.id,
                name=input.name,
                scopes=input.scopes,
                allowed_scopes=caller.scopes,
                max_active=ctx.settings.max_tokens_per_user,
            )
    except ServiceError as err:
        return ApiTokenCreatePayload(
            api_token=None, secret=None, user_errors=user_errors(err)
        )
    return ApiTokenCreatePayload(
        api_token=ApiToken.from_row(token), secret=secret, user_errors=[]
    )


async def resolve_api_token_revoke(
    info: Info[Context, Any],
    id: Annotated[relay.GlobalID, strawberry.argument(description="The token's id.")],
) -> ApiTokenRevokePayload:
    """Revoke one of the caller's tokens; the row stays for usage history."""
    ctx, caller = info.context, caller_of(info)
    try:
        token_id = node_uuid(id, "ApiToken")
        async with ctx.db.session() as session:
            token = await revoke_token(
                session, user_id=caller.user.id, token_id=token_id
            )
    except ServiceError as err:
        return ApiTokenRevokePayload(api_token=None, user_errors=user_errors(err))
    return ApiTokenRevokePayload(api_token=ApiToken.from_row(token), user_errors=[])
