"""GraphQL object types for accounts, credits and tokens."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from core import models
from core.tokens import parse_scopes
from schema.enums import CreditType, Scope, Tier
from schema.usage import UsageSummary


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
    id: strawberry.ID = strawberry.field(description="Account id.")
    email: str = strawberry.field(description="Account email address.")
    tier: Tier = strawberry.field(description="Account plan.")
    parallel_limit: int = strawberry.field(
        description="How many of this account's jobs may run at once; more wait in its queue."
    )
    created_at: datetime = strawberry.field(description="When the account was created.")
    token_scopes: list[Scope] = strawberry.field(
        description="Scopes of the token in use."
    )
    credits: Credits = strawberry.field(
        description="Credit balance and the rows behind it."
    )
    # Set by resolve_me; runs only when usageSummary is selected.
    load_usage_summary: strawberry.Private[
        Callable[[datetime | None], Awaitable[list[UsageSummary]]]
    ]

    @strawberry.field(
        description="Jobs and credits per source and kind, failed and cancelled included."
    )
    async def usage_summary(
        self,
        since: Annotated[
            datetime | None,
            strawberry.argument(
                description="Count jobs submitted at or after this moment (with a UTC offset); default ever."
            ),
        ] = None,
    ) -> list[UsageSummary]:
        """Totals for the account behind the token."""
        return await self.load_usage_summary(since)
