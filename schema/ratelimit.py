"""The caller's rate-limit bucket, as the `rateLimit` query shows it."""

from datetime import datetime

import strawberry

from core.ratelimit import LimitState


@strawberry.type(
    description=(
        "Your points budget for the current fixed window. Each operation spends its "
        "computed cost (at least 1); anonymous callers share a smaller budget per IP."
    )
)
class RateLimit:
    limit: int = strawberry.field(description="Points per window.")
    cost: int = strawberry.field(description="Points this operation spent.")
    used: int = strawberry.field(
        description="Points spent in this window, this operation included."
    )
    remaining: int = strawberry.field(description="Points left in this window.")
    reset_at: datetime = strawberry.field(
        description="When the window ends and the budget is full again (UTC)."
    )

    @classmethod
    def from_state(cls, state: LimitState) -> "RateLimit":
        """The view of a bucket after a spend."""
        return cls(
            limit=state.limit,
            cost=state.cost,
            used=state.used,
            remaining=state.remaining,
            reset_at=state.reset_at,
        )
