"""Account resolvers: the caller's account, credits and tokens, and its budget."""

from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.credits import (
    FreeCreditPolicy,
    balance,
    credit_rows,
    next_free_topup_at,
    top_up_free_credits,
    upcoming_credits,
)
from core.errors import ServiceError
from core.tokens import create_token, list_tokens, revoke_token
from resolvers.accounts.types import (
    ApiToken,
    ApiTokenCreateInput,
    ApiTokenCreatePayload,
    ApiTokenRevokePayload,
    CreditRow,
    Credits,
    Me,
    RateLimit,
)
from resolvers.context import Context
from resolvers.errors import user_errors
from schema.ids import row_id


async def resolve_me(info: Info[Context, Any]) -> Me:
    """The caller's account, with its credits (free top-ups are applied on read)."""
    ctx, caller = info.context, info.context.user_caller
    policy = FreeCreditPolicy.from_settings(ctx.settings)
    user = caller.user
    async with ctx.db.session() as session:
        await top_up_free_credits(session, user=user, policy=policy)
        rows = await credit_rows(session, user_id=user.id)
        credits = Credits(
            total=await balance(session, user_id=user.id),
            upcoming=await upcoming_credits(session, user_id=user.id),
            next_free_top_up_at=next_free_topup_at(user, policy),
            rows=[CreditRow.from_row(r) for r in rows],
        )
    return Me(
        email=user.email,
        tier=user.tier,
        parallel_limit=ctx.settings.parallel_limit(user.tier),
        created_at=user.created_at,
        token_limit=ctx.settings.max_tokens_per_user,
        token_scopes=sorted(caller.scopes),
        credits=credits,
        user_id=user.id,
    )


async def resolve_api_tokens(info: Info[Context, Any]) -> list[ApiToken]:
    """The caller's tokens, active and revoked, newest first."""
    async with info.context.db.session() as session:
        tokens = await list_tokens(session, user_id=info.context.user_caller.user.id)
    return [ApiToken.from_row(t) for t in tokens]


async def resolve_rate_limit(info: Info[Context, Any]) -> RateLimit | None:
    """The caller's points bucket after this operation was charged."""
    state = info.context.rate_limit
    return None if state is None else RateLimit.from_state(state)


async def resolve_api_token_create(
    info: Info[Context, Any],
    input: Annotated[
        ApiTokenCreateInput, strawberry.argument(description="The new token.")
    ],
) -> ApiTokenCreatePayload:
    """Create a token for the caller; never stronger than the token in use."""
    ctx, caller = info.context, info.context.user_caller
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
            api_token=None, secret=None, user_errors=user_errors(err, info)
        )
    return ApiTokenCreatePayload(
        api_token=ApiToken.from_row(token), secret=secret, user_errors=[]
    )


async def resolve_api_token_revoke(
    info: Info[Context, Any],
    id: Annotated[relay.GlobalID, strawberry.argument(description="The token's id.")],
) -> ApiTokenRevokePayload:
    """Revoke one of the caller's tokens; the row stays for usage history."""
    ctx, caller = info.context, info.context.user_caller
    try:
        token_id = row_id(id, "ApiToken")
        async with ctx.db.session() as session:
            token = await revoke_token(
                session, user_id=caller.user.id, token_id=token_id
            )
    except ServiceError as err:
        return ApiTokenRevokePayload(api_token=None, user_errors=user_errors(err, info))
    ctx.services.callers.forget(token.id)  # refused from the next request on
    return ApiTokenRevokePayload(api_token=ApiToken.from_row(token), user_errors=[])
