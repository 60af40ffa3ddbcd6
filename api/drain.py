"""A stopping server's drain: the seconds between SIGTERM and closing connections.

uvicorn, left alone, stops listening and closes every websocket with 1012 at
once, cutting subscribers off mid-job. Draining first, the server still answers,
but refuses new operations (HTTP 503 with Retry-After, a coded error for a new
subscription, /readyz 503 so a load balancer looks elsewhere), lets running
subscriptions reach their jobs' terminal events and in-process jobs finish, for
up to `drain_seconds`, then closes the sockets left with 1001 and a reason a
client can act on: reconnect (to another replica, or to this one restarted) and
follow the job on from its snapshot. Then uvicorn's own shutdown runs: the
in-flight HTTP requests finish, and an in-process job still running is handed
back to the queue (jobs/worker/inprocess.py).
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

from api.sockets import SocketRegistry

log = logging.getLogger("darkroom.api")

GOING_AWAY = 1001
GOING_AWAY_REASON = "server shutting down; reconnect to follow on"


class Drain:
    """The drain of one app: whether it began, and what it waits for."""

    def __init__(
        self,
        sockets: SocketRegistry,
        *,
        seconds: float,
        jobs_finished: Callable[[], Awaitable[None]],
    ) -> None:
        self.seconds = seconds
        self.draining = False
        self.finished = False
        self._sockets = sockets
        self._jobs_finished = jobs_finished
        self._operations = 0
        self._no_operations = asyncio.Event()
        self._no_operations.set()
        self._task: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def operation(self) -> Iterator[None]:
        """Count a websocket operation while it runs: the drain waits for it."""
        self._operations += 1
        self._no_operations.clear()
        try:
            yield
        finally:
            self._operations -= 1
            if not self._operations:
                self._no_operations.set()

    def begin(self) -> None:
        """Start draining (once); `finished` turns true when it is done."""
        if self._task is None:
            self.draining = True
            self._task = asyncio.create_task(self._run(), name="drain")

    async def _run(self) -> None:
        log.info(
            "draining: refusing new operations, waiting up to %.0f s for %d "
            "subscription(s) and the running jobs",
            self.seconds,
            self._operations,
        )
        try:
            async with asyncio.timeout(self.seconds):
                await asyncio.gather(self._no_operations.wait(), self._jobs_finished())
        except TimeoutError:
            log.warning(
                "drain: %d subscription(s) still running after %.0f s; closing them",
                self._operations,
                self.seconds,
            )
        except Exception:  # never let a failed wait keep the server from stopping
            log.exception("drain: waiting for the running work failed")
        closed = await self._sockets.close_all(GOING_AWAY, GOING_AWAY_REASON)
        log.info("drained: %d websocket(s) closed with %d", closed, GOING_AWAY)
        self.finished = True
