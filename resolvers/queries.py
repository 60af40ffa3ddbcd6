"""Query resolvers: read the caller's own account and tokens."""

from typing import Any

from strawberry.types import Info

from core.credits import (
    FreeCreditPolicy,
    balance,
    credit_rows,
    next_free_topup_at,
    top_up_free_credits,
    upcoming_credits,
)
from core.tokens import Caller, list_tokens
from resolvers.context import Context
from resolvers.loaders import summary_loader
from schema.types import ApiToken, CreditRow, Credits, Me


def caller_of(info: Info[Context, Any]) -> Caller:
    """The authenticated caller; permissions guarantee there is one."""
    caller = info.context.caller
    assert caller is not None, "guarded by IsAuthenticated"
    return caller


async def resolve_me(info: Info[Context, Any]) -> Me:
    """The caller's account, with its credits (free top-ups are applied on read)."""
    ctx, caller = info.context, caller_of(info)
    policy = FreeCreditPolicy.from_settings(ctx.settings)
    user = caller.user
    async with ctx.db.session() as session:
        await top_up_free_credits(session, user_id=user.id, policy=policy)
        rows = await credit_rows(session, user_id=user.id)
        credits = Credits(
            total=await balance(session, user_id=user.id),
            upcoming=await upcoming_credits(session, user_id=user.id),
            next_free_top_up_at=next_free_topup_at(user, policy),
            rows=[CreditRow.from_row(r) for r in rows],
        )
    return Me(
        id=str(user.id),  # type: ignore[arg-type]  # strawberry.ID is a str at runtime
        email=user.email,
        tier=user.tier,
        parallel_limit=ctx.settings.parallel_limit(user.tier),
        created_at=user.created_at,
        token_scopes=sorted(caller.scopes),
        credits=credits,
        load_usage_summary=summary_loader(ctx, user.id),
    )


async def resolve_api_tokens(info: Info[Context, Any]) -> list[ApiToken]:
    """The caller's tokens, active and revoked, newest first."""
    async with info.context.db.session() as session:
        tokens = await list_tokens(session, user_id=caller_of(info).user.id)
    return [ApiToken.from_row(t) for t in tokens]
