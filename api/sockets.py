"""Open websockets and their tokens: a revoked token's sockets close within seconds.

A websocket authenticates once, at connection_init, and may then stay open for
hours. Revocation can happen anywhere (this process, another API process, the
CLI), so each API process checks its own sockets: every few seconds, one query
for all the tokens they hold. A socket whose token was revoked, or whose account
is gone, is closed with 4403 (graphql-transport-ws "Forbidden"); closing it ends
its running subscriptions, and a new connection with that token is refused at
connection_init as before.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from core.db import Database
from core.tokens import active_token_ids
from resolvers.context import Context

log = logging.getLogger("darkroom.api")

FORBIDDEN = 4403  # graphql-transport-ws "Forbidden", also what a bad token gets


class SocketRegistry:
    """The websockets this process holds open, by the context that authenticated them."""

    def __init__(self, db: Database, *, interval: float) -> None:
        self.db = db
        self.interval = interval
        # Keyed by id(): contexts are unhashable dataclasses. Entries leave at
        # the first check after their socket closed, so nothing else tracks it.
        self._open: dict[int, Context] = {}

    def add(self, context: Context) -> None:
        """Track an authenticated websocket until it closes."""
        self._open[id(context)] = context

    async def check(self) -> None:
        """Close every open socket whose token no longer authenticates."""
        self._open = {k: c for k, c in self._open.items() if _is_open(c.request)}
        # Sockets that connect while the query runs wait for the next check.
        checked = list(self._open.items())
        held = {c.caller.token.id for _, c in checked if c.caller}
        if not held:
            return
        async with self.db.session() as session:
            active = await active_token_ids(session, token_ids=held)
        for key, context in checked:
            caller = context.caller
            if caller is None or caller.token.id in active:
                continue
            # Refuse anything that races the close on this connection.
            context.caller = None
            self._open.pop(key, None)
            await _close(context.request, code=FORBIDDEN, reason="Forbidden")

    async def close_all(self, code: int, reason: str) -> int:
        """Close every open socket (a stopping server's last word); how many."""
        open_now = [c for c in self._open.values() if _is_open(c.request)]
        self._open.clear()
        for context in open_now:
            await _close(context.request, code=code, reason=reason)
        return len(open_now)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Check every `interval` seconds for as long as the block runs."""
        task = asyncio.create_task(self._watch(), name="revocation-check")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # a database hiccup must not end the watch
                log.exception("checking websocket tokens failed; retrying")


def _is_open(connection: object) -> bool:
    return (
        isinstance(connection, WebSocket)
        and connection.client_state is not WebSocketState.DISCONNECTED
        and connection.application_state is not WebSocketState.DISCONNECTED
    )


async def _close(connection: object, *, code: int, reason: str) -> None:
    if not isinstance(connection, WebSocket):
        return
    # The client may be leaving at this very moment; either way it is closed.
    with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
        await connection.close(code=code, reason=reason)
