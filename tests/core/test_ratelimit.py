"""Fixed-window buckets on both backends: spending, refusing, resetting, separation."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from core.errors import ErrorCode
from core.ratelimit import (
    MemoryRateLimiter,
    Quota,
    RateLimited,
    RateLimiter,
    RedisRateLimiter,
    create_subject,
    spend_or_raise,
    token_subject,
)

T0 = 1_700_000_000.0  # 22:13:20 UTC: 800 s into an hour-long window


class FakeClock:
    """A settable clock, so windows can end inside a test."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def limiter(
    request: pytest.FixtureRequest, redis_url: str
) -> AsyncIterator[RateLimiter]:
    """A limiter on each backend (Redis flushed either way), with a fake clock."""
    clock = FakeClock()
    backend: RateLimiter
    if request.param == "memory":
        backend = MemoryRateLimiter(clock)
    else:
        backend = RedisRateLimiter.from_url(redis_url, clock)
    yield backend
    await backend.aclose()


HOURLY = Quota(limit=100, window_seconds=3600)


async def test_a_spend_lowers_remaining_by_exactly_its_cost(
    limiter: RateLimiter,
) -> None:
    # given a fresh hourly bucket of 100 points
    subject = token_subject("t1")
    # when a request spends 7 points
    state = await limiter.spend(subject, HOURLY, 7)
    # then 93 are left, and a look afterwards agrees without charging again
    assert (state.allowed, state.used, state.remaining, state.cost) == (
        True,
        7,
        93,
        7,
    )
    assert (await limiter.peek(subject, HOURLY)).remaining == 93
    assert (await limiter.peek(subject, HOURLY)).remaining == 93
    assert state.reset_at == datetime(2023, 11, 14, 23, 0, tzinfo=UTC)


async def test_a_spend_past_the_limit_is_refused_and_not_counted(
    limiter: RateLimiter,
) -> None:
    # given a bucket with 10 points left
    subject = token_subject("t2")
    await limiter.spend(subject, HOURLY, 90)
    # when a request needs 11
    refused = await limiter.spend(subject, HOURLY, 11)
    # then it is refused, the bucket is unchanged, and 10 still fit exactly
    assert not refused.allowed
    assert refused.used == 90
    assert (await limiter.spend(subject, HOURLY, 10)).remaining == 0
    assert not (await limiter.spend(subject, HOURLY, 1)).allowed


async def test_a_refusal_raises_rate_limited_with_the_seconds_until_reset(
    limiter: RateLimiter,
) -> None:
    # given an exhausted bucket, 800 s into its hour
    subject = token_subject("t3")
    await limiter.spend(subject, HOURLY, 100)
    # when one more point is asked for
    with pytest.raises(RateLimited) as caught:
        await spend_or_raise(limiter, subject, HOURLY, 1, what="points")
    # then the error says RATE_LIMITED and to retry in the remaining 2800 s
    assert caught.value.code == ErrorCode.RATE_LIMITED
    assert caught.value.retry_after == 2800
    assert "retry after 2800 s" in caught.value.message


async def test_a_new_window_starts_with_a_full_bucket(limiter: RateLimiter) -> None:
    # given an exhausted bucket
    subject = token_subject("t4")
    await limiter.spend(subject, HOURLY, 100)
    # when the clock passes the window's end
    limiter.clock.now = T0 + 2800  # type: ignore[attr-defined]  # FakeClock
    # then the full budget is back
    assert (await limiter.spend(subject, HOURLY, 1)).remaining == 99


async def test_job_creations_have_their_own_bucket_per_account(
    limiter: RateLimiter,
) -> None:
    # given an account that used its 2 creations this minute
    per_minute = Quota(limit=2, window_seconds=60)
    for _ in range(2):
        await limiter.spend(create_subject("u1"), per_minute, 1)
    # when it creates again, and its token reads, and another account creates
    third = await limiter.spend(create_subject("u1"), per_minute, 1)
    points = await limiter.spend(token_subject("u1-token"), HOURLY, 5)
    other = await limiter.spend(create_subject("u2"), per_minute, 1)
    # then only the third creation is refused; the other buckets are untouched
    assert not third.allowed
    assert third.retry_after(T0) == 40
    assert points.remaining == 95
    assert other.allowed


async def test_concurrent_spends_never_overspend(limiter: RateLimiter) -> None:
    # given a bucket of 100 points
    subject = token_subject("t5")
    # when 30 requests of 5 points race
    states = await asyncio.gather(
        *(limiter.spend(subject, HOURLY, 5) for _ in range(30))
    )
    # then exactly 20 get through and the bucket is exactly empty
    assert sum(s.allowed for s in states) == 20
    assert (await limiter.peek(subject, HOURLY)).used == 100


async def test_redis_keys_name_the_token_and_window_and_expire(
    redis_url: str,
) -> None:
    # given a Redis limiter at a known time
    limiter = RedisRateLimiter.from_url(redis_url, FakeClock())
    # when a token spends
    await limiter.spend(token_subject("abc"), HOURLY, 3)
    await limiter.aclose()
    # then its key is darkroom:ratelimit:{token}:{window} and expires after the window
    client = Redis.from_url(redis_url)
    key = f"darkroom:ratelimit:abc:{int(T0 // 3600)}"
    assert await client.get(key) == b"3"
    assert await client.ttl(key) > 0
    await client.aclose()
