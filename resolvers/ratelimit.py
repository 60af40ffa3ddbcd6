"""The rateLimit query: the caller's points budget after this operation."""

from typing import Any

from strawberry.types import Info

from resolvers.context import Context
from schema.ratelimit import RateLimit


async def resolve_rate_limit(info: Info[Context, Any]) -> RateLimit | None:
    """The caller's points bucket after this operation was charged."""
    state = info.context.rate_limit
    return None if state is None else RateLimit.from_state(state)
