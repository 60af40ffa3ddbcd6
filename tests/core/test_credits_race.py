"""Concurrent debits and top-ups, each in its own transaction, on both databases."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from core.credits import (
    FreeCreditPolicy,
    balance,
    create_free_grant,
    debit_credits,
    grant_credits,
    top_up_free_credits,
)
from core.db import Database
from core.enums import CreditType, Tier
from core.errors import ErrorCode, ServiceError
from core.models import CreditRow, User

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
POLICY = FreeCreditPolicy()


async def new_user(db: Database) -> uuid.UUID:
    async with db.session() as s:
        user = User(email=f"{uuid.uuid4().hex}@example.com", tier=Tier.FREE)
        s.add(user)
    return user.id


async def test_fifty_concurrent_debits_on_ten_credits_let_exactly_ten_through(
    db,
) -> None:
    # given ten credits spread over two rows
    user_id = await new_user(db)
    async with db.session() as s:
        await grant_credits(s, user_id=user_id, amount=4, now=NOW)
        await grant_credits(
            s, user_id=user_id, amount=6, expires_at=NOW + timedelta(days=1), now=NOW
        )

    async def debit_one() -> ErrorCode | None:
        try:
            async with db.session() as s:
                await debit_credits(s, user_id=user_id, amount=1, now=NOW)
        except ServiceError as err:
            return err.code
        return None

    # when fifty 1-credit debits race, each in its own transaction
    results = await asyncio.gather(*(debit_one() for _ in range(50)))
    # then exactly ten succeed, forty are refused, and nothing went negative
    assert results.count(None) == 10
    assert results.count(ErrorCode.INSUFFICIENT_CREDITS) == 40
    async with db.session() as s:
        assert await balance(s, user_id=user_id, now=NOW) == 0
        remaining = list(await s.scalars(sa.select(CreditRow.remaining)))
    assert remaining == [0, 0]


async def test_twenty_concurrent_top_ups_add_credits_exactly_once(db) -> None:
    # given a free user who spent 30 credits twelve hours ago
    user_id = await new_user(db)
    async with db.session() as s:
        await create_free_grant(s, user_id=user_id, policy=POLICY, now=NOW)
        await debit_credits(s, user_id=user_id, amount=30, now=NOW)
    later = NOW + timedelta(hours=12)

    async def top_up() -> int:
        async with db.session() as s:
            # each reads the clock, as a request would, before racing to move it
            user = await s.get(User, user_id, populate_existing=True)
            assert user is not None
            return await top_up_free_credits(s, user=user, policy=POLICY, now=later)

    # when twenty top-ups race
    added = await asyncio.gather(*(top_up() for _ in range(20)))
    # then one of them adds 10 and the rest find it done
    assert sorted(added) == [0] * 19 + [10]
    async with db.session() as s:
        assert await balance(s, user_id=user_id, now=later) == 30
        free_rows = await s.scalar(
            sa.select(sa.func.count()).where(CreditRow.type == CreditType.FREE)
        )
    assert free_rows == 2
