"""Riding out a Redis outage: which errors mean Redis is away, and how to wait.

Redis is the scale-out path's queue and event bus, never its record: the job
rows are. So every loop that talks to Redis (the worker's poll, a running job's
event publisher and cancel watch, the API's event reader) backs off and tries
again while Redis is away, and one-off writes (an event, an enqueue) retry for
a bounded time and then leave the rest to the repair paths: the sweeper
re-sends queued jobs, and event readers read a finished job's end from its row.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# What a lost or refused connection raises: redis-py wraps socket errors in these
# (BusyLoadingError, a restarted Redis still loading its data, is one too). Not
# OSError: the database's errors would pass for Redis's.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)

FIRST_DELAY_SECONDS = 0.1
# Short enough that work resumes within a second or so of Redis returning, long
# enough that a 30 s outage costs a few dozen refused connections, not thousands.
MAX_DELAY_SECONDS = 1.0
# How long a one-off write keeps trying before the repair paths take over.
PATIENCE_SECONDS = 60.0
# The longest any Redis read may take on the composition root's clients: past it,
# a connection that went silent without a reset (a partition, a NAT or load
# balancer that forgot it) counts as lost, and the loops above reconnect.
READ_TIMEOUT_SECONDS = 15.0


class Outage:
    """Backoff and logging for one thing that talks to Redis.

    One warning when Redis goes away and one line when it is back, however many
    attempts fail in between; waits double from 0.1 s up to 1 s.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._since: float | None = None
        self._delay = FIRST_DELAY_SECONDS

    @property
    def seconds(self) -> float:
        """How long Redis has been away, as seen from here; 0 while it is up."""
        return 0.0 if self._since is None else time.monotonic() - self._since

    async def failed(self, err: BaseException) -> None:
        """Note a failed attempt, then wait before the next one."""
        if self._since is None:
            self._since = time.monotonic()
            log.warning("%s: Redis is unavailable (%s); retrying", self.what, err)
        await asyncio.sleep(self._delay)
        self._delay = min(self._delay * 2, MAX_DELAY_SECONDS)

    def ok(self) -> bool:
        """Note a successful attempt; True when it ends an outage."""
        if self._since is None:
            return False
        log.info("%s: Redis is back after %.1f s", self.what, self.seconds)
        self._since, self._delay = None, FIRST_DELAY_SECONDS
        return True


async def retry_redis(
    op: Callable[[], Awaitable[object]], *, what: str, patience: float
) -> bool:
    """Run `op`, retrying while Redis is away for up to `patience` seconds.

    Returns False, with a warning, if it never succeeded; 0 means one attempt.
    """
    outage = Outage(what)
    while True:
        try:
            await op()
        except REDIS_DOWN as err:
            if outage.seconds >= patience:
                log.warning("%s: gave up without Redis (%s)", what, err)
                return False
            await outage.failed(err)
        else:
            outage.ok()
            return True
