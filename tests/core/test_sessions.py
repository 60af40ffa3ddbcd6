"""Console sign-in codes and sessions: single use, expiry, sign-out, stored hashed."""

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from core.accounts import create_user
from core.credits import FreeCreditPolicy
from core.db import Database
from core.enums import Scope, Tier
from core.models import ConsoleLoginCode, ConsoleSession, utcnow
from core.sessions import (
    ABSOLUTE_LIFETIME,
    CODE_LIFETIME,
    IDLE_LIFETIME,
    CodeRefusal,
    CodeRefused,
    authenticate_session,
    check_login_code,
    create_login_code,
    end_session,
    live_session_ids,
    redeem_login_code,
)
from core.tokens import hash_secret

POLICY = FreeCreditPolicy()


async def _account(db: Database, email: str = "a@example.com") -> uuid.UUID:
    async with db.session() as session:
        user = await create_user(session, email=email, tier=Tier.PRO, policy=POLICY)
        return user.id


async def _signed_in(db: Database, user_id: uuid.UUID) -> str:
    async with db.session() as session:
        code = await create_login_code(session, user_id=user_id)
    async with db.session() as session:
        return (await redeem_login_code(session, code=code)).secret


async def test_a_code_opens_one_session_and_only_hashes_are_stored(
    db: Database,
) -> None:
    # given a code for an account
    user_id = await _account(db)
    async with db.session() as session:
        code = await create_login_code(session, user_id=user_id)
    # when it is exchanged
    async with db.session() as session:
        opened = await redeem_login_code(session, code=code)
    # then the session signs in with the user scopes, never ADMIN or METRICS
    async with db.session() as session:
        caller = await authenticate_session(session, secret=opened.secret)
        assert caller is not None
        assert caller.user.id == user_id
        assert caller.token is None
        assert caller.scopes == {Scope.GENERATE, Scope.READ, Scope.MANAGE}
        # and the tables hold the digests, never the secrets
        codes = list(await session.scalars(sa.select(ConsoleLoginCode)))
        sessions = list(await session.scalars(sa.select(ConsoleSession)))
    assert [c.code_hash for c in codes] == [hash_secret(code)]
    assert [s.secret_hash for s in sessions] == [hash_secret(opened.secret)]


async def test_a_code_works_once_even_when_two_exchanges_race(db: Database) -> None:
    # given a code
    user_id = await _account(db)
    async with db.session() as session:
        code = await create_login_code(session, user_id=user_id)

    async def exchange() -> str:
        try:
            async with db.session() as session:
                await redeem_login_code(session, code=code)
        except CodeRefused as refused:
            return refused.reason.value
        return "OPENED"

    # when two exchanges run at once
    results = await asyncio.gather(exchange(), exchange())
    # then one opened a session and the other found the code used
    assert sorted(results) == ["OPENED", "USED"]


async def test_expired_unknown_and_malformed_codes_are_refused_with_their_reason(
    db: Database,
) -> None:
    # given a code created longer ago than its lifetime
    user_id = await _account(db)
    past = utcnow() - CODE_LIFETIME - CODE_LIFETIME
    async with db.session() as session:
        old = await create_login_code(session, user_id=user_id, now=past)
    cases = {old: CodeRefusal.EXPIRED, "A" * 43: CodeRefusal.UNKNOWN, "x'--": None}
    for code, reason in cases.items():
        # when it is checked or exchanged, then it is refused with why
        for attempt in (check_login_code, redeem_login_code):
            async with db.session() as session:
                with pytest.raises(CodeRefused) as refused:
                    await attempt(session, code=code)
            assert refused.value.reason is (reason or CodeRefusal.UNKNOWN)


async def test_a_session_ends_when_idle_at_its_absolute_expiry_or_at_sign_out(
    db: Database,
) -> None:
    # given a session
    user_id = await _account(db)
    secret = await _signed_in(db, user_id)
    now = utcnow()
    async with db.session() as session:
        # then it is live until idle too long, and ends at its absolute expiry
        assert await authenticate_session(session, secret=secret, now=now)
        idle = now + IDLE_LIFETIME + IDLE_LIFETIME
        assert await authenticate_session(session, secret=secret, now=idle) is None
    async with db.session() as session:
        await session.execute(
            sa.update(ConsoleSession).values(expires_at=now - ABSOLUTE_LIFETIME)
        )
    async with db.session() as session:
        assert await authenticate_session(session, secret=secret) is None
    # and a fresh one stops at sign-out
    again = await _signed_in(db, user_id)
    async with db.session() as session:
        assert await end_session(session, secret=again) == 1
    async with db.session() as session:
        assert await authenticate_session(session, secret=again) is None


async def test_sign_out_everywhere_ends_every_session_of_that_account_only(
    db: Database,
) -> None:
    # given two sessions of alice and one of bob
    alice, bob = await _account(db), await _account(db, "b@example.com")
    first, second = await _signed_in(db, alice), await _signed_in(db, alice)
    bobs = await _signed_in(db, bob)
    async with db.session() as session:
        ids = {
            (await authenticate_session(session, secret=s)).session_id  # type: ignore[union-attr]
            for s in (first, second, bobs)
        }
    # when alice signs out everywhere from her first browser
    async with db.session() as session:
        assert await end_session(session, secret=first, everywhere=True) == 2
    # then both of hers are over and bob's is live
    async with db.session() as session:
        live = await live_session_ids(session, session_ids=ids)
        assert await authenticate_session(session, secret=second) is None
        caller = await authenticate_session(session, secret=bobs)
    assert caller is not None
    assert live == {caller.session_id}
