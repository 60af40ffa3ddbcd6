"""Console sign-in: one-time link codes, the sessions they open, and sign-out.

A code is a random secret in a link (`/console/login?code=...`), good once and
for `CODE_LIFETIME`. Exchanging it opens a session whose random secret lives in
an HttpOnly cookie. The tables keep only sha256 digests (a 256-bit random secret
needs no salt), so a leaked database signs nobody in.

A session is not a token: it acts with the account's user scopes (never ADMIN or
METRICS), only from the console's own origin with its CSRF token (api/), and it
ends when idle for `IDLE_LIFETIME`, at `ABSOLUTE_LIFETIME` however active, or at
sign-out.
"""

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.enums import Scope
from core.models import ConsoleLoginCode, ConsoleSession, User, utcnow
from core.tokens import Caller, hash_secret

CODE_LIFETIME = timedelta(minutes=15)
IDLE_LIFETIME = timedelta(hours=12)
ABSOLUTE_LIFETIME = timedelta(days=14)
# Writing last_seen_at on every request would turn each read into a write.
SEEN_RESOLUTION = timedelta(seconds=60)
# What a signed-in person may do in their own account; moderation and metrics
# stay with tokens an operator hands out.
SESSION_SCOPES = frozenset({Scope.GENERATE, Scope.READ, Scope.MANAGE})
# token_urlsafe(32): 43 characters of [A-Za-z0-9_-]; anything else is forged.
_SECRET_LENGTH = 43
_SECRET_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)


class CodeRefusal(StrEnum):
    """Why a sign-in code opened no session."""

    UNKNOWN = "UNKNOWN"  # never issued (mistyped, cut short, forged)
    USED = "USED"
    EXPIRED = "EXPIRED"


class CodeRefused(Exception):  # noqa: N818  # reads as the event it reports
    """A sign-in code that cannot be exchanged, and why."""

    def __init__(self, reason: CodeRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class OpenedSession:
    """A new session and its cookie secret, which is never stored."""

    session: ConsoleSession
    secret: str


def _well_formed(secret: str) -> bool:
    return len(secret) == _SECRET_LENGTH and set(secret) <= _SECRET_ALPHABET


def csrf_token_for(secret: str) -> str:
    """The CSRF token bound to a session: derived from its secret, so nothing is
    stored, and one-way, so the page (which may read it) never learns the cookie."""
    return hashlib.sha256(b"darkroom-csrf:" + secret.encode()).hexdigest()


async def create_login_code(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime | None = None
) -> str:
    """A new one-time sign-in code for the account, valid for CODE_LIFETIME."""
    now = now or utcnow()
    code = secrets.token_urlsafe(32)
    session.add(
        ConsoleLoginCode(
            user_id=user_id,
            code_hash=hash_secret(code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await session.flush()
    return code


async def check_login_code(
    session: AsyncSession, *, code: str, now: datetime | None = None
) -> User:
    """The account a code would sign in, without using it; raises CodeRefused."""
    now = now or utcnow()
    row = None
    if _well_formed(code):
        row = (
            await session.execute(
                sa.select(ConsoleLoginCode, User)
                .join(User, col(User.id) == col(ConsoleLoginCode.user_id))
                .where(col(ConsoleLoginCode.code_hash) == hash_secret(code))
            )
        ).first()
    if row is None:
        raise CodeRefused(CodeRefusal.UNKNOWN)
    login, user = row
    if login.used_at is not None:
        raise CodeRefused(CodeRefusal.USED)
    if login.expires_at <= now:
        raise CodeRefused(CodeRefusal.EXPIRED)
    return user


async def redeem_login_code(
    session: AsyncSession, *, code: str, now: datetime | None = None
) -> OpenedSession:
    """Exchange a code for a new session, once; raises CodeRefused otherwise."""
    now = now or utcnow()
    if not _well_formed(code):
        raise CodeRefused(CodeRefusal.UNKNOWN)
    digest = hash_secret(code)
    # One conditional update: of two concurrent exchanges only one sees a row.
    user_id = await session.scalar(
        sa.update(ConsoleLoginCode)
        .where(
            col(ConsoleLoginCode.code_hash) == digest,
            col(ConsoleLoginCode.used_at).is_(None),
            col(ConsoleLoginCode.expires_at) > now,
        )
        .values(used_at=now)
        .returning(col(ConsoleLoginCode.user_id))
    )
    if user_id is None:
        row = await session.scalar(
            sa.select(ConsoleLoginCode).where(col(ConsoleLoginCode.code_hash) == digest)
        )
        if row is None:
            raise CodeRefused(CodeRefusal.UNKNOWN)
        raise CodeRefused(
            CodeRefusal.USED if row.used_at is not None else CodeRefusal.EXPIRED
        )
    secret = secrets.token_urlsafe(32)
    opened = ConsoleSession(
        user_id=user_id,
        secret_hash=hash_secret(secret),
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_LIFETIME,
    )
    session.add(opened)
    await session.flush()
    return OpenedSession(opened, secret)


def _live(now: datetime) -> list[sa.ColumnElement[bool]]:
    """The conditions of a session that still signs its browser in."""
    return [
        col(ConsoleSession.ended_at).is_(None),
        col(ConsoleSession.expires_at) > now,
        col(ConsoleSession.last_seen_at) > now - IDLE_LIFETIME,
    ]


async def authenticate_session(
    session: AsyncSession, *, secret: str, now: datetime | None = None
) -> Caller | None:
    """The caller a cookie's secret signs in; None if unknown, ended or expired."""
    if not _well_formed(secret):
        return None
    now = now or utcnow()
    row = (
        await session.execute(
            sa.select(ConsoleSession, User)
            .join(User, col(User.id) == col(ConsoleSession.user_id))
            .where(col(ConsoleSession.secret_hash) == hash_secret(secret), *_live(now))
        )
    ).first()
    if row is None:
        return None
    opened, user = row
    if now - opened.last_seen_at >= SEEN_RESOLUTION:
        opened.last_seen_at = now
    return Caller(user=user, token=None, scopes=SESSION_SCOPES, session_id=opened.id)


async def end_session(
    session: AsyncSession, *, secret: str, everywhere: bool = False
) -> int:
    """Sign a browser out, or with `everywhere` every session of its account;
    how many sessions ended (0 for an unknown or already ended one)."""
    opened = await session.scalar(
        sa.select(ConsoleSession).where(
            col(ConsoleSession.secret_hash) == hash_secret(secret)
        )
    )
    if opened is None:
        return 0
    which = (
        col(ConsoleSession.user_id) == opened.user_id
        if everywhere
        else col(ConsoleSession.id) == opened.id
    )
    result = await session.execute(
        sa.update(ConsoleSession)
        .where(which, col(ConsoleSession.ended_at).is_(None))
        .values(ended_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


async def live_session_ids(
    session: AsyncSession,
    *,
    session_ids: Iterable[uuid.UUID],
    now: datetime | None = None,
) -> set[uuid.UUID]:
    """Those of `session_ids` that still sign in (for open websockets)."""
    wanted = set(session_ids)
    if not wanted:
        return set()
    rows = await session.scalars(
        sa.select(col(ConsoleSession.id)).where(
            col(ConsoleSession.id).in_(wanted), *_live(now or utcnow())
        )
    )
    return set(rows)
