"""The credits ledger: grants, the spendable balance, debits, refunds, free top-ups."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from core.enums import CreditType, Tier
from core.errors import ErrorCode, ServiceError, ValidationFailed
from core.metrics import count_credits_on_commit
from core.models import CreditRow, User, utcnow
from core.settings import Settings

MAX_NOTE_LENGTH = 200  # the width of credit_ledger.note

# Refunds first (they give back what a failed job took), then whatever expires
# soonest, never-expiring rows last, and the oldest grant first on a tie; the id
# makes the order total, so every caller and every database agrees on it.
SPENDING_ORDER = (
    sa.case((col(CreditRow.type) == CreditType.REFUND, 0), else_=1),
    col(CreditRow.expires_at).is_(None),
    col(CreditRow.expires_at),
    col(CreditRow.created_at),
    col(CreditRow.id),
)


@dataclass(frozen=True)
class FreeCreditPolicy:
    """Free credits: a grant at sign-up, then `amount` per `interval` up to `cap`."""

    signup: int = 50
    amount: int = 10
    interval: timedelta = timedelta(hours=12)
    cap: int = 50

    @classmethod
    def from_settings(cls, settings: Settings) -> "FreeCreditPolicy":
        """Read the policy from the DARKROOM_FREE_* settings."""
        return cls(
            signup=settings.free_signup_credits,
            amount=settings.free_topup_amount,
            interval=timedelta(hours=settings.free_topup_interval_hours),
            cap=settings.free_topup_cap,
        )


async def lock_account(session: AsyncSession, *, user_id: uuid.UUID) -> User:
    """Hold the account's row until the transaction ends, so ledger writers queue;
    return it as it is now (its tier and top-up clock cannot change meanwhile)."""
    # FOR NO KEY UPDATE rather than FOR UPDATE: it still queues debits and
    # top-ups, but not inserts whose foreign key merely points at the user (a job
    # row inserted before the debit would otherwise deadlock two submissions).
    # SQLite renders no locking clause; its BEGIN IMMEDIATE already serialises.
    found: User | None = await session.scalar(
        sa.select(User)
        .where(col(User.id) == user_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no account {user_id}", "user_id")
    return found


async def grant_credits(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    amount: int,
    type: CreditType = CreditType.GRANT,  # noqa: A002  # named after the ledger column
    starts_at: datetime | None = None,
    expires_at: datetime | None = None,
    job_id: uuid.UUID | None = None,
    note: str = "",
    now: datetime | None = None,
) -> CreditRow:
    """Add a row of `amount` credits, spendable from `starts_at` (default now)."""
    now = _now(now)
    starts_at = now if starts_at is None else starts_at
    problems = [] if amount >= 1 else [_below("amount", 1, amount)]
    if expires_at is not None and expires_at <= starts_at:
        message = f"expires_at must be after starts_at {starts_at}; got {expires_at}"
        problems.append(ServiceError(ErrorCode.OUT_OF_RANGE, message, "expires_at"))
    if len(note) > MAX_NOTE_LENGTH:
        message = f"note must be at most {MAX_NOTE_LENGTH} characters; got {len(note)}"
        problems.append(ServiceError(ErrorCode.TOO_LONG, message, "note"))
    if problems:
        raise ValidationFailed(problems)
    row = CreditRow(
        user_id=user_id,
        type=type,
        amount=amount,
        remaining=amount,
        starts_at=starts_at,
        expires_at=expires_at,
        created_at=now,
        job_id=job_id,
        note=note,
    )
    session.add(row)
    await session.flush()
    return row


async def balance(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime | None = None
) -> int:
    """The credits spendable now: rows that have started and not yet expired."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(col(CreditRow.remaining)), 0)).where(
            *_in_force(user_id, _now(now))
        )
    )
    return int(total or 0)


async def credit_rows(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime | None = None
) -> list[CreditRow]:
    """The rows in force with credits left, in the order debits spend them."""
    rows = await session.scalars(
        sa.select(CreditRow)
        .where(*_in_force(user_id, _now(now)), col(CreditRow.remaining) > 0)
        .order_by(*SPENDING_ORDER)
        # Another transaction may have drawn rows this session loaded earlier.
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def upcoming_credits(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime | None = None
) -> int:
    """Credits granted but not yet started; shown apart from the balance."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(col(CreditRow.remaining)), 0)).where(
            col(CreditRow.user_id) == user_id, col(CreditRow.starts_at) > _now(now)
        )
    )
    return int(total or 0)


async def debit_credits(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    amount: int,
    now: datetime | None = None,
    locked: bool = False,
) -> list[tuple[uuid.UUID, int]]:
    """Spend `amount` credits over rows in spending order; return (row id, drawn).

    `locked` says the caller already holds the account lock in this transaction.
    """
    if amount < 1:
        raise _below("amount", 1, amount)
    now = _now(now)
    # Lock before reading, so a concurrent debit cannot spend what we are about to.
    if not locked:
        await lock_account(session, user_id=user_id)
    rows = await credit_rows(session, user_id=user_id, now=now)
    available = sum(row.remaining for row in rows)
    if available < amount:
        # Raised before any write, so a caller that catches it has changed nothing.
        raise ServiceError(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"needs {amount} credits; balance is {available}",
        )
    draws: list[tuple[CreditRow, int]] = []
    left = amount
    for row in rows:
        take = min(left, row.remaining)
        draws.append((row, take))
        left -= take
        if left == 0:
            break
    for row, take in draws:
        # The condition is a second guard behind the lock: remaining never goes
        # below zero even if some writer skipped lock_account.
        result = await session.execute(
            sa.update(CreditRow)
            .where(col(CreditRow.id) == row.id, col(CreditRow.remaining) >= take)
            .values(remaining=col(CreditRow.remaining) - take)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            # Earlier rows are already drawn: the exception must roll the
            # transaction back, which `async with db.session()` does.
            raise RuntimeError(f"credit row {row.id} changed under the account lock")
        set_committed_value(row, "remaining", row.remaining - take)
    count_credits_on_commit(session.sync_session, amount)
    return [(row.id, take) for row, take in draws]


async def refund_credits(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    amount: int,
    job_id: uuid.UUID | None = None,
    note: str = "",
    now: datetime | None = None,
) -> CreditRow | None:
    """Give credits back as a new, never-expiring REFUND row; nothing for 0."""
    if amount == 0:
        return None
    if amount < 0:
        raise _below("amount", 0, amount)
    return await grant_credits(
        session,
        user_id=user_id,
        amount=amount,
        type=CreditType.REFUND,
        job_id=job_id,
        note=note,
        now=now,
    )


async def create_free_grant(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    policy: FreeCreditPolicy,
    now: datetime | None = None,
) -> CreditRow | None:
    """Grant the sign-up credits once and start the top-up clock."""
    now = _now(now)
    user = await _get_user(session, user_id)
    # The clock doubles as the "already granted" mark: a second call finds it set
    # (even in a concurrent transaction) and grants nothing.
    if not await _move_clock(session, user, old=None, new=now):
        return None
    if policy.signup < 1:
        return None
    return await grant_credits(
        session,
        user_id=user_id,
        amount=policy.signup,
        type=CreditType.FREE,
        note="sign-up",
        now=now,
    )


async def top_up_free_credits(
    session: AsyncSession,
    *,
    user: User,
    policy: FreeCreditPolicy,
    now: datetime | None = None,
) -> int:
    """Apply the free top-ups due since the last one; return the credits added.

    `user` may be a little stale: its clock is moved by a conditional update on the
    value read, so if another caller moved it first, that caller added the credits.
    """
    now = _now(now)
    user_id = user.id
    last = user.free_topup_at
    # No clock means no sign-up grant yet; starting one here would block it.
    if user.tier is not Tier.FREE or last is None:
        return 0
    intervals = (now - last) // policy.interval
    if intervals < 1:
        return 0
    # Advance by whole intervals, not to `now`, so a partial interval still counts
    # towards the next top-up. The clock moves even at the cap: credits do not
    # pile up while the balance is full.
    if not await _move_clock(
        session, user, old=last, new=last + intervals * policy.interval
    ):
        return 0  # a concurrent caller applied these intervals
    # The conditional update holds the users row (PostgreSQL) like lock_account,
    # so the balance cannot change under us before the grant.
    room = policy.cap - await balance(session, user_id=user_id, now=now)
    added = max(0, min(intervals * policy.amount, room))
    if added:
        # A new FREE row per top-up rather than growing the sign-up row: rows are
        # append-only grants, so amount stays what was granted and each top-up is
        # visible in the ledger with its own time.
        await grant_credits(
            session,
            user_id=user_id,
            amount=added,
            type=CreditType.FREE,
            note="top-up",
            now=now,
        )
    return added


def next_free_topup_at(user: User, policy: FreeCreditPolicy) -> datetime | None:
    """When the next free top-up is due; None for paid tiers or before sign-up credits.

    It may lie in the past: top-ups are applied lazily, by top_up_free_credits.
    """
    if user.tier is not Tier.FREE or user.free_topup_at is None:
        return None
    return user.free_topup_at + policy.interval


def _now(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime given for now; use an aware UTC datetime")
    return now


def _in_force(user_id: uuid.UUID, now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    expires_at = col(CreditRow.expires_at)
    return (
        col(CreditRow.user_id) == user_id,
        col(CreditRow.starts_at) <= now,
        sa.or_(expires_at.is_(None), expires_at > now),
    )


async def _get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    # Reload: the clock may have moved in another transaction since it was cached.
    user = await session.get(User, user_id, populate_existing=True)
    if user is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no account {user_id}", "user_id")
    return user


async def _move_clock(
    session: AsyncSession, user: User, *, old: datetime | None, new: datetime
) -> bool:
    """Set the top-up clock if it still reads `old`; False if another caller won."""
    clock = col(User.free_topup_at)
    result = await session.execute(
        sa.update(User)
        .where(
            col(User.id) == user.id, clock.is_(None) if old is None else clock == old
        )
        .values(free_topup_at=new)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) == 0:
        return False
    set_committed_value(user, "free_topup_at", new)
    return True


def _rowcount(result: Result[Any]) -> int:
    # An UPDATE always yields a CursorResult; the ORM's signature says Result.
    return cast("CursorResult[Any]", result).rowcount


def _below(field: str, minimum: int, value: int) -> ServiceError:
    message = f"{field} must be at least {minimum}; got {value}"
    return ServiceError(ErrorCode.OUT_OF_RANGE, message, field)
