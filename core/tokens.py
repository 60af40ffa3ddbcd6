"""API tokens: creation (secret shown once), authentication, listing and revocation."""

import hashlib
import re
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.credits import lock_account
from core.enums import DEFAULT_SCOPES, Scope
from core.errors import ErrorCode, ServiceError
from core.models import ApiToken, User, utcnow
from core.text import text_problem

PREFIX = "drk_"
# A fixed prefix plus 64 hex characters lets secret scanners recognise leaked tokens.
SECRET_PATTERN = re.compile(r"^drk_[0-9a-f]{64}$")
DEFAULT_NAME = "Secret key"
MAX_NAME_LENGTH = 50
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class Caller:
    """Who is making a request, and with which scopes: an API token's, or a
    console session's (core/sessions.py), which has no token."""

    user: User
    token: ApiToken | None
    scopes: frozenset[Scope]
    session_id: uuid.UUID | None = None

    @property
    def token_id(self) -> uuid.UUID | None:
        """The token the request came with; None for a console session."""
        return None if self.token is None else self.token.id


def hash_secret(secret: str) -> str:
    """The sha256 hex digest kept instead of the secret (a 256-bit secret needs no salt)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def preview_of(secret: str) -> str:
    """What identifies a token later: its prefix and last four characters."""
    return f"{PREFIX}...{secret[-4:]}"


def parse_scopes(raw: str) -> frozenset[Scope]:
    """Scopes from their stored comma-separated form."""
    return frozenset(Scope(s) for s in raw.split(",") if s)


def format_scopes(scopes: Iterable[Scope]) -> str:
    """Scopes in their stored form, in a stable order."""
    return ",".join(s.value for s in Scope if s in set(scopes))


async def create_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    name: str | None = None,
    scopes: Iterable[Scope] | None = None,
    allowed_scopes: Iterable[Scope] | None = None,
    max_active: int = 10,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never shown again.

    `allowed_scopes` bounds what a token-authenticated caller may hand out: a token
    can never create a token stronger than itself.
    """
    name, chosen = _checked(name, scopes, allowed_scopes)
    # Lock the account so two concurrent creations cannot both pass the limit.
    await lock_account(session, user_id=user_id)
    active = await session.scalar(
        sa.select(sa.func.count())
        .select_from(ApiToken)
        .where(col(ApiToken.user_id) == user_id, col(ApiToken.is_active))
    )
    if (active or 0) >= max_active:
        raise ServiceError(
            ErrorCode.TOO_MANY_TOKENS,
            f"an account may have at most {max_active} active tokens; revoke one first",
        )
    secret = PREFIX + secrets.token_hex(32)
    token = ApiToken(
        user_id=user_id,
        name=name,
        secret_hash=hash_secret(secret),
        preview=preview_of(secret),
        scopes=format_scopes(chosen),
    )
    session.add(token)
    await session.flush()
    return token, secret


def _checked(
    name: str | None,
    scopes: Iterable[Scope] | None,
    allowed_scopes: Iterable[Scope] | None,
) -> tuple[str, frozenset[Scope]]:
    """The new token's name and scopes, defaulted, or the refusal of either."""
    name = DEFAULT_NAME if name is None else " ".join(name.split())
    chosen = frozenset(DEFAULT_SCOPES if scopes is None else scopes)
    if not name:
        raise ServiceError(ErrorCode.REQUIRED, "name must not be empty", "name")
    if problem := text_problem(name):
        # The API refuses such text earlier; the CLI passes argv straight here.
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT, f"name has invalid text: {problem}", "name"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ServiceError(
            ErrorCode.TOO_LONG,
            f"name must be at most {MAX_NAME_LENGTH} characters; got {len(name)}",
            "name",
        )
    if not chosen:
        raise ServiceError(
            ErrorCode.REQUIRED, "a token needs at least one scope", "scopes"
        )
    if allowed_scopes is not None and not chosen <= set(allowed_scopes):
        missing = format_scopes(chosen - set(allowed_scopes))
        raise ServiceError(
            ErrorCode.FORBIDDEN,
            f"a token cannot grant scopes its creator lacks: {missing}",
            "scopes",
        )
    return name, chosen


async def authenticate(
    session: AsyncSession, *, secret: str, now: datetime | None = None
) -> Caller | None:
    """The caller a secret belongs to, or None for an unknown, malformed or revoked one."""
    if not SECRET_PATTERN.match(secret):
        return None
    row = (
        await session.execute(
            sa.select(ApiToken, User)
            .join(User, col(User.id) == col(ApiToken.user_id))
            .where(
                col(ApiToken.secret_hash) == hash_secret(secret),
                col(ApiToken.is_active),
            )
        )
    ).first()
    if row is None:
        return None
    token, user = row
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return Caller(user=user, token=token, scopes=parse_scopes(token.scopes))


async def list_tokens(session: AsyncSession, *, user_id: uuid.UUID) -> list[ApiToken]:
    """The account's tokens, active and revoked, newest first."""
    rows = await session.scalars(
        sa.select(ApiToken)
        .where(col(ApiToken.user_id) == user_id)
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id))
    )
    return list(rows)


async def get_token(
    session: AsyncSession, *, user_id: uuid.UUID, token_id: uuid.UUID
) -> ApiToken:
    """One of the account's tokens; another account's id is simply not found."""
    token = await session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise ServiceError(ErrorCode.NOT_FOUND, "no such API token", "id")
    return token


async def revoke_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    token_id: uuid.UUID,
    now: datetime | None = None,
) -> ApiToken:
    """Deactivate a token; the row stays so usage history can still name it."""
    token = await get_token(session, user_id=user_id, token_id=token_id)
    if token.is_active:
        token.is_active = False
        token.revoked_at = now or utcnow()
    return token


async def active_token_ids(
    session: AsyncSession, *, token_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of `token_ids` that still authenticate: active, and their account exists."""
    wanted = set(token_ids)
    if not wanted:
        return set()
    rows = await session.scalars(
        sa.select(col(ApiToken.id))
        .join(User, col(User.id) == col(ApiToken.user_id))
        .where(col(ApiToken.id).in_(wanted), col(ApiToken.is_active))
    )
    return set(rows)


async def record_token_spend(
    session: AsyncSession, *, token_id: uuid.UUID, credits: int
) -> None:
    """Count a use of the token and the credits it spent (negative for a refund)."""
    await session.execute(
        sa.update(ApiToken)
        .where(col(ApiToken.id) == token_id)
        .values(
            uses=col(ApiToken.uses) + (1 if credits > 0 else 0),
            credits_spent=col(ApiToken.credits_spent) + credits,
        )
    )


class CallerCache:
    """Callers by token secret for a few seconds, so a client's burst of requests
    authenticates once rather than reading its token row every time.

    Entries live `ttl` seconds: a token revoked in another process (or the CLI)
    stops working within that time, as its websockets close within it too. A
    revocation in this process forgets the token at once. The cache is bounded;
    the oldest entries make room.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[float, Caller]] = OrderedDict()

    def get(self, secret: str) -> Caller | None:
        """The cached caller of this secret, if still fresh."""
        key = hash_secret(secret)
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, secret: str, caller: Caller) -> None:
        """Remember a caller just authenticated."""
        key = hash_secret(secret)
        self._entries.pop(key, None)
        self._entries[key] = (time.monotonic() + self.ttl, caller)
        while len(self._entries) > self.MAX_ENTRIES:
            self._entries.popitem(last=False)

    def forget(self, token_id: uuid.UUID) -> None:
        """Drop a token (revoked here) at once."""
        gone = [k for k, (_, c) in self._entries.items() if c.token_id == token_id]
        for key in gone:
            del self._entries[key]
