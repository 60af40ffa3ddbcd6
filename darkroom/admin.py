"""Operator commands: accounts, credits and API tokens (`darkroom user|credits|token`)."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.accounts import create_user, get_user_by_email, list_users, set_tier
from core.credits import FreeCreditPolicy, balance, grant_credits
from core.enums import CreditType, Scope, Tier
from core.errors import ErrorCode, ServiceError
from core.tokens import create_token, list_tokens, revoke_token
from darkroom.console import err, id_column, in_session, out, settings_or_exit
from schema.ids import global_id, row_id

TOKEN_TYPE = "ApiToken"  # the GraphQL type whose global ids name tokens

user_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
credits_app = typer.Typer(help="Grant credits.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@user_app.command("create")
def user_create(
    email: str,
    tier: Annotated[Tier, typer.Option(help="Account plan.")] = Tier.FREE,
    credits: Annotated[
        int, typer.Option(min=0, help="Extra credits to grant now.")
    ] = 0,
) -> None:
    """Create an account (free accounts get their sign-up credits)."""
    policy = FreeCreditPolicy.from_settings(settings_or_exit())

    async def work(session: AsyncSession) -> str:
        user = await create_user(
            session, email=email, tier=tier, credits=credits, policy=policy
        )
        return f"created {user.email} ({user.tier.value}), balance {await balance(session, user_id=user.id)}"

    out.print(in_session(work))


@user_app.command("list")
def user_list() -> None:
    """List accounts with their tier and balance."""

    async def work(session: AsyncSession) -> Table:
        table = Table(id_column(), "email", "tier", "credits", "created")
        for user in await list_users(session):
            credits = await balance(session, user_id=user.id)
            table.add_row(
                str(user.id),
                user.email,
                user.tier.value,
                str(credits),
                user.created_at.isoformat(timespec="seconds"),
            )
        return table

    out.print(in_session(work))


@user_app.command("set-tier")
def user_set_tier(email: str, tier: Tier) -> None:
    """Move an account to another tier."""

    async def work(session: AsyncSession) -> str:
        user = await set_tier(session, email=email, tier=tier)
        return f"{user.email} is now {user.tier.value}"

    out.print(in_session(work))


@credits_app.command("grant")
def credits_grant(
    email: str,
    amount: Annotated[int, typer.Argument(min=1, help="Credits to grant.")],
    expires: Annotated[
        datetime | None,
        typer.Option(help="When they lapse (ISO date/time, UTC); default never."),
    ] = None,
    purchase: Annotated[
        bool, typer.Option(help="Record as a purchase rather than a grant.")
    ] = False,
) -> None:
    """Grant credits to an account."""
    expires_at = expires.replace(tzinfo=expires.tzinfo or UTC) if expires else None

    async def work(session: AsyncSession) -> str:
        user = await get_user_by_email(session, email=email)
        await grant_credits(
            session,
            user_id=user.id,
            amount=amount,
            type=CreditType.PURCHASE if purchase else CreditType.GRANT,
            expires_at=expires_at,
            note="granted by an operator",
        )
        return f"granted {amount} to {user.email}; balance {await balance(session, user_id=user.id)}"

    out.print(in_session(work))


@token_app.command("create")
def token_create(
    email: str,
    name: Annotated[
        str | None, typer.Option(help="Label, at most 50 characters.")
    ] = None,
    scopes: Annotated[
        str,
        typer.Option(help="Comma-separated: GENERATE, READ, MANAGE, METRICS, ADMIN."),
    ] = "GENERATE,READ",
) -> None:
    """Create an API token; its secret is printed alone on the last line, once."""
    try:
        chosen = [Scope(s.strip().upper()) for s in scopes.split(",") if s.strip()]
    except ValueError:
        err.print(
            f"[red]BAD_USER_INPUT:[/red] scopes must be among {', '.join(Scope)}; got {scopes!r}"
        )
        raise typer.Exit(2) from None
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> str:
        user = await get_user_by_email(session, email=email)
        token, secret = await create_token(
            session,
            user_id=user.id,
            name=name,
            scopes=chosen,
            max_active=settings.max_tokens_per_user,
        )
        out.print(
            f"token {token_global_id(token.id)} ({token.preview}) for {user.email}; "
            "store the secret now:"
        )
        return secret

    print(in_session(work), flush=True)


@token_app.command("list")
def token_list(email: str) -> None:
    """List an account's tokens (never their secrets)."""

    async def work(session: AsyncSession) -> Table:
        user = await get_user_by_email(session, email=email)
        table = Table(
            id_column(),
            "name",
            "preview",
            "scopes",
            "active",
            "uses",
            "credits",
            "last used",
        )
        for t in await list_tokens(session, user_id=user.id):
            last = (
                t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "-"
            )
            table.add_row(
                token_global_id(t.id),
                t.name,
                t.preview,
                t.scopes,
                "yes" if t.is_active else "no",
                str(t.uses),
                str(t.credits_spent),
                last,
            )
        return table

    out.print(in_session(work))


def token_global_id(token_id: uuid.UUID) -> str:
    """The id the API knows a token by (`apiTokenCreate` returns it)."""
    return str(global_id(TOKEN_TYPE, token_id))


def parse_token_id(value: str) -> uuid.UUID:
    """A token's row id from its global id (`ApiToken:...` base64) or raw UUID."""
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        return row_id(relay.GlobalID.from_id(value), TOKEN_TYPE)
    except ValueError:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no token {value}") from None


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[
        str, typer.Argument(help="The token's id, as `darkroom token list` shows it.")
    ],
) -> None:
    """Revoke a token by its id (from `darkroom token list` or `apiTokenCreate`)."""

    async def work(session: AsyncSession) -> str:
        from core.models import ApiToken

        row = parse_token_id(token_id)
        token = await session.get(ApiToken, row)
        if token is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no token {token_id}")
        await revoke_token(session, user_id=token.user_id, token_id=row)
        return f"revoked {token.preview}"

    out.print(in_session(work))
