"""Fixed-window rate limits: points spent per window, kept in Redis or in memory.

Each subject (a token, a client IP, an account's job creations) has a counter per
window of `window_seconds`, numbered from the epoch, so every caller's window resets
at the same instant. A spend that would pass the limit is refused and not counted,
so a refused request costs nothing and retrying after `reset_at` succeeds.
"""

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import ErrorCode, ServiceError

log = logging.getLogger(__name__)

PREFIX = "darkroom"
RATE_LIMIT = PREFIX + ":ratelimit:{subject}:{window}"

Clock = Callable[[], float]


def token_subject(token_id: object) -> str:
    """The points bucket of one API token."""
    return str(token_id)


def client_subject(address: str) -> str:
    """The points bucket shared by anonymous requests from one client address."""
    return f"ip:{address}"


def create_subject(user_id: object) -> str:
    """The bucket counting one account's job-creating mutations."""
    return f"create:{user_id}"


@dataclass(frozen=True)
class Quota:
    """A budget of `limit` points per fixed window of `window_seconds`."""

    limit: int
    window_seconds: int

    def window(self, now: float) -> int:
        """The number of the window containing `now` (seconds since the epoch)."""
        return int(now // self.window_seconds)

    def reset_at(self, now: float) -> datetime:
        """When the window containing `now` ends."""
        end = (self.window(now) + 1) * self.window_seconds
        return datetime.fromtimestamp(end, UTC)


@dataclass(frozen=True)
class LimitState:
    """A bucket after a spend (or a look): what was charged and what is left."""

    limit: int
    used: int
    cost: int
    reset_at: datetime
    allowed: bool = True

    @property
    def remaining(self) -> int:
        """Points left in this window."""
        return max(0, self.limit - self.used)

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window resets (at least 1)."""
        return max(1, math.ceil(self.reset_at.timestamp() - now))


class RateLimited(ServiceError):  # noqa: N818  # reads as a refusal, like ServiceError
    """A spend was refused; `retry_after` seconds until the bucket resets."""

    def __init__(self, state: LimitState, *, now: float, what: str) -> None:
        self.state = state
        self.retry_after = state.retry_after(now)
        super().__init__(
            ErrorCode.RATE_LIMITED,
            f"{what} limit of {state.limit} per window reached ({state.used} used, "
            f"this request needs {state.cost}); retry after {self.retry_after} s "
            f"at {state.reset_at.isoformat()}",
        )


class RateLimiter(Protocol):
    """Spends points from fixed-window buckets."""

    clock: Clock

    async def spend(self, subject: str, quota: Quota, cost: int) -> LimitState:
        """Charge `cost` points unless that passes the limit; say what is left."""
        ...

    async def peek(self, subject: str, quota: Quota) -> LimitState:
        """The bucket's state without charging it."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


async def spend_or_raise(
    limiter: RateLimiter, subject: str, quota: Quota, cost: int, *, what: str
) -> LimitState:
    """Charge the bucket, raising RateLimited when the spend is refused."""
    state = await limiter.spend(subject, quota, cost)
    if not state.allowed:
        raise RateLimited(state, now=limiter.clock(), what=what)
    return state


class MemoryRateLimiter:
    """Buckets in this process: the embedded default, with no Redis."""

    def __init__(self, clock: Clock = time.time, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._used: dict[str, tuple[float, int]] = {}  # key -> (window end, used)
        # The app may serve from several threads (TestClient, sync tools).
        self._lock = threading.Lock()

    async def spend(self, subject: str, quota: Quota, cost: int) -> LimitState:
        """Charge `cost` points unless that passes the limit; say what is left."""
        now = self.clock()
        key = RATE_LIMIT.format(subject=subject, window=quota.window(now))
        reset = quota.reset_at(now)
        with self._lock:
            if len(self._used) >= self.max_keys:
                self._forget_ended(now)
            used = self._used.get(key, (0.0, 0))[1]
            if used + cost > quota.limit:
                return LimitState(quota.limit, used, cost, reset, allowed=False)
            used += cost
            self._used[key] = (reset.timestamp(), used)
        return LimitState(quota.limit, used, cost, reset)

    async def peek(self, subject: str, quota: Quota) -> LimitState:
        """The bucket's state without charging it."""
        now = self.clock()
        key = RATE_LIMIT.format(subject=subject, window=quota.window(now))
        with self._lock:
            used = self._used.get(key, (0.0, 0))[1]
        return LimitState(quota.limit, used, 0, quota.reset_at(now))

    async def aclose(self) -> None:
        """Nothing to release."""

    def _forget_ended(self, now: float) -> None:
        for key in [k for k, (end, _) in self._used.items() if end <= now]:
            del self._used[key]


# Check and increment in one step, so concurrent API processes never overspend.
_SPEND = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if used + cost > tonumber(ARGV[2]) then
  return {0, used}
end
used = redis.call('INCRBY', KEYS[1], cost)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, used}
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every API process."""

    def __init__(self, redis: "Redis", clock: Clock = time.time) -> None:
        self.redis = redis
        self.clock = clock
        self._spend = redis.register_script(_SPEND)

    @classmethod
    def from_url(cls, url: str, clock: Clock = time.time) -> "RedisRateLimiter":
        """A limiter on the Redis at `url`."""
        return cls(Redis.from_url(url), clock)

    async def spend(self, subject: str, quota: Quota, cost: int) -> LimitState:
        """Charge `cost` points unless that passes the limit; say what is left."""
        now = self.clock()
        key = RATE_LIMIT.format(subject=subject, window=quota.window(now))
        reset = quota.reset_at(now)
        # Keep the key a little past its window so a slow clock still finds it.
        ttl = math.ceil(reset.timestamp() - now) + 60
        allowed, used = await self._spend(keys=[key], args=[cost, quota.limit, ttl])
        return LimitState(quota.limit, int(used), cost, reset, allowed=bool(allowed))

    async def peek(self, subject: str, quota: Quota) -> LimitState:
        """The bucket's state without charging it."""
        now = self.clock()
        key = RATE_LIMIT.format(subject=subject, window=quota.window(now))
        raw = await self.redis.get(key)
        return LimitState(quota.limit, int(raw or 0), 0, quota.reset_at(now))

    async def aclose(self) -> None:
        """Close the Redis connections."""
        await self.redis.aclose()


# What a Redis that is away raises (redis-py wraps socket errors in these).
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
# A limiter call waits at most this long for Redis before counting it as away:
# every request spends points, so a silent Redis must not hold them all up.
REDIS_TIMEOUT_SECONDS = 1.0
# After a failure, requests skip Redis this long before trying it again, so an
# outage costs one refused connection a second rather than one per request.
RETRY_REDIS_AFTER_SECONDS = 1.0


class FallbackRateLimiter:
    """Redis's shared buckets, or this process's own while Redis is away.

    A Redis outage must not fail requests that need no Redis (a read of one's
    history): while it lasts each API process counts on its own, so N processes
    admit up to N times a limit; back on Redis, the shared counts hold again.
    """

    def __init__(
        self,
        shared: RedisRateLimiter,
        local: MemoryRateLimiter | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.shared = shared
        self.local = local or MemoryRateLimiter(clock)
        self.clock = clock
        self._away_since: float | None = None
        self._next_try = 0.0

    @property
    def redis_is_away(self) -> bool:
        """True while the last attempt on Redis failed."""
        return self._away_since is not None

    async def spend(self, subject: str, quota: Quota, cost: int) -> LimitState:
        """Charge `cost` points unless that passes the limit; say what is left."""
        if self._should_try_redis():
            try:
                state = await self.shared.spend(subject, quota, cost)
            except REDIS_DOWN as err:
                self._failed(err)
            else:
                self._ok()
                return state
        return await self.local.spend(subject, quota, cost)

    async def peek(self, subject: str, quota: Quota) -> LimitState:
        """The bucket's state without charging it."""
        if self._should_try_redis():
            try:
                state = await self.shared.peek(subject, quota)
            except REDIS_DOWN as err:
                self._failed(err)
            else:
                self._ok()
                return state
        return await self.local.peek(subject, quota)

    async def aclose(self) -> None:
        """Close the Redis connections."""
        await self.shared.aclose()

    def _should_try_redis(self) -> bool:
        return self._away_since is None or time.monotonic() >= self._next_try

    def _failed(self, err: BaseException) -> None:
        now = time.monotonic()
        if self._away_since is None:
            self._away_since = now
            log.warning(
                "rate limits: Redis is unavailable (%s); counting in this process "
                "until it is back",
                err,
            )
        self._next_try = now + RETRY_REDIS_AFTER_SECONDS

    def _ok(self) -> None:
        if self._away_since is not None:
            away = time.monotonic() - self._away_since
            log.info("rate limits: Redis is back after %.1f s; shared again", away)
            self._away_since = None


def open_rate_limiter(redis_url: str) -> RateLimiter:
    """Redis-backed limits (this process's own during an outage) when a Redis URL
    is set, in-process ones otherwise."""
    if redis_url:
        redis = Redis.from_url(
            redis_url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        return FallbackRateLimiter(RedisRateLimiter(redis))
    return MemoryRateLimiter()
