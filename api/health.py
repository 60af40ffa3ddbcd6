"""Liveness and readiness: /healthz says the process answers; /readyz says it
can serve, checking the database, Redis, storage and that a worker is alive."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.drain import Drain
from jobs.presence import live_workers
from resolvers.context import Services

CHECK_TIMEOUT_SECONDS = 2  # each check; a probe must answer well within its own
PROBE_PREFIX = "health/"  # storage keys the probe writes and removes at once

Check = Callable[[], Awaitable[None]]


async def healthz(_request: Request) -> JSONResponse:
    """200 while the process answers; dependencies are /readyz's business."""
    return JSONResponse({"status": "alive"})


class Readiness:
    """The /readyz checks for one app; its Redis client is opened lazily and
    closed with the app."""

    def __init__(self, services: Services, drain: Drain) -> None:
        self.services = services
        self.drain = drain
        self._redis: Redis | None = None

    async def check(self, _request: Request) -> JSONResponse:
        """200 and `ready` when every check passes; 503 naming what is down, or
        `draining` once the server is stopping (send new work elsewhere)."""
        if self.drain.draining:
            return JSONResponse({"status": "draining", "checks": {}}, status_code=503)
        checks: dict[str, Check] = {
            "database": self.services.db.ping,
            "storage": self._storage,
            "worker": self._worker,
        }
        if self.services.settings.redis_url:
            checks["redis"] = self._redis_ping
        names = list(checks)
        outcomes = await asyncio.gather(*(_outcome(checks[n]) for n in names))
        results = dict(zip(names, outcomes, strict=True))
        ready = all(result == "ok" for result in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": results},
            status_code=200 if ready else 503,
        )

    async def _redis_ping(self) -> None:
        if self._redis is None:
            self._redis = Redis.from_url(
                self.services.settings.redis_url,
                socket_timeout=CHECK_TIMEOUT_SECONDS,
                socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
            )
        await self._redis.ping()

    async def _storage(self) -> None:
        storage = self.services.storage
        key = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
        await storage.put(key, b"ok", "text/plain")
        try:
            if await storage.get(key) != b"ok":
                raise RuntimeError("read back something else than was written")
        finally:
            await storage.delete(key)

    async def _worker(self) -> None:
        settings = self.services.settings
        async with self.services.db.session() as session:
            workers = await live_workers(
                session,
                seen_within=timedelta(seconds=settings.heartbeat_stale_seconds),
            )
        if not workers:
            stale = settings.heartbeat_stale_seconds
            raise RuntimeError(f"no worker reported itself in the last {stale:g} s")

    async def aclose(self) -> None:
        """Close the Redis client, if a check opened it."""
        if self._redis is not None:
            await self._redis.aclose()


async def _outcome(check: Check) -> str:
    """`ok`, or `down: ` and why."""
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"down: no answer within {CHECK_TIMEOUT_SECONDS} s"
    except Exception as err:  # any failure means not ready; say which
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return f"down: {reason[:200]}"
    return "ok"
