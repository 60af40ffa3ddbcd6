"""The `darkroom` command: serve, migrate, and operator commands for users, credits, tokens."""

import asyncio
import base64
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Column, Table
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import (
    count_users,
    create_user,
    get_user_by_email,
    list_users,
    set_tier,
)
from core.credits import FreeCreditPolicy, balance, grant_credits
from core.db import Database
from core.enums import CreditType, Scope, Tier
from core.errors import ServiceError
from core.migrate import check_schema, upgrade_database
from core.settings import Settings, SettingsError, load_settings
from core.tokens import create_token, list_tokens, revoke_token
from darkroom.database import database_or_exit

app = typer.Typer(
    help="Darkroom: a GraphQL API for AI image generation.", no_args_is_help=True
)
user_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
credits_app = typer.Typer(help="Grant credits.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(credits_app, name="credits")
app.add_typer(token_app, name="token")

# Piped output (scripts, tests) gets wide tables rather than elided cells.
out = Console(width=None if sys.stdout.isatty() else 200)
# Errors are one line each, however long: never wrapped onto a second.
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

LOCAL_EMAIL = "local@darkroom.localhost"
LOCAL_CREDITS = 1000


def id_column() -> Column:
    """A table column for ids, which are copied into other commands: never cut."""
    return Column("id", no_wrap=True, min_width=36)


def settings_or_exit() -> Settings:
    """Load settings, or stop with the one message that names the bad variable."""
    try:
        return load_settings()
    except SettingsError as problem:
        err.print(f"[red]configuration error:[/red] {problem}")
        raise typer.Exit(2) from None


def in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction; a refusal becomes a clean exit."""
    settings = settings_or_exit()

    async def run() -> T:
        db = Database(settings.resolved_database_url)
        try:
            await check_schema(db)
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        with database_or_exit(settings, err):
            return asyncio.run(run())
    except ServiceError as refusal:
        err.print(f"[red]{refusal.code.value}:[/red] {refusal.message}")
        raise typer.Exit(1) from None


def prepare_embedded(settings: Settings) -> None:
    """Create the data folder and bring the database to the newest schema."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.storage_root.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.resolved_database_url)


async def first_start_account(settings: Settings) -> str | None:
    """On a brand-new database, create the local account; return its token's secret."""
    db = Database(settings.resolved_database_url)
    try:
        await check_schema(db)
        async with db.session() as session:
            if await count_users(session):
                return None
            user = await create_user(
                session,
                email=LOCAL_EMAIL,
                tier=Tier.PRO,
                credits=LOCAL_CREDITS,
                policy=FreeCreditPolicy.from_settings(settings),
            )
            _token, secret = await create_token(
                session, user_id=user.id, name="local", scopes=list(Scope)
            )
            return secret
    finally:
        await db.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Start the API (GraphiQL at /graphql); the embedded default sets itself up."""
    import uvicorn

    from darkroom.services import build_app

    settings = settings_or_exit()
    if "public_base_url" not in settings.model_fields_set:
        # Links must point where this server really listens.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        settings = settings.model_copy(
            update={"public_base_url": f"http://{shown}:{port}"}
        )
    with database_or_exit(settings, err):
        if settings.is_embedded:
            prepare_embedded(settings)
        secret = asyncio.run(first_start_account(settings))
    url = f"http://{host}:{port}/graphql"
    if secret:
        out.print(
            f"Created the local account {LOCAL_EMAIL} with {LOCAL_CREDITS} credits."
        )
        out.print(f"GraphiQL: {url}")
        out.print(
            "Its API token (shown once; send it as `Authorization: Bearer <token>`):"
        )
        print(secret, flush=True)
    else:
        out.print(f"GraphiQL: {url}")
    uvicorn.run(build_app(settings), host=host, port=port, log_level="info")


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema (PostgreSQL or SQLite)."""
    settings = settings_or_exit()
    if settings.resolved_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    with database_or_exit(settings, err):
        upgrade_database(settings.resolved_database_url)
    out.print("database is up to date")


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
        str, typer.Option(help="Comma-separated: GENERATE, READ, MANAGE.")
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
            f"token {token.id} ({token.preview}) for {user.email}; store the secret now:"
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
                str(t.id),
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


@token_app.command("revoke")
def token_revoke(token_id: uuid.UUID) -> None:
    """Revoke a token by its id (from `darkroom token list`)."""

    async def work(session: AsyncSession) -> str:
        from core.models import ApiToken

        token = await session.get(ApiToken, token_id)
        if token is None:
            return ""
        await revoke_token(session, user_id=token.user_id, token_id=token_id)
        return f"revoked {token.preview}"

    message = in_session(work)
    if not message:
        err.print(f"[red]NOT_FOUND:[/red] no token {token_id}")
        raise typer.Exit(1)
    out.print(message)


@app.command()
def worker(
    burst: Annotated[
        bool, typer.Option(help="Exit once the queue is empty (tests, batch runs).")
    ] = False,
) -> None:
    """Run a GPU worker: takes jobs from Redis (needs DARKROOM_REDIS_URL)."""
    from darkroom.services import run_worker

    settings = settings_or_exit()
    if not settings.redis_url:
        err.print(
            "[red]configuration error:[/red] DARKROOM_REDIS_URL is not set; without "
            "Redis, `darkroom serve` runs jobs in-process and needs no worker"
        )
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_worker(settings, burst=burst)


def job_uuid(global_id: str) -> str:
    """The plain job id inside a Relay global id (for file names)."""
    return base64.b64decode(global_id).decode().partition(":")[2]


@app.command()
def generate(
    prompt: str,
    token: Annotated[
        str,
        typer.Option(envvar="DARKROOM_TOKEN", help="API token (or DARKROOM_TOKEN)."),
    ],
    url: Annotated[
        str | None,
        typer.Option(help="GraphQL endpoint; default PUBLIC_BASE_URL/graphql."),
    ] = None,
    width: Annotated[int | None, typer.Option(help="Width in pixels.")] = None,
    height: Annotated[int | None, typer.Option(help="Height in pixels.")] = None,
    outputs: Annotated[int, typer.Option(help="Images to make, 1 to 4.")] = 1,
    steps: Annotated[int | None, typer.Option(help="Denoising steps.")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed; image i uses seed + i.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Catalog model id.")] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the images.")
    ] = Path("."),
) -> None:
    """Generate images through a running server, watching the job live."""
    from rich.progress import Progress

    from darkroom.client import Client, DarkroomError

    endpoint = url or settings_or_exit().public_base_url.rstrip("/") + "/graphql"
    client = Client(endpoint, token)
    fields = {
        "prompt": prompt,
        "numOutputs": outputs,
        "width": width,
        "height": height,
        "inferenceSteps": steps,
        "seed": seed,
        "modelId": model,
    }
    try:
        job = client.generate(**{k: v for k, v in fields.items() if v is not None})
        out.print(f"job {job['id']} queued, {job['cost']} credits")
        with Progress(console=out) as progress:
            task = progress.add_task("queued", total=None)
            for update in client.watch(job["id"]):
                if update["type"] == "PROGRESS":
                    progress.update(
                        task,
                        description="denoising",
                        completed=update["step"],
                        total=update["totalSteps"],
                    )
                elif update["type"] == "QUEUED":
                    progress.update(
                        task, description=f"queued (#{update['queuePosition']})"
                    )
                elif update["type"] == "FAILED":
                    raise DarkroomError([update["error"]])
        out_dir.mkdir(parents=True, exist_ok=True)
        for output in client.job(job["id"])["outputs"]:
            path = out_dir / f"{job_uuid(job['id'])}-{output['index']}.png"
            path.write_bytes(client.download(output["imageUrl"]))
            out.print(f"saved {path} (seed {output['seed']})")
    except DarkroomError as refusal:
        err.print(f"[red]refused:[/red] {refusal}")
        raise typer.Exit(1) from None


if __name__ == "__main__":
    sys.exit(app())
