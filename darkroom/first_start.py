"""What `darkroom serve` does before it serves: take the port, then the account.

The port is bound first so that a start which cannot serve (the port is taken)
creates nothing: the local account's one-time token is only ever printed by a
server that is about to answer it.
"""

import errno
import socket
import sys
from dataclasses import dataclass

import typer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import count_users, create_user, get_user_by_email
from core.credits import FreeCreditPolicy
from core.db import Database
from core.enums import Scope, Tier
from core.errors import ErrorCode, ServiceError
from core.migrate import check_schema, upgrade_database
from core.sessions import create_login_code
from core.settings import Settings
from core.tokens import create_token, list_tokens
from darkroom.console import err

LOCAL_EMAIL = "local@darkroom.localhost"
LOCAL_CREDITS = 1000


def prepare_embedded(settings: Settings) -> None:
    """Create the data folder and bring the database to the newest schema."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.storage_root.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.resolved_database_url)


def bind_or_exit(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or one line naming --port and exit 1."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn binds: a restart may reuse a port whose old connections linger.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as problem:
        sock.close()
        if problem.errno == errno.EADDRINUSE:
            reason = "is already in use by another program"
        else:
            reason = f"cannot be opened ({problem.strerror or problem})"
        err.print(
            f"[red]error:[/red] port {port} on {host} {reason}; "
            "stop that program or pick another port with --port"
        )
        raise typer.Exit(1) from None
    sock.set_inheritable(True)
    return sock


@dataclass(frozen=True)
class LocalAccess:
    """How a newcomer gets into the local account on this start."""

    secret: str | None  # a new account's token, to print once
    # A new account's one-time console sign-in code (core/sessions.py).
    login_code: str | None
    token_command: str | None  # no token of the account was ever used: how to make one


async def local_access(settings: Settings) -> LocalAccess:
    """Create the local account on a brand-new database; else, if none of its
    tokens was ever used, say how to make one (its first was maybe lost)."""
    try:
        return await _local_access(settings)
    except (IntegrityError, ServiceError) as lost:
        if isinstance(lost, ServiceError) and lost.code is not ErrorCode.ALREADY_EXISTS:
            raise
        # Another replica starting at the same moment made the account first.
        return await _local_access(settings)


async def _local_access(settings: Settings) -> LocalAccess:
    db = Database(settings.resolved_database_url)
    try:
        await check_schema(db)
        async with db.session() as session:
            if not await count_users(session):
                secret, code = await _create_local(session, settings)
                return LocalAccess(secret=secret, login_code=code, token_command=None)
            try:
                user = await get_user_by_email(session, email=LOCAL_EMAIL)
            except ServiceError:  # an operator's database without the local account
                return LocalAccess(secret=None, login_code=None, token_command=None)
            tokens = await list_tokens(session, user_id=user.id)
            if any(t.last_used_at is not None for t in tokens):
                return LocalAccess(secret=None, login_code=None, token_command=None)
            scopes = ",".join(s.value for s in Scope)
            return LocalAccess(
                secret=None,
                login_code=None,
                token_command=f"{sys.argv[0]} token create {LOCAL_EMAIL} --scopes {scopes}",
            )
    finally:
        await db.dispose()


async def _create_local(session: AsyncSession, settings: Settings) -> tuple[str, str]:
    """The local account with its token secret and a console sign-in code."""
    user = await create_user(
        session,
        email=LOCAL_EMAIL,
        tier=Tier.PRO,
        credits=LOCAL_CREDITS,
        policy=FreeCreditPolicy.from_settings(settings),
    )
    _token, secret = await create_token(
        session,
        user_id=user.id,
        name="local",
        scopes=list(Scope),
    )
    return secret, await create_login_code(session, user_id=user.id)
