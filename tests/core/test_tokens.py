"""Which tokens still authenticate, asked for many at once, and the caller cache."""

import asyncio
import uuid

from core.accounts import create_user
from core.credits import FreeCreditPolicy
from core.db import Database
from core.enums import Tier
from core.tokens import (
    CallerCache,
    active_token_ids,
    authenticate,
    create_token,
    revoke_token,
)

POLICY = FreeCreditPolicy()


async def test_only_active_tokens_of_existing_accounts_are_active(db: Database) -> None:
    # given an account with two tokens, one of them revoked
    async with db.session() as session:
        user = await create_user(
            session, email="a@example.com", tier=Tier.PRO, policy=POLICY
        )
        kept, _ = await create_token(session, user_id=user.id)
        gone, _ = await create_token(session, user_id=user.id)
        await revoke_token(session, user_id=user.id, token_id=gone.id)
    # when the three ids (one unknown) are checked together
    async with db.session() as session:
        active = await active_token_ids(
            session, token_ids=[kept.id, gone.id, uuid.uuid4()]
        )
    # then only the live one is active
    assert active == {kept.id}


async def test_the_caller_cache_keeps_callers_briefly_forgets_revoked_ones_and_stays_bounded(
    db: Database,
) -> None:
    # given two tokens of one account, authenticated once each
    async with db.session() as session:
        user = await create_user(
            session, email="b@example.com", tier=Tier.PRO, policy=POLICY
        )
        _, first = await create_token(session, user_id=user.id)
        _, second = await create_token(session, user_id=user.id)
        callers = [await authenticate(session, secret=s) for s in (first, second)]
    one, two = (c for c in callers if c is not None)
    cache = CallerCache(ttl=0.2)
    cache.put(first, one)
    # then a cached caller comes back within its time, and not after it
    assert cache.get(first) is one
    await asyncio.sleep(0.25)
    assert cache.get(first) is None
    # and a forgotten token is gone at once, the other one kept
    cache.put(first, one)
    cache.put(second, two)
    cache.forget(one.token.id)
    assert (cache.get(first), cache.get(second)) == (None, two)
    # and past its size the oldest entry makes room
    cache.MAX_ENTRIES = 1
    cache.put(first, one)
    assert (cache.get(first), cache.get(second)) == (one, None)
