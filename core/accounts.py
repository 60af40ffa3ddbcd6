"""Accounts and tiers: creation with starting credits, lookup, tier changes."""

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.credits import FreeCreditPolicy, create_free_grant, grant_credits
from core.enums import CreditType, Tier
from core.errors import ErrorCode, ServiceError
from core.models import User
from core.text import text_problem

# Deliberately loose: the mailbox is the operator's business, not ours to second-guess.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 320


def normalise_email(email: str) -> str:
    """Lower-case and trim an address, refusing anything that is not one."""
    value = email.strip().lower()
    # An undecodable byte in argv arrives as a lone surrogate: refuse, don't store.
    if problem := text_problem(value):
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT, f"email has invalid text: {problem}", "email"
        )
    if len(value) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(value):
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT, f"not an email address: {email!r}", "email"
        )
    return value


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    tier: Tier = Tier.FREE,
    credits: int = 0,
    credits_expire_at: datetime | None = None,
    policy: FreeCreditPolicy,
) -> User:
    """Create an account: free tier gets its sign-up credits, plus any extra granted."""
    address = normalise_email(email)
    if await session.scalar(sa.select(col(User.id)).where(col(User.email) == address)):
        raise ServiceError(
            ErrorCode.ALREADY_EXISTS, f"{address} already has an account", "email"
        )
    user = User(email=address, tier=tier)
    session.add(user)
    await session.flush()
    if tier is Tier.FREE:
        await create_free_grant(session, user_id=user.id, policy=policy)
    if credits:
        await grant_credits(
            session,
            user_id=user.id,
            amount=credits,
            type=CreditType.GRANT,
            expires_at=credits_expire_at,
            note="granted at account creation",
        )
    return user


async def get_user_by_email(session: AsyncSession, *, email: str) -> User:
    """An account by its address."""
    address = normalise_email(email)
    user = await session.scalar(sa.select(User).where(col(User.email) == address))
    if user is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no account for {address}", "email")
    return user


async def list_users(session: AsyncSession) -> list[User]:
    """Every account, oldest first."""
    return list(
        await session.scalars(
            sa.select(User).order_by(col(User.created_at), col(User.id))
        )
    )


async def count_users(session: AsyncSession) -> int:
    """How many accounts exist (serve creates the first one)."""
    return int(await session.scalar(sa.select(sa.func.count()).select_from(User)) or 0)


async def set_tier(session: AsyncSession, *, email: str, tier: Tier) -> User:
    """Move an account to another tier; running jobs keep the lane they were given."""
    user = await get_user_by_email(session, email=email)
    user.tier = tier
    return user
