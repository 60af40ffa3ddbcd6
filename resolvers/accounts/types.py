"""GraphQL types of the account: credits, tokens, the rate-limit budget."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core import models
from core.ratelimit import LimitState
from core.tokens import parse_scopes
from core.usage import usage_daily, usage_summary
from resolvers.context import Context
from resolvers.errors import refusals_in_graphql_terms
from resolvers.usage.types import UsageDay, UsageSummary
from schema.enums import CreditType, Scope, Tier
from schema.errors import UserError


@strawberry.type(description="A grant of credits still in force.")
class CreditRow:
    type: CreditType = strawberry.field(description="Where the credits came from.")
    amount: int = strawberry.field(description="Credits granted by this row.")
    remaining: int = strawberry.field(
        description="Credits left to spend from this row."
    )
    starts_at: datetime = strawberry.field(
        description="When the credits became spendable."
    )
    expires_at: datetime | None = strawberry.field(
        description="When unspent credits lapse; null for never."
    )

    @classmethod
    def from_row(cls, row: models.CreditRow) -> "CreditRow":
        """Convert a ledger row."""
        return cls(
            type=row.type,
            amount=row.amount,
            remaining=row.remaining,
            starts_at=row.starts_at,
            expires_at=row.expires_at,
        )


@strawberry.type(description="The caller's credits.")
class Credits:
    total: int = strawberry.field(description="Spendable balance now, in credits.")
    upcoming: int = strawberry.field(
        description="Credits granted but not yet started (not spendable yet)."
    )
    next_free_top_up_at: datetime | None = strawberry.field(
        description="When the free tier's next top-up is due; null for paid tiers."
    )
    rows: list[CreditRow] = strawberry.field(
        description="Rows in force with credits left, in the order they are spent."
    )


@strawberry.type(
    description="An API token. The secret itself is shown only once, at creation."
)
class ApiToken(relay.Node):
    token_id: relay.NodeID[str]
    name: str = strawberry.field(description="Label, at most 50 characters.")
    preview: str = strawberry.field(
        description="Prefix and last four characters, e.g. drk_...a1b2."
    )
    scopes: list[Scope] = strawberry.field(description="What the token may do.")
    is_active: bool = strawberry.field(
        description="False once revoked; revoked tokens are refused."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked, if it was."
    )
    last_used_at: datetime | None = strawberry.field(
        description="Last authenticated request, to the minute."
    )
    uses: int = strawberry.field(description="Jobs submitted with this token.")
    credits_spent: int = strawberry.field(
        description="Credits spent through this token, net of refunds."
    )

    @classmethod
    def from_row(cls, row: models.ApiToken) -> "ApiToken":
        """Convert a token row."""
        return cls(
            token_id=str(row.id),
            name=row.name,
            preview=row.preview,
            scopes=sorted(parse_scopes(row.scopes)),
            is_active=row.is_active,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
            uses=row.uses,
            credits_spent=row.credits_spent,
        )


@strawberry.type(description="The account behind the token in use.")
class Me:
    email: str = strawberry.field(description="Account email address.")
    tier: Tier = strawberry.field(description="Account plan.")
    parallel_limit: int = strawberry.field(
        description="How many of this account's jobs may run at once; more wait in its queue."
    )
    created_at: datetime = strawberry.field(description="When the account was created.")
    token_limit: int = strawberry.field(
        description=(
            "Most active API tokens this account may hold at once (the server's "
            "DARKROOM_MAX_TOKENS_PER_USER, 10 by default); creating one more is "
            "refused with TOO_MANY_TOKENS."
        )
    )
    token_scopes: list[Scope] = strawberry.field(
        description="Scopes of the token in use."
    )
    credits: Credits = strawberry.field(
        description="Credit balance and the rows behind it."
    )
    user_id: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description=(
            "Jobs and credits per UTC day (of submission) and source over the last "
            "`days` days, today included, oldest first; days and sources without "
            "jobs are left out. Net credits match the usage list's."
        )
    )
    @refusals_in_graphql_terms
    async def usage_daily(
        self,
        info: Info[Context, Any],
        days: Annotated[
            int,
            strawberry.argument(description="How many UTC days, 1 to 366; default 30."),
        ] = 30,
    ) -> list[UsageDay]:
        """Daily totals for the account behind the token, read only when selected."""
        today = datetime.now(UTC).date()
        async with info.context.db.reading() as session:
            found = await usage_daily(
                session, user_id=self.user_id, days=days, today=today
            )
        return [UsageDay.from_day(d) for d in found]

    @strawberry.field(
        description="Jobs and credits per source and kind, failed and cancelled included."
    )
    @refusals_in_graphql_terms
    async def usage_summary(
        self,
        info: Info[Context, Any],
        since: Annotated[
            datetime | None,
            strawberry.argument(
                description="Count jobs submitted at or after this moment (with a UTC offset); default ever."
            ),
        ] = None,
    ) -> list[UsageSummary]:
        """Totals for the account behind the token, read only when selected."""
        async with info.context.db.session() as session:
            totals = await usage_summary(session, user_id=self.user_id, since=since)
        return [UsageSummary.from_totals(t) for t in totals]


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
