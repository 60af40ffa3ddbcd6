"""The credits ledger on both databases: balance, spending order, refunds, top-ups."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.credits import (
    FreeCreditPolicy,
    balance,
    create_free_grant,
    credit_rows,
    debit_credits,
    grant_credits,
    next_free_topup_at,
    refund_credits,
    top_up_free_credits,
    upcoming_credits,
)
from core.db import Database
from core.enums import CreditType, Tier
from core.errors import ErrorCode, ServiceError
from core.models import CreditRow, User
from core.settings import Settings

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = FreeCreditPolicy()


async def new_user(db: Database, tier: Tier = Tier.FREE) -> uuid.UUID:
    async with db.session() as s:
        user = User(email=f"{uuid.uuid4().hex}@example.com", tier=tier)
        s.add(user)
    return user.id


async def grant(db: Database, user_id: uuid.UUID, amount: int, **kwargs) -> CreditRow:
    async with db.session() as s:
        return await grant_credits(s, user_id=user_id, amount=amount, **kwargs)


async def spendable(db: Database, user_id: uuid.UUID, now: datetime = NOW) -> int:
    async with db.session() as s:
        return await balance(s, user_id=user_id, now=now)


async def debit(
    db: Database, user_id: uuid.UUID, amount: int, now: datetime = NOW
) -> list[tuple[uuid.UUID, int]]:
    async with db.session() as s:
        return await debit_credits(s, user_id=user_id, amount=amount, now=now)


async def ledger(db: Database, user_id: uuid.UUID) -> dict[uuid.UUID, tuple]:
    async with db.session() as s:
        rows = await s.scalars(sa.select(CreditRow).where(CreditRow.user_id == user_id))
        return {
            r.id: (r.type, r.amount, r.remaining, r.starts_at, r.expires_at)
            for r in rows
        }


async def free_user_with_signup_credits(db: Database) -> uuid.UUID:
    user_id = await new_user(db)
    async with db.session() as s:
        await create_free_grant(s, user_id=user_id, policy=POLICY, now=NOW)
    return user_id


async def top_up(db: Database, user_id: uuid.UUID, now: datetime) -> int:
    async with db.session() as s:
        user = await s.get(User, user_id, populate_existing=True)
        assert user is not None
        return await top_up_free_credits(s, user=user, policy=POLICY, now=now)


# --- a plain-Python model of the ledger, for the property tests -------------------


@dataclass
class ModelRow:
    id: uuid.UUID
    type: CreditType
    remaining: int
    starts_at: datetime
    expires_at: datetime | None
    created_at: datetime

    def in_force(self, now: datetime) -> bool:
        return self.starts_at <= now and (
            self.expires_at is None or now < self.expires_at
        )

    def spending_key(self) -> tuple:
        # product §2.2: refunds first, then soonest expiry (never last), oldest first
        never = self.expires_at is None
        return (
            self.type is not CreditType.REFUND,
            never,
            NOW if never else self.expires_at,
            self.created_at,
            self.id,
        )


def model_row(row: CreditRow) -> ModelRow:
    return ModelRow(
        row.id, row.type, row.remaining, row.starts_at, row.expires_at, row.created_at
    )


def model_balance(rows: list[ModelRow], now: datetime) -> int:
    return sum(r.remaining for r in rows if r.in_force(now))


def model_debit(rows: list[ModelRow], amount: int, now: datetime) -> list[tuple]:
    """Spend from the model in the documented order; return the draws."""
    draws = []
    for row in sorted(rows, key=ModelRow.spending_key):
        if amount == 0:
            break
        if row.in_force(now) and row.remaining > 0:
            take = min(amount, row.remaining)
            draws.append((row.id, take))
            row.remaining -= take
            amount -= take
    return draws


grant_specs = st.lists(
    st.tuples(
        st.sampled_from(CreditType),
        st.integers(1, 20),  # amount
        st.integers(-48, 24),  # starts, hours from NOW
        st.one_of(st.none(), st.integers(1, 96)),  # lifetime in hours; None = never
        st.integers(0, 2),  # created, minutes before NOW: ties are common on purpose
    ),
    max_size=6,
)
operations = st.lists(
    st.tuples(
        st.sampled_from(["debit", "refund"]),
        st.integers(1, 40),  # amount
        st.integers(-24, 72),  # when, hours from NOW
    ),
    max_size=6,
)
PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@PROPERTY_SETTINGS
@given(specs=grant_specs, ops=operations)
async def test_the_ledger_behaves_like_a_plain_model_of_rows(db, specs, ops) -> None:
    # given a fresh user with random grants: started or not, expiring or not
    user_id = await new_user(db)
    model: list[ModelRow] = []
    async with db.session() as s:
        for kind, amount, start, lifetime, created in specs:
            if kind is CreditType.REFUND:
                lifetime = None  # refunds never expire
            starts_at = NOW + start * HOUR
            row = await grant_credits(
                s,
                user_id=user_id,
                amount=amount,
                type=kind,
                starts_at=starts_at,
                expires_at=None if lifetime is None else starts_at + lifetime * HOUR,
                now=NOW - created * timedelta(minutes=1),
            )
            model.append(model_row(row))
    for kind, amount, hours in ops:
        at = NOW + hours * HOUR
        before = await ledger(db, user_id)
        balance_before = await spendable(db, user_id, at)
        # when a debit or a refund runs at some moment
        if kind == "debit" and model_balance(model, at) < amount:
            with pytest.raises(ServiceError) as refused:
                await debit(db, user_id, amount, at)
            # then a short balance refuses the debit and changes nothing
            assert refused.value.code is ErrorCode.INSUFFICIENT_CREDITS
            assert refused.value.message == (
                f"needs {amount} credits; balance is {balance_before}"
            )
            assert await ledger(db, user_id) == before
        elif kind == "debit":
            draws = await debit(db, user_id, amount, at)
            # then it draws in the documented order, spread over rows
            assert draws == model_debit(model, amount, at)
            assert sum(take for _, take in draws) == amount
            assert await spendable(db, user_id, at) == balance_before - amount
        else:
            async with db.session() as s:
                row = await refund_credits(s, user_id=user_id, amount=amount, now=at)
            assert row is not None
            assert row.type is CreditType.REFUND
            assert row.expires_at is None
            model.append(model_row(row))
            # then the refund restores exactly that many credits
            assert await spendable(db, user_id, at) == balance_before + amount
        # and every row, and so every balance, matches the model; none is negative
        rows = await ledger(db, user_id)
        assert {i: r[2] for i, r in rows.items()} == {r.id: r.remaining for r in model}
        assert all(0 <= r[2] <= r[1] for r in rows.values())
        assert await spendable(db, user_id, at) == model_balance(model, at) >= 0


@PROPERTY_SETTINGS
@given(
    amounts=st.lists(st.integers(1, 30), min_size=1, max_size=4),
    spend=st.integers(1, 60),
)
async def test_refunding_a_debit_restores_the_balance_exactly(
    db, amounts, spend
) -> None:
    # given a user with some grants, one of them expiring
    user_id = await new_user(db)
    for i, amount in enumerate(amounts):
        expires_at = NOW + (i + 1) * HOUR if i % 2 else None
        await grant(db, user_id, amount, starts_at=NOW - HOUR, expires_at=expires_at)
    before = await spendable(db, user_id)
    spend = min(spend, before)
    # when some credits are spent and the same number refunded
    draws = await debit(db, user_id, spend)
    async with db.session() as s:
        await refund_credits(
            s, user_id=user_id, amount=sum(t for _, t in draws), now=NOW
        )
    # then the balance is what it was
    assert await spendable(db, user_id) == before


# --- examples -----------------------------------------------------------------------


async def test_a_debit_spends_refunds_first_then_the_soonest_expiry(db) -> None:
    # given rows of every kind, granted in an order unlike the spending order
    user_id = await new_user(db)
    never_old = await grant(
        db, user_id, 3, starts_at=NOW - 2 * HOUR, now=NOW - 2 * HOUR
    )
    late = await grant(db, user_id, 3, starts_at=NOW - HOUR, expires_at=NOW + 48 * HOUR)
    never_new = await grant(db, user_id, 3, starts_at=NOW - HOUR, now=NOW - HOUR)
    soon = await grant(db, user_id, 3, starts_at=NOW - HOUR, expires_at=NOW + 2 * HOUR)
    async with db.session() as s:
        refund = await refund_credits(s, user_id=user_id, amount=2, now=NOW - HOUR)
    assert refund is not None
    # when 13 credits are spent
    draws = await debit(db, user_id, 13)
    # then refunds go first, then soonest expiry, never-expiring last and oldest first
    assert draws == [
        (refund.id, 2),
        (soon.id, 3),
        (late.id, 3),
        (never_old.id, 3),
        (never_new.id, 2),
    ]
    async with db.session() as s:
        left = await credit_rows(s, user_id=user_id, now=NOW)
    assert [(r.id, r.remaining) for r in left] == [(never_new.id, 1)]


async def test_expired_and_unstarted_rows_are_not_spendable(db) -> None:
    # given 5 expired credits, 7 that start in an hour and 3 in force
    user_id = await new_user(db)
    await grant(db, user_id, 5, starts_at=NOW - 48 * HOUR, expires_at=NOW - HOUR)
    await grant(db, user_id, 7, starts_at=NOW + HOUR, expires_at=NOW + 30 * 24 * HOUR)
    await grant(db, user_id, 3, starts_at=NOW - HOUR)
    # when the balance is read now
    async with db.session() as s:
        now_balance = await balance(s, user_id=user_id, now=NOW)
        upcoming = await upcoming_credits(s, user_id=user_id, now=NOW)
    # then only the 3 count, and the 7 upcoming are shown apart
    assert (now_balance, upcoming) == (3, 7)
    with pytest.raises(ServiceError) as refused:
        await debit(db, user_id, 4)
    assert refused.value.code is ErrorCode.INSUFFICIENT_CREDITS
    assert refused.value.message == "needs 4 credits; balance is 3"
    # and an hour later the upcoming grant has become spendable
    async with db.session() as s:
        assert await balance(s, user_id=user_id, now=NOW + HOUR) == 10
        assert await upcoming_credits(s, user_id=user_id, now=NOW + HOUR) == 0


async def test_a_row_is_spendable_from_its_start_until_just_before_its_expiry(
    db,
) -> None:
    # given a row in force for exactly one hour
    user_id = await new_user(db)
    await grant(db, user_id, 4, starts_at=NOW, expires_at=NOW + HOUR)
    # when the balance is read at each edge
    edges = [
        NOW - timedelta(microseconds=1),
        NOW,
        NOW + HOUR - timedelta(microseconds=1),
    ]
    seen = [await spendable(db, user_id, at) for at in [*edges, NOW + HOUR]]
    # then the start counts and the expiry does not
    assert seen == [0, 4, 4, 0]


async def test_bad_amounts_and_periods_are_refused_with_the_rule_and_value(db) -> None:
    # given a user
    user_id = await new_user(db)
    async with db.session() as s:
        # when grants, debits and refunds get impossible values
        with pytest.raises(ServiceError) as zero_grant:
            await grant_credits(s, user_id=user_id, amount=0)
        with pytest.raises(ServiceError) as backwards:
            await grant_credits(
                s, user_id=user_id, amount=1, starts_at=NOW, expires_at=NOW
            )
        with pytest.raises(ServiceError) as zero_debit:
            await debit_credits(s, user_id=user_id, amount=0)
        with pytest.raises(ServiceError) as negative_refund:
            await refund_credits(s, user_id=user_id, amount=-1)
        nothing = await refund_credits(s, user_id=user_id, amount=0)
    # then each names the field, the rule and what it got; a zero refund is no row
    assert (zero_grant.value.field, zero_grant.value.code) == (
        "amount",
        ErrorCode.OUT_OF_RANGE,
    )
    assert zero_grant.value.message == "amount must be at least 1; got 0"
    assert (backwards.value.field, backwards.value.code) == (
        "expires_at",
        ErrorCode.OUT_OF_RANGE,
    )
    assert zero_debit.value.message == "amount must be at least 1; got 0"
    assert negative_refund.value.message == "amount must be at least 0; got -1"
    assert nothing is None
    assert await ledger(db, user_id) == {}


async def test_debiting_an_unknown_account_is_not_found(db) -> None:
    # given no such account
    # when it is debited
    with pytest.raises(ServiceError) as missing:
        await debit(db, uuid.uuid4(), 1)
    # then the refusal says so
    assert missing.value.code is ErrorCode.NOT_FOUND


# --- free credits -------------------------------------------------------------------


def test_the_free_credit_policy_reads_the_settings() -> None:
    # given settings with their own free-credit numbers
    config = Settings(
        free_signup_credits=20,
        free_topup_amount=5,
        free_topup_interval_hours=6,
        free_topup_cap=30,
    )
    # when a policy is built from them
    policy = FreeCreditPolicy.from_settings(config)
    # then it carries each value
    assert policy == FreeCreditPolicy(
        signup=20, amount=5, interval=timedelta(hours=6), cap=30
    )


async def test_sign_up_grants_free_credits_once_and_starts_the_clock(db) -> None:
    # given a new free account
    user_id = await new_user(db)
    # when the sign-up grant is made twice
    async with db.session() as s:
        first = await create_free_grant(s, user_id=user_id, policy=POLICY, now=NOW)
        second = await create_free_grant(s, user_id=user_id, policy=POLICY, now=NOW)
        user = await s.get(User, user_id)
    # then one never-expiring FREE row of 50 exists and the clock reads NOW
    assert first is not None
    assert (first.type, first.amount, first.expires_at) == (CreditType.FREE, 50, None)
    assert second is None
    assert await spendable(db, user_id) == 50
    assert user is not None
    assert user.free_topup_at == NOW
    assert next_free_topup_at(user, POLICY) == NOW + 12 * HOUR


async def test_after_twelve_hours_a_free_user_gets_ten_credits(db) -> None:
    # given a free user who spent 30 of the 50 sign-up credits
    user_id = await free_user_with_signup_credits(db)
    await debit(db, user_id, 30)
    # when a top-up runs just before and just after twelve hours
    early = await top_up(db, user_id, NOW + 12 * HOUR - timedelta(seconds=1))
    due = await top_up(db, user_id, NOW + 13 * HOUR)
    # then only the second adds 10, and the clock keeps the spare hour
    assert (early, due) == (0, 10)
    assert await spendable(db, user_id, NOW + 13 * HOUR) == 30
    assert await top_up(db, user_id, NOW + 24 * HOUR) == 10


async def test_after_thirty_six_hours_three_top_ups_arrive_at_once(db) -> None:
    # given a free user who spent everything
    user_id = await free_user_with_signup_credits(db)
    await debit(db, user_id, 50)
    # when the next top-up runs 36 hours later
    added = await top_up(db, user_id, NOW + 36 * HOUR)
    # then three intervals' worth arrives
    assert added == 30
    assert await spendable(db, user_id, NOW + 36 * HOUR) == 30


async def test_top_ups_never_push_the_balance_above_the_cap(db) -> None:
    # given a free user with 30 of the 50 credits left
    user_id = await free_user_with_signup_credits(db)
    await debit(db, user_id, 20)
    # when 36 hours pass (30 credits due)
    added = await top_up(db, user_id, NOW + 36 * HOUR)
    # then only 20 arrive, filling the balance to 50
    assert added == 20
    assert await spendable(db, user_id, NOW + 36 * HOUR) == 50


async def test_a_full_balance_gets_nothing_but_the_clock_moves_on(db) -> None:
    # given a free user still holding all 50 credits
    user_id = await free_user_with_signup_credits(db)
    # when a top-up falls due
    added = await top_up(db, user_id, NOW + 12 * HOUR)
    # then nothing is added and the next top-up is twelve hours further on
    async with db.session() as s:
        user = await s.get(User, user_id)
    assert added == 0
    assert user is not None
    assert next_free_topup_at(user, POLICY) == NOW + 24 * HOUR
    assert len(await ledger(db, user_id)) == 1


async def test_a_paid_account_gets_no_free_top_up(db) -> None:
    # given a paid account with a clock and no credits left
    user_id = await new_user(db, Tier.PRO)
    async with db.session() as s:
        await create_free_grant(s, user_id=user_id, policy=POLICY, now=NOW)
    await debit(db, user_id, 50)
    # when days pass
    added = await top_up(db, user_id, NOW + 72 * HOUR)
    # then nothing is added and no next top-up is shown
    async with db.session() as s:
        user = await s.get(User, user_id)
    assert added == 0
    assert await spendable(db, user_id, NOW + 72 * HOUR) == 0
    assert user is not None
    assert next_free_topup_at(user, POLICY) is None
